"""The locked dependency tree (requirements/*.txt, written by `python3 tasks.py lock`) agrees with
pyproject.toml: every requirement is met by a pinned version, every pin carries hashes (pip's
--require-hashes installs nothing else), and the dev lock holds every production pin as it is, so
what CI tests is what Render and the Docker image install. No network: the files as pip reads
them."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.server_process import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins(name: str) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of requirements/<name>.txt."""
    pins: dict[str, tuple[str, int]] = {}
    current = ""
    for raw in (ROOT / "requirements" / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line:
            continue
        if line.startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
            continue
        requirement = Requirement(line)
        [specifier] = requirement.specifier
        assert specifier.operator == "==", line
        current = canonicalize_name(requirement.name)
        pins[current] = (specifier.version, 0)
    return pins


PRODUCTION = _pins("production.txt")
DEV = _pins("dev.txt")


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (PRODUCTION, PYPROJECT["dependencies"]),
        (DEV, PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"]),
    ],
    ids=["production", "dev"],
)
def test_every_requirement_is_met_by_a_hashed_pin(
    lock: dict[str, tuple[str, int]], requirements: list[str]
) -> None:
    for text in requirements:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{text} is not in the lock: run `python3 tasks.py lock`"
        version, _ = lock[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{text} is not met by the locked {version}: run `python3 tasks.py lock`"
        )
    assert all(hashes for _, hashes in lock.values()), "a pin without hashes"


def test_the_dev_lock_holds_every_production_pin() -> None:
    assert {name: DEV.get(name) for name in PRODUCTION} == PRODUCTION
