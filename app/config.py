"""Configuration read from the environment (and a `.env` file), per CONTRACT.md."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class ConfigError(RuntimeError):
    """The environment cannot produce a safe configuration; the message says why."""


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


def _is_debug() -> bool:
    return _env_bool("FLASK_DEBUG") or os.environ.get("FLASK_ENV") == "development"


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config: environment first, then explicit overrides (tests)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    overrides = dict(overrides or {})
    debug = bool(overrides.get("DEBUG", _is_debug()))
    testing = bool(overrides.get("TESTING", False))

    secret_key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret_key:
        if not (debug or testing):
            raise ConfigError(
                "SECRET_KEY is not set: set it in the environment or .env "
                "(only debug mode may run with a random one)"
            )
        # A fresh random key per start: debug sessions simply end at restart.
        secret_key = secrets.token_urlsafe(48)

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'tenantry.db'}"
    base_url = (os.environ.get("BASE_URL") or "").rstrip("/") or None
    allowed_hosts = [h.strip() for h in (os.environ.get("ALLOWED_HOSTS") or "").split(",")]

    config: dict[str, Any] = {
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BASE_URL": base_url,
        # Emailed links are built from BASE_URL; without it, from the request's own host,
        # which must then be one of ALLOWED_HOSTS (others get 400), never whatever Host a
        # client sends. With BASE_URL set, any host may ask (proxies), links don't change.
        "TRUSTED_HOSTS": [h for h in allowed_hosts if h]
        or (None if base_url else list(LOCAL_HOSTS)),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER")
        or "Tenantry <no-reply@localhost>",
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": "moving-window",
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT") or "10 per minute",
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT") or "600 per minute",
        "TOKEN_RATE_LIMIT": os.environ.get("TOKEN_RATE_LIMIT") or "30 per minute",
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        # Strict-Transport-Security on https answers, for deployments without a proxy that
        # adds it; 0 (the default) sends none.
        "HSTS_SECONDS": _env_int("HSTS_SECONDS", 0),
        # Cookies: HttpOnly and SameSite=Lax always; Secure whenever the request is https
        # (see app.web.security.SecureWhenHttpsSessionInterface) or when forced here.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": bool(base_url and base_url.startswith("https://")),
        "SESSION_COOKIE_NAME": "tenantry_session",
        # Bodies above this are refused with 413 before any form parsing.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 512 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": 25,
    }
    config.update(overrides)
    config["DEBUG"] = debug
    return config
