"""Settings come from the environment; a configuration the service cannot run with is refused
in one readable line that names the variable (gunicorn.conf.py prints it and exits)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from app.core.config import ConfigError, Settings, load_settings
from app.core.db import parse_database_url
from tests.support.server_process import ROOT, STRONG_KEY

PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": STRONG_KEY,
    "SMTP_HOST": "smtp.example.com",
}


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
        "JWT_SECRET_KEY",
        "FRONTEND_URL",
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
        ({"RATE_LIMIT_MESSAGES": "lots"}, "RATE_LIMIT_MESSAGES: Value error, 'lots' is not"),
        ({"RATE_LIMIT_REPORTS": "0/hour"}, "RATE_LIMIT_REPORTS: Value error"),
        ({"RATE_LIMIT_JOB_POSTS": "5/fortnight"}, "RATE_LIMIT_JOB_POSTS: Value error"),
        ({"EVENTS_HEARTBEAT_SECONDS": "0"}, "EVENTS_HEARTBEAT_SECONDS"),
        ({"EVENTS_MAX_STREAMS": "0"}, "EVENTS_MAX_STREAMS"),
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


def test_env_example_copied_to_dot_env_is_a_working_configuration(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    settings = load_settings()  # reads ./.env: the fixture made tmp_path the working directory

    assert settings.environment == "development"
    assert settings.allowed_origin_regex is not None
    assert re.fullmatch(settings.allowed_origin_regex, "https://hiremebahamas-git-x.vercel.app")
    # The example servers are commented out: the embedded (or given) database and no Redis.
    assert settings.database_url is None
    assert settings.migration_database_url is None
    assert settings.redis_url is None
    examples = _example_keys()
    assert parse_database_url(examples["DATABASE_URL"]).pgbouncer  # Neon's -pooler endpoint
    assert parse_database_url(examples["MIGRATION_DATABASE_URL"]).pgbouncer is False


PRODUCTION_WITH_ORIGIN = {**PRODUCTION, "ALLOWED_ORIGINS": "https://hiremebahamas.com"}


def test_old_names_are_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        JWT_SECRET_KEY=STRONG_KEY,
        FRONTEND_URL="https://hiremebahamas.com, https://www.hiremebahamas.com",
    )
    assert settings.secret_key == STRONG_KEY
    assert settings.allowed_origins == [
        "https://hiremebahamas.com",
        "https://www.hiremebahamas.com",
    ]


def test_current_names_win_over_the_old_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        SECRET_KEY=STRONG_KEY,
        JWT_SECRET_KEY="the-old-one-" + "x" * 30,
        ALLOWED_ORIGINS="https://new.example",
        FRONTEND_URL="https://old.example",
    )
    assert settings.secret_key == STRONG_KEY
    assert settings.allowed_origins == ["https://new.example"]


def test_production_with_the_old_names_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(
        monkeypatch,
        ENVIRONMENT="production",
        JWT_SECRET_KEY=STRONG_KEY,
        FRONTEND_URL="https://hiremebahamas.com",
        SMTP_HOST="smtp.example.com",
    )
    assert settings.is_production


@pytest.mark.parametrize(
    "key",
    [
        secrets.token_urlsafe(32),
        secrets.token_urlsafe(48),
        secrets.token_hex(32),
        STRONG_KEY,
    ],
    # Named by kind, not by the random value: pytest-xdist workers must collect the same ids.
    ids=["urlsafe-32", "urlsafe-48", "hex-32", "fixed"],
)
def test_production_accepts_generated_keys(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    assert _load(monkeypatch, **{**PRODUCTION_WITH_ORIGIN, "SECRET_KEY": key}).secret_key == key


@pytest.mark.parametrize(
    "key",
    [
        "a" * 32,
        "ab" * 24,
        "password" + "0" * 24,
        "supersecretpasswordsupersecretpw",
        "correcthorsebatterystaple1234567",
    ],
)
def test_production_refuses_guessable_keys(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY looks guessable"):
        _load(monkeypatch, **{**PRODUCTION_WITH_ORIGIN, "SECRET_KEY": key})


def test_a_weak_key_is_fine_outside_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _load(monkeypatch, SECRET_KEY="a" * 32).secret_key == "a" * 32


def test_production_refuses_the_default_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in PRODUCTION_WITH_ORIGIN.items() if k != "ALLOWED_ORIGINS"}
    with pytest.raises(ConfigError, match="must name the frontend's origin"):
        _load(monkeypatch, **env)
    with pytest.raises(ConfigError, match="must name the frontend's origin"):
        _load(monkeypatch, **env, ALLOWED_ORIGINS="http://localhost:3000")


def test_production_refuses_to_start_without_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in PRODUCTION_WITH_ORIGIN.items() if k != "SMTP_HOST"}
    monkeypatch.delenv("SMTP_HOST", raising=False)
    with pytest.raises(ConfigError, match="SMTP_HOST must be set in production"):
        _load(monkeypatch, **env)


def test_frontend_url_must_be_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTEND_URL", "javascript:alert(1)")
    with pytest.raises(ConfigError, match="FRONTEND_URL"):
        load_settings()
    monkeypatch.setenv("FRONTEND_URL", "https://hiremebahamas.com/")
    assert load_settings().link_base == "https://hiremebahamas.com"


def test_links_go_to_the_first_frontend_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    both = "https://hiremebahamas.com, https://www.hiremebahamas.com"
    assert _load(monkeypatch, FRONTEND_URL=both).link_base == "https://hiremebahamas.com"
    monkeypatch.delenv("FRONTEND_URL")
    assert _load(monkeypatch, ALLOWED_ORIGINS="https://a.example").link_base == "https://a.example"
