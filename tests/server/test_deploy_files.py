"""The deploy files' commands, run as the platforms run them: Procfile, render.yaml,
docker-compose.yml and the Dockerfile (Docker itself is not needed to run their commands); and
render.yaml's Blueprint as Render reads it: one region, its own Key Value, locked builds, deploys
that wait for CI."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.support.server_process import ROOT, StartServer, free_port, server_env

RENDER_SERVICES = yaml.safe_load((ROOT / "render.yaml").read_text())["services"]
RENDER = RENDER_SERVICES[0]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
PROCFILE = dict(
    line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
)
DOCKERFILE = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")


def _dockerfile_instruction(name: str) -> str:
    lines = [line for line in DOCKERFILE.splitlines() if line.startswith(f"{name} ")]
    return lines[-1][len(name) + 1 :].strip()


START_COMMANDS = {
    "Procfile web": ["bash", "-c", "exec " + PROCFILE["web"].strip()],
    "render.yaml startCommand": ["bash", "-c", "exec " + RENDER["startCommand"]],
    "Dockerfile CMD": json.loads(_dockerfile_instruction("CMD")),
}
MIGRATE_COMMANDS = {
    "Procfile release": PROCFILE["release"].strip(),
    "render.yaml preDeployCommand": RENDER["preDeployCommand"],
    "docker-compose migrate": " ".join(COMPOSE["migrate"]["command"]),
}
# The Dockerfile's HEALTHCHECK runs in a shell; compose's api healthcheck is exec form.
HEALTHCHECKS = {
    "Dockerfile HEALTHCHECK": [
        "sh",
        "-c",
        re.sub(r"^(--\S+\s+)*CMD\s+", "", _dockerfile_instruction("HEALTHCHECK")),
    ],
    "docker-compose api": COMPOSE["api"]["healthcheck"]["test"][1:],
}


@pytest.mark.parametrize("name", START_COMMANDS)
def test_start_commands_boot_the_production_server(
    server_factory: StartServer, database_url: str, name: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url}, command=START_COMMANDS[name])
    server.wait_healthy()
    assert "Using worker: app.server.worker.UvicornWorker" in server.log()
    assert len(server.worker_pids()) == 1


def test_render_health_check_path_is_the_probe(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    server.wait_healthy()
    assert httpx.get(server.url(RENDER["healthCheckPath"])).json() == {"status": "ok"}


@pytest.mark.parametrize("name", MIGRATE_COMMANDS)
async def test_migrate_commands_use_the_direct_url(
    create_database: Callable[..., Any], name: str
) -> None:
    """DATABASE_URL names the pooler (here: nothing listening); MIGRATION_DATABASE_URL names
    the direct endpoint. The migration runs against the direct one."""
    fresh = await create_database(migrate=False)
    pooler = make_url(fresh).set(port=free_port()).render_as_string(hide_password=False)
    env = server_env({"DATABASE_URL": pooler, "MIGRATION_DATABASE_URL": fresh})
    result = subprocess.run(
        ["bash", "-c", MIGRATE_COMMANDS[name]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    dsn = make_url(fresh).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await conn.close()


@pytest.mark.parametrize("name", HEALTHCHECKS)
def test_container_healthchecks_pass_on_a_healthy_server_and_fail_without_one(
    server_factory: StartServer, database_url: str, name: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    server.wait_healthy()

    def check(port: int) -> int:
        env = server_env({"PORT": str(port)})
        return subprocess.run(
            HEALTHCHECKS[name], env=env, capture_output=True, timeout=30
        ).returncode

    assert check(server.port) == 0
    assert check(free_port()) != 0


LOCKED_BUILD = [
    "pip install --require-hashes -r requirements/production.txt",
    "pip install --no-deps .",
]


def test_render_builds_install_the_lock_and_deploy_after_checks_pass() -> None:
    python_services = [s for s in RENDER_SERVICES if s.get("runtime") == "python"]
    assert {s["type"] for s in python_services} == {"web", "worker"}
    for service in python_services:
        assert service["buildCommand"].split(" && ") == LOCKED_BUILD
        assert service["autoDeployTrigger"] == "checksPass"
        assert "autoDeploy" not in service
    # The image installs the same lock the same way.
    runs = [line.strip() for line in DOCKERFILE.splitlines() if line.startswith("RUN pip ")]
    assert [run.removeprefix("RUN ") for run in runs] == LOCKED_BUILD


def test_render_services_share_one_region_and_the_key_value_instance() -> None:
    assert {s["region"] for s in RENDER_SERVICES} == {"oregon"}
    [store] = [s for s in RENDER_SERVICES if s["type"] == "keyvalue"]
    assert store["ipAllowList"] == []  # the private network only
    assert store["maxmemoryPolicy"] == "noeviction"
    env = {var["key"]: var for var in RENDER["envVars"]}
    assert env["REDIS_URL"] == {
        "key": "REDIS_URL",
        "fromService": {"type": "keyvalue", "name": store["name"], "property": "connectionString"},
    }
