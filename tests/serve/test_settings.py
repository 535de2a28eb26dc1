"""``ServerSettings``: the documented defaults, validation, the JSON round trip, and the CLI flags built from it."""
from __future__ import annotations

from dataclasses import fields

import pytest

from smartmod.cli import build_parser
from smartmod.serve import ServerSettings


def test_defaults_are_the_documented_limits():
    settings = ServerSettings()
    assert (settings.host, settings.port, settings.model, settings.workers) == ("127.0.0.1", 8000, "default", 1)
    assert (settings.max_body_bytes, settings.max_texts, settings.max_text_chars) == (1024 * 1024, 256, 20_000)


def test_cli_flags_default_to_the_settings_defaults():
    args = build_parser().parse_args(["serve"])
    assert ServerSettings(**{field.name: getattr(args, field.name) for field in fields(ServerSettings)}) == ServerSettings()


def test_cli_flags_set_every_setting():
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--model", "m", "--workers", "3",
                                      "--max-body-bytes", "10", "--max-texts", "2", "--max-text-chars", "5"])
    assert ServerSettings(**{field.name: getattr(args, field.name) for field in fields(ServerSettings)}) == ServerSettings(
        host="0.0.0.0", port=9000, model="m", workers=3, max_body_bytes=10, max_texts=2, max_text_chars=5)


def test_settings_round_trip_through_json():
    settings = ServerSettings(port=0, max_texts=3)
    assert ServerSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize("changes, message", [
    ({"port": 70000}, "port must be between 0 and 65535"),
    ({"workers": 0}, "workers must be a positive integer"),
    ({"max_body_bytes": -1}, "max_body_bytes must be a positive integer"),
    ({"max_text_chars": 1.5}, "max_text_chars must be a positive integer"),
])
def test_invalid_settings_raise_a_clear_error(changes, message):
    with pytest.raises(ValueError, match=message):
        ServerSettings(**changes)
