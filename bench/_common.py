"""What the benchmarks share: counting queries, an empty database, signing in, the report.

The scripts in bench/ import it by name (``import _common``): running ``bench/x.py`` puts
bench/ on ``sys.path``. It also puts the checkout on ``sys.path``, so ``app`` imports
whether or not the project is pip-installed into the venv.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import platform
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.extensions import db
from app.seed import demo

TARGET_MS = 30.0  # the target: a median under 30 ms, warm, one process
WARMUP = 5  # requests per page before any is timed
RESULTS = Path(__file__).resolve().parent / "results"
CSRF = re.compile(rb'"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true"}
BOOKKEEPING = re.compile(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", re.IGNORECASE)


# --- counting queries ------------------------------------------------------------------


class QueryLog:
    """Every statement the engine runs, with its time, since the last ``reset()``.

    Transaction bookkeeping (BEGIN, COMMIT, savepoints) is left out, as in
    tests/test_query_counts.py: SQLite's engine sends its own BEGIN, PostgreSQL's doesn't.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[tuple[str, float]] = []
        self._started = 0.0
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.statements = []

    def _before(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn, _cursor, statement, _params, _context, _executemany) -> None:
        if not BOOKKEEPING.match(statement):
            self.statements.append((statement, (time.perf_counter() - self._started) * 1000))


@dataclass(kw_only=True)
class Samples:
    """One page's (or request's) timings, SQL times and query counts over the rounds."""

    times: list[float] = field(default_factory=list)
    sql_times: list[float] = field(default_factory=list)
    counts: set[int] = field(default_factory=set)
    by_statement: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def record(self, elapsed: float, statements: list[tuple[str, float]]) -> None:
        self.times.append(elapsed)
        self.sql_times.append(sum(ms for _text, ms in statements))
        self.counts.add(len(statements))
        for text, ms in statements:
            self.by_statement[text].append(ms)

    @property
    def median(self) -> float:
        return median(self.times)

    @property
    def p95(self) -> float:
        return p95(self.times)

    @property
    def queries(self) -> int:
        return max(self.counts)

    def slowest_statement(self, limit: int = 10_000) -> tuple[float, str]:
        """The statement with the highest median time, and that median."""
        text, times = max(self.by_statement.items(), key=lambda item: statistics.median(item[1]))
        return statistics.median(times), short_sql(text, limit=limit)


def measure(
    fetch: Callable[[object], tuple[float, list[tuple[str, float]]]],
    results: Iterable[tuple[object, Samples]],
    rounds: int,
) -> None:
    """Warm every target up, then time ``rounds`` interleaved rounds over all of them, so
    background noise spreads over every page instead of landing on one."""
    results = list(results)
    for target, _samples in results:
        for _ in range(WARMUP):
            fetch(target)
    for _ in range(rounds):
        for target, samples in results:
            samples.record(*fetch(target))


def short_sql(text: str, limit: int = 200) -> str:
    """One line, the column list elided, at most ``limit`` characters."""
    text = re.sub(r"^SELECT .+? FROM ", "SELECT … FROM ", " ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def median(times: list[float]) -> float:
    return statistics.median(times)


# --- the database ----------------------------------------------------------------------


def create_schema(app: Flask) -> None:
    """Refuse a database that has tables; otherwise migrate it, as production does."""
    with app.app_context():
        try:
            tables = sa.inspect(db.engine).get_table_names()
        except sa.exc.OperationalError as exc:
            raise SystemExit(f"bench: cannot reach the database: {exc.orig}") from None
        if tables:
            raise SystemExit(
                f"bench: refusing to use {db.engine.url.render_as_string()}: it is not empty "
                f"({len(tables)} tables). Give it an empty database."
            )
        with contextlib.redirect_stderr(io.StringIO()):  # alembic logs every step
            upgrade()


def describe_database(kind: str) -> str:
    if kind == "sqlite":
        return f"SQLite {db.session.scalar(sa.text('select sqlite_version()'))} (file)"
    return f"PostgreSQL {db.session.scalar(sa.text('show server_version'))}"


# --- signing in ------------------------------------------------------------------------


def csrf_token(client: FlaskClient, path: str) -> str:
    match = CSRF.search(client.get(path).data)
    if match is None:
        raise SystemExit(f"bench: no CSRF token on {path}")
    return match.group(1).decode()


def sign_in(
    client: FlaskClient,
    login: str = f"/t/{demo.DEMO_TENANT_SLUG}/login",
    email: str = demo.DEMO_OWNER,
    password: str = demo.DEMO_PASSWORD,
) -> None:
    """Through the real form: the demo owner by default; ``/staff/login`` for staff."""
    response = client.post(
        login,
        data={"email": email, "password": password, "csrf_token": csrf_token(client, login)},
    )
    if response.status_code != 303:
        raise SystemExit(f"bench: signing in at {login} failed ({response.status_code})")


# --- the report ------------------------------------------------------------------------


def machine(load: float) -> str:
    return (
        f"machine: Python {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f} when "
        f"measuring began, {datetime.now(UTC):%Y-%m-%d}"
    )


def write_results(text: str, name: str, target: Path | None = None) -> Path:
    """Write ``bench/results/<name>.md`` (or ``target``) whole or not at all."""
    target = target or RESULTS / f"{name}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")  # bench/results/.gitignore ignores *.tmp
    partial.write_text(text)
    partial.replace(target)
    return target
