"""The package order the README promises is what `python3 tasks.py lint` enforces: lint-imports
keeps the tree as it is and breaks on an import that goes up or closes a circle."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.server_process import ROOT

LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="needs the dev tools in .venv")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_tree_keeps_the_order(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_a_lower_package_importing_a_higher_one_breaks_the_lint(tree: Path) -> None:
    with (tree / "app" / "users" / "islands.py").open("a") as module:
        module.write("\nimport app.jobs.service  # noqa: E402\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "app.users is not allowed to import app.jobs" in result.stdout


def test_a_cycle_inside_a_package_breaks_the_lint(tree: Path) -> None:
    with (tree / "app" / "core" / "db" / "url.py").open("a") as module:
        module.write("\nimport app.core.db.engine  # noqa: E402\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "No cycles are allowed in app.core.db." in result.stdout
