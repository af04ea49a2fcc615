"""Every variable the service reads is documented: docs/configuration.md's table and
.env.example name the same variables, and both name every one the code reads (the settings
model's fields and aliases, and what the Gunicorn configuration reads from the environment)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from app.core.config import Settings
from app.server.settings import server_settings

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)


class _Recording(Mapping[str, str]):
    """An empty environment that remembers every variable asked of it (`get` asks through
    `__getitem__`)."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _read_by_the_code() -> set[str]:
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        aliases = getattr(field.validation_alias, "choices", None) or [field_name]
        names.update(str(alias).upper() for alias in aliases)
    environ = _Recording()
    server_settings(environ)
    return names | environ.asked


def _documented() -> set[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


def _in_env_example() -> set[str]:
    return set(ASSIGNMENT.findall((ROOT / ".env.example").read_text()))


def test_every_variable_the_code_reads_is_in_the_configuration_page() -> None:
    missing = _read_by_the_code() - _documented()
    assert not missing, f"docs/configuration.md does not describe: {sorted(missing)}"


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    missing = _read_by_the_code() - _in_env_example()
    assert not missing, f".env.example does not list: {sorted(missing)}"


def test_the_configuration_page_and_env_example_list_the_same_variables() -> None:
    documented, example = _documented(), _in_env_example()
    assert documented == example, {
        "only in docs/configuration.md": sorted(documented - example),
        "only in .env.example": sorted(example - documented),
    }
