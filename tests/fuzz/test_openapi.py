"""Schemathesis against the service's own OpenAPI document: every operation, called on the real
server anonymously and as each role, with valid and invalid input. No answer may be a 5xx, and
every answer must be one the document declares, in the declared content type and schema.

Each item runs in a small world as built (see world.py), so that ids like 1 name real objects
the caller owns. FUZZ_EXAMPLES sets the examples per operation and role (CI keeps it small; the
docs/resilience.md has the deeper command).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.config import Settings
from app.main import create_app
from tests.fuzz.world import ROLES, Actor
from tests.support.server_process import ServerProcess

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# CI replays the same draws every run (a red build means a change broke something); a deeper
# run asked for with FUZZ_EXAMPLES explores new ones each time.
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The document the server publishes, built in process (no I/O): the same code that the server
# runs; test_served_document_is_the_one_fuzzed checks that they agree.
DOCUMENT = create_app(Settings(_env_file=None, environment="test")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)

pytestmark = pytest.mark.slow


@pytest.fixture
def _empty_tables() -> None:
    """Instead of the suite's emptying after every test: the items share the world, which the
    `actor` fixture rebuilds when an item changed it (and empties at the end of the module)."""


def test_served_document_is_the_one_fuzzed(fuzz_server: ServerProcess) -> None:
    import httpx

    assert httpx.get(fuzz_server.url("/openapi.json")).json() == DOCUMENT


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_operation(case: schemathesis.Case, role: str, actor: Actor) -> None:
    case.call_and_validate(
        base_url=actor.base_url, headers=actor.headers, checks=CHECKS, timeout=30
    )
