"""The layers hold: imports point down only (roof, bot, domain, nlp, ground), no package imports one of
its own layer, and only the Wechaty transport imports wechaty. The contracts are in pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold() -> None:
    # in a process of its own: import-linter configures logging, which would silence this session's loggers
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # sim/ is not installed: found from the checkout
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    run = subprocess.run(
        [sys.executable, "-c", code, "--config", "pyproject.toml", "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout and "0 broken" in run.stdout
