"""Configuration from environment variables, with safe defaults.

Every setting is read once per process through :func:`get_settings`; tests build
their own :class:`Settings` and hand it to the app factory instead.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rasid.core.errors import ConfigError

SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}", field=name) from exc


def _bool_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}", field=name)


def load_or_create_secret(data_dir: Path) -> str:
    """Return the secret key stored in the data dir, creating it (mode 0600) if absent."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE_NAME
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if len(value) < 32:
            raise ConfigError(f"{path} holds a secret key shorter than 32 characters")
        return value
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build with :meth:`from_env` or directly in tests."""

    data_dir: Path
    database_url: str
    secret_key: str
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures_account: int = 5
    login_max_failures_address: int = 20
    login_failure_window_minutes: int = 15
    login_lockout_minutes: int = 15
    token_default_days: int = 90
    secure_cookies: bool = False
    default_language: str = "ar"
    timezone: str = "Asia/Aden"
    maritime_org: str = ""  # slug owning alerts of AIS ingests run without --as
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("RASID_DATA_DIR") or "./var").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = os.environ.get("RASID_DATABASE_URL") or f"sqlite:///{data_dir / 'rasid.db'}"
        secret = os.environ.get("RASID_SECRET_KEY") or load_or_create_secret(data_dir)
        if len(secret) < 32:
            raise ConfigError(
                "RASID_SECRET_KEY must be at least 32 characters", field="RASID_SECRET_KEY"
            )
        return cls(
            data_dir=data_dir,
            database_url=normalise_database_url(database_url),
            secret_key=secret,
            session_idle_minutes=_int_env("RASID_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_int_env("RASID_SESSION_ABSOLUTE_HOURS", 12),
            login_max_failures_account=_int_env("RASID_LOGIN_MAX_FAILURES_ACCOUNT", 5),
            login_max_failures_address=_int_env("RASID_LOGIN_MAX_FAILURES_ADDRESS", 20),
            login_failure_window_minutes=_int_env("RASID_LOGIN_FAILURE_WINDOW_MINUTES", 15),
            login_lockout_minutes=_int_env("RASID_LOGIN_LOCKOUT_MINUTES", 15),
            token_default_days=_int_env("RASID_TOKEN_DEFAULT_DAYS", 90),
            secure_cookies=_bool_env("RASID_SECURE_COOKIES", False),
            maritime_org=(os.environ.get("RASID_MARITIME_ORG") or "").strip().lower(),
        )


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
