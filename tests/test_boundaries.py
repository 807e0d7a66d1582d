"""The core stays UI-free and SQL stays in one module."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "data_hunter"


def test_core_imports_no_textual() -> None:
    code = (
        "import sys, data_hunter.engine, data_hunter.cli, data_hunter.render, data_hunter.demo;"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sql_text_lives_in_sql_module_only() -> None:
    pattern = re.compile(r"""["'](SELECT|WITH|INSERT|CREATE|DESCRIBE)\s""", re.IGNORECASE)
    allowed = {"sql.py", "demo.py"}  # demo.py writes the demo database the user asked for
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name not in allowed and pattern.search(p.read_text())
    ]
    assert offenders == []
