"""Settings from the environment (pydantic-settings), validated once and cached."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment describes a configuration the service refuses to run with."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    app_name: str = "HireMeBahamas API"
    log_level: str = "INFO"
    enable_docs: bool | None = None

    secret_key: str = DEV_SECRET_KEY
    access_token_ttl_minutes: int = Field(15, ge=1, le=1440)
    refresh_token_ttl_days: int = Field(30, ge=1, le=365)
    jwt_issuer: str = "hiremebahamas-api"
    jwt_audience: str = "hiremebahamas-web"
    bcrypt_rounds: int = Field(12, ge=4, le=16)

    database_url: str | None = None
    migration_database_url: str | None = None
    db_pgbouncer: bool = False
    db_pool_size: int = Field(5, ge=1, le=100)
    db_max_overflow: int = Field(5, ge=0, le=100)
    db_read_pool_size: int = Field(5, ge=1, le=100)
    db_pool_timeout: float = Field(30, gt=0)
    db_pool_recycle: int = Field(300, ge=-1)
    db_connect_timeout: float = Field(5, gt=0)
    db_command_timeout: float = Field(30, gt=0)

    redis_url: str | None = None
    redis_timeout: float = Field(1.0, gt=0)

    allowed_origins: Annotated[list[str], NoDecode] = ["http://localhost:3000"]
    allowed_origin_regex: str | None = None
    trusted_proxies: Annotated[list[str], NoDecode] = ["127.0.0.1", "::1"]
    max_body_bytes: int = Field(1_048_576, ge=1024)
    health_check_timeout: float = Field(2.0, gt=0)

    # Email and the worker (issue 14). Without SMTP_HOST, development writes each email as a
    # .eml file under MAIL_DIR instead of sending it; production refuses to start without it.
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout: float = Field(10.0, gt=0)
    email_from: str = "HireMeBahamas <no-reply@hiremebahamas.com>"
    frontend_url: str = "http://localhost:3000"
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

    @field_validator("frontend_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value.strip()):
            raise ValueError("must be an http(s) base URL such as https://hiremebahamas.com")
        return value.strip().rstrip("/")

    @field_validator(
        "secret_key",
        "database_url",
        "migration_database_url",
        "redis_url",
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
        if "*" in self.allowed_origins:
            raise ValueError("ALLOWED_ORIGINS must list origins, not '*', in production")
        if not self.smtp_host:
            raise ValueError("SMTP_HOST must be set in production: email cannot be delivered")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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
