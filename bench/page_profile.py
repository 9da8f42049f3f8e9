"""Where one page's time goes: cProfile over many requests, in one process.

    make profile PAGE="members page"            # a page of bench/pages.py, by name
    make profile PAGE=/t/acme/orgs/acme/members # or any path the demo owner may open
    .venv/bin/python bench/page_profile.py --page NAME_OR_PATH [--requests 200]
                                      [--orgs 2000] [--members 20000] [--database-url URL]

It seeds a temporary SQLite database (or an empty ``--database-url``) with the demo and a
generated tree (``demo.seed(orgs_count=--orgs, members_count=--members)``), picks the same
orgs bench/pages.py measures, signs in through the real forms (as staff for ``/staff``
pages, with an API key for ``/api``), warms the page up, then profiles ``--requests``
requests with cProfile. The report (bench/results/profile-<page>.txt) has the time per
request, the share of the big parts (rendering, the ORM, the driver, the request's scope,
Flask and Werkzeug) and the functions sorted by their own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common
import pages
import sqlalchemy as sa
from _common import HTMX

from app import create_app
from app.actors import Actor
from app.extensions import db
from app.models import Organization, Tenant
from app.seed import demo
from app.services import api_keys

# Which part of the code a function belongs to, by its file: the first pattern that
# matches wins (cumulative time of the outermost call into each part).
PARTS = [
    ("templates (Jinja)", re.compile(r"jinja2/|\.html$|templates/")),
    ("ORM and Core (SQLAlchemy)", re.compile(r"sqlalchemy/")),
    ("database driver", re.compile(r"sqlite3|psycopg")),
    ("forms and CSRF (WTForms)", re.compile(r"wtforms/|flask_wtf/")),
    ("Flask, Werkzeug, sessions", re.compile(r"flask/|werkzeug/|itsdangerous/|flask_login/")),
]


def pick(name_or_path: str, targets: pages.Targets) -> pages.Page:
    known = pages.pages_for(targets)
    for page in known:
        if name_or_path in (page.name, page.path):
            return page
    if name_or_path.startswith("/"):
        who = pages.STAFF if name_or_path.startswith("/staff") else pages.OWNER
        who = pages.API if name_or_path.startswith("/api") else who
        return pages.Page(name_or_path, name_or_path, who)
    names = ", ".join(f'"{page.name}"' for page in known)
    raise SystemExit(f"bench: no page {name_or_path!r}: give a path or one of {names}")


def parts_of(stats: pstats.Stats, total: float) -> list[tuple[str, float]]:
    """Own time of each part's functions, as a share of the whole."""
    own: dict[str, float] = dict.fromkeys([name for name, _ in PARTS] + ["Tenantry (app/)"], 0.0)
    own["other"] = 0.0
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = f"{filename}:{function}"
        for name, pattern in PARTS:
            if pattern.search(where):
                own[name] += tottime
                break
        else:
            own["Tenantry (app/)" if "/app/" in filename else "other"] += tottime
    return [(name, seconds / total) for name, seconds in own.items()]


def run(database_url: str, args: argparse.Namespace) -> int:
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "profile",
        "DEBUG": False,
        "LOGIN_RATE_LIMIT": pages.UNLIMITED,
        "API_RATE_LIMIT": pages.UNLIMITED,
    }
    app = create_app(config)
    _common.create_schema(app)
    print(f"Seeding the demo, {args.orgs:,} orgs and {args.members:,} memberships…", flush=True)
    with app.app_context():
        demo.seed()
        first = (db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0) + 1
        demo.seed(orgs_count=args.orgs, members_count=args.members)
        last = db.session.scalar(sa.select(sa.func.max(Organization.id)))
        targets = pages.pick_targets(first, last)
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))
        api_key = api_keys.create_key(Actor.system("profile"), tenant, name="profile").secret
        db.session.commit()
        log = _common.QueryLog(db.engine)
    page = pick(args.page, targets)
    client = pages.InProcess(app, log, api_key)
    headers = {**(HTMX if page.htmx else {})}
    if page.who == pages.API:
        headers |= client.api_headers
    http = client.clients[page.who]

    def fetch() -> None:
        response = http.get(page.path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"bench: {page.path} answered {response.status_code}")

    for _ in range(20):
        fetch()
    started = time.perf_counter()
    for _ in range(args.requests):
        fetch()
    plain_ms = (time.perf_counter() - started) * 1000 / args.requests
    log.reset()
    fetch()
    queries = len(log.statements)

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        fetch()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt

    def table(order: str, limit: int) -> str:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(limit)
        return out.getvalue().split("\n", 4)[-1]  # drop pstats' own preamble

    lines = [
        f"Profile of {page.name}: GET {page.path}" + (" (htmx)" if page.htmx else ""),
        f"{args.requests} requests in one process (Flask test client, signed in as {page.who}); "
        f"{queries} SQL statements per request",
        f"data: the demo and demo.seed(orgs_count={args.orgs}, members_count={args.members}) on "
        f"{database_url.split(':')[0]}",
        f"per request: {plain_ms:.2f} ms without the profiler, "
        f"{total * 1000 / args.requests:.2f} ms under it",
        _common.machine(os.getloadavg()[0]),
        "",
        "Own time by part:",
        *(f"  {share:6.1%}  {name}" for name, share in parts_of(stats, total)),
        "",
        "By own time (tottime):",
        table("tottime", args.top),
        "By cumulative time:",
        table("cumulative", args.top),
    ]
    text = "\n".join(lines)
    slug = re.sub(r"[^a-z0-9]+", "-", page.name.lower()).strip("-")[:60]
    target = args.output or _common.RESULTS / f"profile-{slug}.txt"
    _common.write_results(text, slug, target)  # whole or not at all
    print("\n".join(lines[:13]))
    print(f"Written to {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", required=True, help="a page name of bench/pages.py or a path")
    parser.add_argument("--requests", type=int, default=200, help="profiled requests (200)")
    parser.add_argument("--orgs", type=int, default=2_000, help="generated orgs (2000)")
    parser.add_argument("--members", type=int, default=20_000, help="memberships (20000)")
    parser.add_argument("--top", type=int, default=40, help="functions in each table (40)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--output", type=Path, help="write the report here instead")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="tenantry-profile-"))
    try:
        return run(args.database_url or f"sqlite:///{scratch}/profile.db", args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
