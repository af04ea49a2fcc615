"""Settings from the environment (pydantic-settings), validated once and cached."""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production
MIN_SECRET_KEY_LENGTH = 32
# A production SECRET_KEY must look random, not merely be long: at least this many different
# characters, and at least this many bits by a Shannon estimate (bits per character from the
# key's own character frequencies, times its length). 32 repeats of one character score 0 bits,
# "password" padded with zeros ~48, "correcthorsebatterystaple1234567" ~128;
# secrets.token_urlsafe(32) scores ~210, token_hex(32) ~240, Render's generateValue ~215.
MIN_SECRET_KEY_DISTINCT_CHARS = 12
MIN_SECRET_KEY_ENTROPY_BITS = 160
DEFAULT_ALLOWED_ORIGINS = ["http://localhost:3000"]


_RATE_LIMIT = re.compile(
    r"\s*[1-9][0-9]*\s*(/|per)\s*([1-9][0-9]*\s*)?(second|minute|hour|day|month|year)s?\s*"
)


class ConfigError(RuntimeError):
    """The environment describes a configuration the service refuses to run with."""


def estimated_entropy_bits(secret: str) -> float:
    """Shannon entropy of the string's own character distribution, times its length."""
    counts = Counter(secret)
    total = len(secret)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values()) if total else 0.0
    return per_char * total


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    # populate_by_name: code and tests build Settings(secret_key=...) despite the aliases.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    environment: Literal["development", "test", "production"] = "development"
    app_name: str = "HireMeBahamas API"
    log_level: str = "INFO"
    # None: readable console lines in development, JSON lines otherwise.
    log_format: Literal["json", "console"] | None = None
    enable_docs: bool | None = None

    # JWT_SECRET_KEY and FRONTEND_URL are the old service's names; the first name set wins.
    secret_key: str = Field(
        DEV_SECRET_KEY, validation_alias=AliasChoices("SECRET_KEY", "JWT_SECRET_KEY")
    )
    access_token_ttl_minutes: int = Field(15, ge=1, le=1440)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)
    jwt_issuer: str = "hiremebahamas-api"
    jwt_audience: str = "hiremebahamas-web"
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    # The first wait of a sign-in to an account that keeps failing; it doubles with each further
    # failure, up to 16 times this (app/auth/attempts.py, login_delay).
    login_delay_seconds: float = Field(0.25, ge=0, le=2)

    database_url: str | None = None
    migration_database_url: str | None = None
    db_pgbouncer: bool = False
    # One worker's load rarely needs more than ten connections at once; an overflow connection
    # is closed as soon as it comes back to a pool holding DB_POOL_SIZE idle ones, so sustained
    # load above the pool size reconnects over and over: keep them all, overflow none.
    db_pool_size: int = Field(10, ge=1, le=100)
    db_max_overflow: int = Field(0, ge=0, le=100)
    db_pool_timeout: float = Field(30, gt=0)
    db_pool_recycle: int = Field(300, ge=-1)
    db_connect_timeout: float = Field(5, gt=0)
    db_ping_timeout: float = Field(2, gt=0)
    db_command_timeout: float = Field(30, gt=0)
    database_read_url: str | None = None
    db_read_pool_size: int = Field(10, ge=1, le=100)
    db_read_max_lag_seconds: float = Field(5, gt=0, le=3600)

    redis_url: str | None = None
    redis_timeout: float = Field(1.0, gt=0)

    allowed_origins: Annotated[list[str], NoDecode] = Field(
        DEFAULT_ALLOWED_ORIGINS, validation_alias=AliasChoices("ALLOWED_ORIGINS", "FRONTEND_URL")
    )
    allowed_origin_regex: str | None = None
    trusted_proxies: Annotated[list[str], NoDecode] = ["127.0.0.1", "::1"]
    max_body_bytes: int = Field(1_048_576, ge=1024)
    health_check_timeout: float = Field(2.0, gt=0)
    # Requests per minute per client address on /api/*, on top of the credential limits.
    rate_limit_per_minute: int = Field(100, ge=1, le=1_000_000)
    # Bearer token for /metrics (required in production) and /health/detailed's details.
    metrics_token: str | None = None

    # Files (app/files): unset STORAGE_URL keeps them on this machine's disk, under .data/.
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_public_url: str | None = None

    # Per-account write limits, in the `limits` library's notation ("30/hour", "5/minute").
    rate_limit_job_posts: str = "30/hour"
    rate_limit_applications: str = "30/hour"
    rate_limit_messages: str = "60/hour"
    rate_limit_reports: str = "10/hour"

    # Live events (GET /api/events).
    events_heartbeat_seconds: float = Field(15, gt=0, le=300)
    events_stream_max_seconds: float = Field(3600, gt=0)
    events_max_streams: int = Field(1000, ge=1)
    events_max_streams_per_user: int = Field(5, ge=1)

    # Email and the worker (issue 14). Without SMTP_HOST, development writes each email as a
    # .eml file under MAIL_DIR instead of sending it; production refuses to start without it.
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout: float = Field(10.0, gt=0)
    email_from: str = "HireMeBahamas <no-reply@hiremebahamas.com>"
    # The base of every link in an email; unset: the first of ALLOWED_ORIGINS.
    frontend_url: str | None = None
    mail_dir: str = ".data/mail"
    worker_concurrency: int = Field(4, ge=1, le=100)
    worker_stalled_seconds: float = Field(30.0, ge=2)

    @field_validator("allowed_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @field_validator("allowed_origin_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value or None

    @field_validator("storage_url")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("must be file:///a/folder or s3://bucket[/prefix]")
        if value and value.startswith("s3://") and not value[5:].strip("/"):
            raise ValueError("s3:// needs a bucket name")
        return value or None

    @field_validator(
        "rate_limit_job_posts",
        "rate_limit_applications",
        "rate_limit_messages",
        "rate_limit_reports",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        # A subset of what the `limits` library parses, never allowing nothing.
        if not _RATE_LIMIT.fullmatch(value):
            raise ValueError(f"{value!r} is not a rate limit such as '30/hour' or '5/15 minutes'")
        return value

    @field_validator("frontend_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        # FRONTEND_URL may list several origins (it is also ALLOWED_ORIGINS' old name): links
        # go to the first.
        value = (value or "").split(",")[0].strip()
        if not value:
            return None
        if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value.strip()):
            raise ValueError("must be an http(s) base URL such as https://hiremebahamas.com")
        return value.strip().rstrip("/")

    @field_validator(
        "secret_key",
        "database_url",
        "migration_database_url",
        "redis_url",
        "metrics_token",
        "database_read_url",
        "smtp_host",
        "smtp_username",
        "smtp_password",
    )
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().strip("'\"").strip()
        return value or None

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment != "production":
            return self
        if self.secret_key is None or self.secret_key == DEV_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set to a unique random value in production")
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters in production"
            )
        if (
            len(set(self.secret_key)) < MIN_SECRET_KEY_DISTINCT_CHARS
            or estimated_entropy_bits(self.secret_key) < MIN_SECRET_KEY_ENTROPY_BITS
        ):
            raise ValueError(
                "SECRET_KEY looks guessable (a repeated character or a padded word): in "
                f"production it needs {MIN_SECRET_KEY_DISTINCT_CHARS}+ different characters "
                f"and {MIN_SECRET_KEY_ENTROPY_BITS}+ bits of estimated entropy; generate one "
                "with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if "*" in self.allowed_origins:
            raise ValueError("ALLOWED_ORIGINS must list origins, not '*', in production")
        if self.allowed_origins == DEFAULT_ALLOWED_ORIGINS:
            raise ValueError(
                "ALLOWED_ORIGINS (or FRONTEND_URL) must name the frontend's origin in "
                f"production, not the development default {DEFAULT_ALLOWED_ORIGINS[0]}"
            )
        if not self.smtp_host:
            raise ValueError("SMTP_HOST must be set in production: email cannot be delivered")
        return self

    @property
    def link_base(self) -> str:
        """Where every link in an email points: FRONTEND_URL, else the first CORS origin."""
        return self.frontend_url or self.allowed_origins[0].rstrip("/")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def console_logs(self) -> bool:
        return self.log_format == "console" or (
            self.log_format is None and self.environment == "development"
        )

    @property
    def docs_enabled(self) -> bool:
        return self.enable_docs if self.enable_docs is not None else not self.is_production


def load_settings() -> Settings:
    """Read the environment; raise ConfigError with every problem in one readable line."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid configuration: {problems}") from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
