"""The pure core's lint check (scripts/check_pure_core.py, run by ``make lint``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.check_pure_core import ROOT, offences


def test_the_pure_core_imports_no_io_framework() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_pure_core.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_the_check_follows_imports_into_other_modules(tmp_path: Path) -> None:
    package = tmp_path / "convene_demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "core.py").write_text("import numpy\nfrom convene_demo import helper\n")
    (package / "helper.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import fastapi\n"
        "def later() -> None:\n    import httpx\n"
    )
    (package / "shell.py").write_text("from asyncpg import Pool\n")
    (package / "lazy.py").write_text("def __getattr__(name):\n    import asyncpg\n")
    found = offences(("convene_demo.core",), [tmp_path], tmp_path)
    assert found == [
        "convene_demo/helper.py:5: imports httpx (convene_demo.helper <- convene_demo.core)"
    ]
    (package / "helper.py").write_text("from .shell import Pool\nfrom . import lazy\n")
    found = offences(("convene_demo.core",), [tmp_path], tmp_path)
    assert found == [
        "convene_demo/shell.py:1: imports asyncpg"
        " (convene_demo.shell <- convene_demo.helper <- convene_demo.core)"
    ]
