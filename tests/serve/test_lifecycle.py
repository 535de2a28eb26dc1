"""Starting and stopping ``smartmod serve``: clean exit on SIGTERM, several workers, clear start-up errors."""
from __future__ import annotations

import subprocess
import sys

from tests.serve.conftest import RunningServer


def smartmod_serve(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartmod.cli", "serve", *options], capture_output=True, text=True, timeout=60)


def test_sigterm_shuts_down_gracefully_with_status_zero(tmp_path):
    server = RunningServer(tmp_path / "server.log")
    assert server.post_json("/v1/moderate", {"texts": ["hello"]}).status == 200
    assert server.stop() == 0
    log = server.log()
    assert "Shutting down" in log and "Finished server process" in log and "Traceback" not in log


def test_several_workers_serve_and_stop_cleanly(tmp_path):
    server = RunningServer(tmp_path / "server.log", "--workers", "2")
    try:
        assert server.post_json("/v1/moderate", {"texts": ["You are a worthless idiot, shut up."]}).json()["results"][0]["flagged"]
    finally:
        assert server.stop() == 0, server.log()
    assert "Traceback" not in server.log()


def test_a_missing_model_is_a_clear_error_before_listening(tmp_path):
    result = smartmod_serve("--model", str(tmp_path / "no-model"), "--port", "0")
    assert result.returncode == 2 and "no model directory" in result.stderr and "Traceback" not in result.stderr


def test_a_non_positive_limit_is_a_clear_error():
    result = smartmod_serve("--max-texts", "0")
    assert result.returncode == 2 and "max_texts must be a positive integer" in result.stderr
