"""No module of the apps over 400 lines, no function over 70 (docs/architecture.md).

A module that grows past it is split by concern (an entity, a step), not cut in half;
migrations are generated and exempt. Functions are measured from `def` to their last
line, decorators and docstring included.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "ledger", "licensing", "payouts")
MODULE_LINES_MAX = 400
FUNCTION_LINES_MAX = 70


def size_violations(root: Path) -> list[str]:
    """Each module or function of the apps under `root` that is too long, as `path: why`."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if "/migrations/" in relative:
                continue
            source = path.read_text()
            lines = source.count("\n")
            if lines > MODULE_LINES_MAX:
                found.append(f"{relative}: {lines} lines (at most {MODULE_LINES_MAX})")
            for node in ast.walk(ast.parse(source, filename=relative)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    length = (node.end_lineno or node.lineno) - first + 1
                    if length > FUNCTION_LINES_MAX:
                        found.append(
                            f"{relative}:{node.lineno}: {node.name} is {length} lines"
                            f" (at most {FUNCTION_LINES_MAX})"
                        )
    return found


def test_no_module_over_400_lines_and_no_function_over_70() -> None:
    assert size_violations(REPOSITORY) == []


def test_the_test_finds_a_long_module_and_a_long_function(tmp_path: Path) -> None:
    (tmp_path / "payouts" / "services").mkdir(parents=True)
    (tmp_path / "payouts" / "services" / "long.py").write_text("x = 1\n" * 401)
    body = "".join(f"    y{n} = {n}\n" for n in range(69))
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "posting.py").write_text(f"@staticmethod\ndef f():\n{body}")
    (tmp_path / "ledger" / "short.py").write_text(f"def g():\n{body}")
    (tmp_path / "licensing" / "migrations").mkdir(parents=True)
    (tmp_path / "licensing" / "migrations" / "0001_initial.py").write_text("x = 1\n" * 900)

    assert size_violations(tmp_path) == [
        "ledger/posting.py:2: f is 71 lines (at most 70)",
        "payouts/services/long.py: 401 lines (at most 400)",
    ]
