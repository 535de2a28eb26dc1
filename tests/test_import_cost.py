"""Scoring starts fast: what ``smartmod moderate`` and ``Moderator`` import stays light.

Every run of the CLI pays for its imports before the first text is scored; plotting
(matplotlib), the web stack (starlette, uvicorn), the optimizer of temperature fitting
(scipy.optimize), the explainers, and the image stack (Pillow, the image trainers) are imported
only by the commands that use them.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("matplotlib", "starlette", "uvicorn", "scipy.optimize", "scipy.special", "torch", "PIL", "smartmod.explain",
         "smartmod.vision.training", "smartmod.vision.datasets")


def imported_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("statement", [
    "from smartmod.moderation import Moderator; Moderator.load('default').moderate(['hi'])",
    "import smartmod.moderation.batch, smartmod.serve.settings, smartmod.cli",
    "from smartmod import cli; cli.main(['moderate', 'you idiot'])",  # the parser lists every command's options
])
def test_scoring_imports_no_plotting_and_no_web_stack(statement):
    assert not imported_after(statement) & set(HEAVY)


def test_the_serve_package_still_offers_its_names():
    assert {"starlette"} <= imported_after("from smartmod.serve import create_app, ServerSettings, run_server")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        import smartmod.serve

        smartmod.serve.nothing  # noqa: B018
