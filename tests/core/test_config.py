"""Settings come from the environment; a configuration the service cannot run with is refused
in one readable line that names the variable (gunicorn.conf.py prints it and exits)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.config import ConfigError, Settings, load_settings
from app.core.db import parse_database_url

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {"ENVIRONMENT": "production", "SECRET_KEY": "p" * 48, "SMTP_HOST": "smtp.example.com"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what each test sets: no variables from the test run, no .env file."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "ENVIRONMENT",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_ORIGINS",
        "ALLOWED_ORIGIN_REGEX",
        "TRUSTED_PROXIES",
        "ENABLE_DOCS",
    ):
        monkeypatch.delenv(name, raising=False)


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()


def test_lists_and_urls_are_read_as_operators_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        ALLOWED_ORIGINS=" https://hiremebahamas.com , https://www.hiremebahamas.com,",
        TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1",
        DATABASE_URL="  'postgres://u:p@h/db'  ",
        REDIS_URL='"redis://h:6379/0"',
        ENABLE_DOCS="false",
    )
    assert settings.allowed_origins == [
        "https://hiremebahamas.com",
        "https://www.hiremebahamas.com",
    ]
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    assert settings.database_url == "postgres://u:p@h/db"
    assert settings.redis_url == "redis://h:6379/0"
    assert settings.docs_enabled is False


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(monkeypatch, DATABASE_URL="", REDIS_URL="  ", ALLOWED_ORIGIN_REGEX="")
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.allowed_origin_regex is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "at least 32 characters"),
        ({**PRODUCTION, "ALLOWED_ORIGINS": "*"}, "not '*'"),
        ({"TRUSTED_PROXIES": "render-proxy"}, "TRUSTED_PROXIES: Value error, 'render-proxy'"),
        ({"ALLOWED_ORIGIN_REGEX": "https://(unclosed"}, "ALLOWED_ORIGIN_REGEX: Value error"),
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT: Input should be"),
        ({"DB_POOL_SIZE": "lots"}, "DB_POOL_SIZE"),
        ({"BCRYPT_ROUNDS": "40"}, "BCRYPT_ROUNDS"),
    ],
)
def test_unusable_configuration_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(monkeypatch, **env)
    text = str(caught.value)
    assert text.startswith("Invalid configuration: ")
    assert "\n" not in text
    assert message in text


def test_production_with_real_values_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(monkeypatch, **PRODUCTION, ALLOWED_ORIGINS="https://hiremebahamas.com")
    assert settings.is_production
    assert settings.docs_enabled is False


def _example_keys() -> dict[str, str]:
    """KEY=value pairs of .env.example, including the commented-out ones."""
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.removeprefix("# ").strip()
        key, sep, value = line.partition("=")
        if sep and key.isupper() and " " not in key:
            pairs[key] = value
    return pairs


def test_env_example_documents_every_setting() -> None:
    documented = set(_example_keys())
    assert {name.upper() for name in Settings.model_fields} <= documented


def test_env_example_copied_to_dot_env_is_a_working_configuration(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = load_settings()  # reads ./.env: the fixture made tmp_path the working directory

    assert settings.environment == "development"
    assert settings.allowed_origin_regex is not None
    assert re.fullmatch(settings.allowed_origin_regex, "https://hiremebahamas-git-x.vercel.app")
    target = parse_database_url(settings.database_url, pgbouncer=settings.db_pgbouncer)
    assert target.pgbouncer  # the example is Neon's -pooler endpoint
    assert parse_database_url(settings.migration_database_url).pgbouncer is False


def test_production_refuses_to_start_without_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    monkeypatch.delenv("SMTP_HOST", raising=False)
    with pytest.raises(ConfigError, match="SMTP_HOST must be set in production"):
        load_settings()


def test_frontend_url_must_be_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTEND_URL", "javascript:alert(1)")
    with pytest.raises(ConfigError, match="FRONTEND_URL"):
        load_settings()
    monkeypatch.setenv("FRONTEND_URL", "https://hiremebahamas.com/")
    assert load_settings().frontend_url == "https://hiremebahamas.com"
