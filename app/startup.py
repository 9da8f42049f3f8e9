"""Refusing to serve broken: the checks a server runs once, before it takes a request.

A missing ``SECRET_KEY`` (outside debug), a malformed ``DATABASE_URL``, a database that
can't be reached or one that isn't migrated to this code's schema each stop the whole
server with one line and a non-zero exit, under ``flask run`` and gunicorn alike
(gunicorn.conf.py runs them in the master, before any worker boots, so no worker is
restarted forever). Commands such as ``flask db upgrade`` don't run them: creating the
schema is their job.
"""

from __future__ import annotations

import sys
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.config import PROJECT_ROOT, ConfigError, load_config

# gunicorn stops its master when a worker exits with this status (WORKER_BOOT_ERROR);
# any other status just boots a new worker.
EXIT_CANNOT_START = 3
CONNECT_TIMEOUT_SECONDS = 5


class CannotStart(Exception):
    """Why this server must not start; the message is the one line an operator reads."""


def check_can_serve(overrides: dict[str, Any] | None = None) -> None:
    """Raise CannotStart unless the configuration and the database are ready to serve."""
    try:
        config = load_config(overrides)
    except ConfigError as exc:
        raise CannotStart(str(exc)) from None
    url = config["SQLALCHEMY_DATABASE_URI"]
    try:
        engine = sa.create_engine(url, **_connect_timeout(url))
    except (sa.exc.ArgumentError, ValueError, ImportError) as exc:
        raise CannotStart(f"DATABASE_URL is not a database URL this app can use ({exc})") from None
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise CannotStart(f"the database can't be reached: {reason}") from None
    finally:
        engine.dispose()
    expected = set(ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads())
    if current != expected:
        state = "is empty" if not current else "is at another schema version"
        raise CannotStart(f"the database {state}: run `flask --app wsgi db upgrade` first")


def _connect_timeout(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS}}
    return {}


def exit_unless_can_serve() -> None:
    """One line on stderr and the exit status that stops gunicorn's master too."""
    try:
        check_can_serve()
    except CannotStart as exc:
        sys.stderr.write(f"Tenantry cannot start: {exc}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_CANNOT_START) from None
