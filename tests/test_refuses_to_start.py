"""A server that can't work refuses to start, with one line and a non-zero exit, under
gunicorn (master included: no worker restart loop) and ``flask run`` (the trust issue's
item 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_SECONDS = 10


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "WERKZEUG_"))}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    env.update(values)
    return env


def _serve(kind: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    port = str(free_port())
    if kind == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
            "--control-socket", str(tmp_path / "gunicorn.ctl"), "wsgi:app",
        ]  # fmt: skip
    else:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", port]
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{kind} was still running after {DEADLINE_SECONDS} s: {exc.stderr}")
    assert time.monotonic() - started < DEADLINE_SECONDS
    return result


def _upgrade(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=_env(DATABASE_URL=url, SECRET_KEY="k" * 40),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def migrated_sqlite(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'ready.db'}"
    done = _upgrade(url)
    assert done.returncode == 0, done.stderr
    return url


@pytest.mark.parametrize("kind", ["gunicorn", "flask"])
def test_without_secret_key(kind, migrated_sqlite, tmp_path):
    result = _serve(kind, _env(DATABASE_URL=migrated_sqlite), tmp_path)
    assert result.returncode != 0
    assert "Tenantry cannot start: SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("kind", ["gunicorn", "flask"])
@pytest.mark.parametrize(
    ("database_url", "reason"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "can't be reached"),
        ("not a database url", "DATABASE_URL is not a database URL"),
        ("sqlite:///{tmp}/empty.db", "is empty: run `flask --app wsgi db upgrade` first"),
    ],
)
def test_with_a_database_it_cannot_use(kind, database_url, reason, tmp_path):
    env = _env(SECRET_KEY="k" * 40, DATABASE_URL=database_url.format(tmp=tmp_path))
    result = _serve(kind, env, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "Tenantry cannot start" in line]
    assert len(lines) == 1, result.stderr
    assert reason in lines[0]


def test_commands_that_make_the_schema_still_run(tmp_path):
    """`db upgrade` is how an empty database gets ready: the check is for serving only."""
    done = _upgrade(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert done.returncode == 0, done.stderr
