"""Tenantry's members page side by side with a bare Flask page and with Flask-Admin.

    .venv/bin/python bench/compare_members.py [--members 100000] [--database-url URL]
                                              [--rounds 3] [--duration 5] [--page 1000]

It seeds an empty database (a temporary SQLite file by default; ``--database-url`` for an
empty PostgreSQL database, which is left filled) with the demo and bench/members.py's
chain Root > Mid > Leaf, so Leaf has ``--members`` members direct and inherited. Then, in
one run, three apps under ``gunicorn -w 2`` each, on the same machine and database:

- Tenantry's members page of Leaf, signed in as the tenant owner;
- Flask-Admin's list view over the same memberships joined to users (bench/admin_members.py);
- the floor: bare Flask + Jinja rendering a 50-row members page from memory
  (bench/members_floor.py).

Each serves three pages: page 1, page ``--page`` (Tenantry's found by following its
rel="next" links from page 1 in one process; Flask-Admin's ``?page=`` counts from 0) and a
search for "okaf" (one surname in 40). bench/loadgen.py drives every page of every app
for ``--duration`` seconds with 8 connections, in ``--rounds`` alternating rounds (app by
app within a page, page by page within a round), so the machine's background falls on
all three alike. The report, bench/results/members-compare-<database>.md, gives each
one's requests per second and latency (medians over the rounds) and the ratios the issue
sets targets for: Tenantry ÷ Flask-Admin ≥ 4 on page 1, ≥ 3 on the deep page and ≥ 10
on the search; and Tenantry ÷ floor. Misses are marked MISSED; the exit code stays 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import _common  # bench/_common.py: query log, schema, sign-in, report (puts app on the path)
import flask_admin  # the load extra (pip install -e '.[load]')
import members as member_chain  # bench/members.py: the chain and its "okaf" search
import sqlalchemy as sa
from pages import BENCH, TENANT, UNLIMITED, Browser, Server, deep_path, load, serving

from app import create_app
from app.extensions import db
from app.models import Membership, Tenant, User
from app.seed import bulk, demo

TENANTRY, ADMIN, FLOOR = "Tenantry", "Flask-Admin", "floor"
APPS = (TENANTRY, ADMIN, FLOOR)
PAGE_SIZE = 50
SEARCH = member_chain.SEARCH_TEXT
# The targets for Tenantry's throughput ÷ Flask-Admin's, by page.
TARGETS = {"page 1": 4.0, "deep": 3.0, "search": 10.0}


@dataclass
class Row:
    """One page as each app serves it, and what driving it gave, round by round."""

    name: str
    target: float
    paths: dict[str, str]
    runs: dict[str, list[dict]] = field(default_factory=lambda: {app: [] for app in APPS})
    sizes: dict[str, int] = field(default_factory=dict)

    def rps(self, app: str) -> float:
        return statistics.median(run["rps"] for run in self.runs[app])

    def latency(self, app: str, which: str) -> float:
        return statistics.median(run[which] for run in self.runs[app])

    def ratio(self, app: str) -> float:
        theirs = self.rps(app)
        return self.rps(TENANTRY) / theirs if theirs else 0.0


def seed(members: int) -> tuple[member_chain.Chain, dict[str, int]]:
    demo.seed()
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))
    owner = db.session.scalar(sa.select(User).where(User.email == demo.DEMO_OWNER))
    chain = member_chain.build_chain(tenant, owner, "bench", members)
    db.session.commit()
    bulk.analyze()  # PostgreSQL: what autovacuum would do after the bulk load
    db.session.commit()
    facts = {
        "in_leaf": member_chain.in_leaf(chain),
        "matching": member_chain.in_leaf(chain, sa.func.lower(User.name).like(f"%{SEARCH}%")),
        "memberships": db.session.scalar(
            sa.select(sa.func.count()).where(Membership.org_id.in_(chain.ids))
        ),
        "admin_matching": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.org_id.in_(chain.ids),
                sa.or_(User.name.ilike(f"%{SEARCH}%"), User.email.ilike(f"%{SEARCH}%")),
            )
        ),
    }
    return chain, facts


def rows_for(members_path: str, deep: str, page: int) -> list[Row]:
    return [
        Row(
            "page 1",
            TARGETS["page 1"],
            {TENANTRY: members_path, ADMIN: "/admin/members/", FLOOR: "/members"},
        ),
        Row(
            f"page {page:,}",
            TARGETS["deep"],
            {
                TENANTRY: deep,
                ADMIN: f"/admin/members/?page={page - 1}",
                FLOOR: "/members?after=usr_0",
            },
        ),
        Row(
            f'search "{SEARCH}"',
            TARGETS["search"],
            {
                TENANTRY: f"{members_path}?q={SEARCH}",
                ADMIN: f"/admin/members/?search={SEARCH}",
                FLOOR: f"/members?q={SEARCH}",
            },
        ),
    ]


def drive(rows: list[Row], args, env: dict[str, str], scratch: Path, chain_ids) -> list[str]:
    """Start the three apps, check each page answers, then the rounds; returns the errors
    under load, if any."""
    servers = {
        TENANTRY: Server("tenantry", "wsgi:app", env, scratch, workers=args.workers),
        ADMIN: Server(
            "admin",
            "admin_members:app",
            {**env, "ADMIN_ORG_IDS": ",".join(map(str, chain_ids))},
            scratch,
            workers=args.workers,
            cwd=BENCH,
        ),
        FLOOR: Server("floor", "members_floor:app", env, scratch, workers=args.workers, cwd=BENCH),
    }
    with serving(*servers.values()):
        owner = Browser(servers[TENANTRY].port)
        owner.sign_in(f"{TENANT}/login", demo.DEMO_OWNER)
        for row in rows:
            for app in APPS:
                browser = owner if app == TENANTRY else Browser(servers[app].port)
                status, _headers, body = browser.get(row.paths[app])
                if status != 200:
                    raise SystemExit(f"bench: {app} answered {status} to {row.paths[app]}")
                if app == ADMIN and body.count(b'<td class="col-user.name">') != PAGE_SIZE:
                    raise SystemExit(f"bench: {row.paths[app]} does not show {PAGE_SIZE} rows")
                row.sizes[app] = len(body)
        headers = {TENANTRY: {"Cookie": owner.cookie_header}, ADMIN: {}, FLOOR: {}}
        for round_number in range(1, args.rounds + 1):
            print(f"Round {round_number} of {args.rounds}", flush=True)
            for row in rows:
                for app in APPS:
                    result = load(servers[app].port, row.paths[app], headers[app], args)
                    row.runs[app].append(result)
                    print(
                        f"  {row.name:<14} {app:<12} {result['rps']:>7.1f} rps, "
                        f"p50 {result['p50_ms']:>6.1f} ms, p95 {result['p95_ms']:>7.1f} ms",
                        flush=True,
                    )
    return [
        f"{app} on {row.name}: {run['errors']} errors of {run['requests']} ({run['first_error']})"
        for row in rows
        for app in APPS
        for run in row.runs[app]
        if run["errors"]
    ]


def report(rows: list[Row], facts: list[str], title: str, errors: list[str]) -> str:
    lines = [f"# {title}", "", *[f"- {fact}" for fact in facts], ""]
    lines += [
        "| page | app | request | rps | p50 ms | p95 ms | kB |",
        "|---|---|---|--:|--:|--:|--:|",
    ]
    for row in rows:
        for app in APPS:
            lines.append(
                f"| {row.name} | {app} | `{_short(row.paths[app])}` | {_rps(row.rps(app))} "
                f"| {row.latency(app, 'p50_ms'):.1f} | {row.latency(app, 'p95_ms'):.1f} "
                f"| {row.sizes[app] / 1000:.1f} |"
            )
    lines += [
        "",
        "| page | Tenantry ÷ Flask-Admin | target | Tenantry ÷ floor | rps by round "
        "(Tenantry / Flask-Admin / floor) |",
        "|---|--:|--:|--:|---|",
    ]
    missed = []
    for row in rows:
        ratio = row.ratio(ADMIN)
        verdict = "pass" if ratio >= row.target else "**MISSED**"
        if ratio < row.target:
            missed.append(row.name)
        by_round = "; ".join(
            " / ".join(_rps(row.runs[app][n]["rps"]) for app in APPS)
            for n in range(len(row.runs[TENANTRY]))
        )
        lines.append(
            f"| {row.name} | {ratio:.2f}× | ≥ {row.target:g}× {verdict} "
            f"| {row.ratio(FLOOR):.2f} | {by_round} |"
        )
    lines += [
        "",
        f"MISSED: {', '.join(missed)}" if missed else "Every page meets its target.",
        "",
    ]
    if errors:
        lines += ["Errors under load (these numbers are not valid):", ""]
        lines += [f"- {error}" for error in errors] + [""]
    return "\n".join(lines)


def _rps(value: float) -> str:
    """Whole requests per second, with a decimal when that is few (a loaded machine)."""
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _short(path: str, limit: int = 70) -> str:
    return path if len(path) <= limit else path[:limit] + "…"


def run(database_url: str, args: argparse.Namespace, scratch: Path) -> int:
    run_started = time.perf_counter()
    secret = secrets.token_urlsafe(32)
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secret,
        "DEBUG": False,
        "LOGIN_RATE_LIMIT": UNLIMITED,
        "API_RATE_LIMIT": UNLIMITED,
    }
    app = create_app(config)
    _common.create_schema(app)
    print(f"Seeding the demo and a chain of {args.members:,} members…", flush=True)
    started = time.perf_counter()
    with app.app_context():
        kind = db.engine.dialect.name
        chain, counted = seed(args.members)
        database = _common.describe_database(kind)
    seeding = time.perf_counter() - started

    members_path = f"{TENANT}/orgs/{chain.slugs[2]}/members"
    print(f"Finding Tenantry's page {args.page:,} by following its Next links…", flush=True)
    started = time.perf_counter()
    client = app.test_client()
    _common.sign_in(client)
    deep = deep_path(client, members_path, args.page)
    finding = time.perf_counter() - started
    rows = rows_for(members_path, deep, args.page)

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "FLASK_DEBUG": "0",
        "LOGIN_RATE_LIMIT": UNLIMITED,
        "API_RATE_LIMIT": UNLIMITED,
    }
    env.pop("FLASK_ENV", None)
    load_before = os.getloadavg()[0]
    errors = drive(rows, args, env, scratch, chain.ids)

    facts = [
        f"database: {database}"
        + ("" if kind == "sqlite" else ", ANALYZE and GIN pending lists merged after seeding"),
        f'data: tenant "acme" (the demo company, then bench/members.py\'s chain Root > Mid > '
        f"Leaf): Leaf has {counted['in_leaf']:,} members direct and inherited, from "
        f"{counted['memberships']:,} memberships in the chain (one in "
        f"{member_chain.ALSO_IN_ROOT} of Leaf's members also holds a role in Root); seeding "
        f"took {seeding:.1f} s",
        f"Tenantry: its members page of Leaf (`{members_path}`), full pages (no htmx), signed "
        f"in as the tenant owner; page {args.page:,} found in {finding:.0f} s by following "
        f'its rel="next" links from page 1; the search "{SEARCH}" matches '
        f"{counted['matching']:,} of Leaf's members",
        f"Flask-Admin {flask_admin.__version__} (bench/admin_members.py): a read-only "
        "`ModelView` of the chain's memberships joined to users, 50 a page, sorted by name, "
        "searched on name and email (each membership is a row, so a member who holds a role "
        f"in Root and in Leaf shows twice; its search matches {counted['admin_matching']:,} "
        f"rows); `?page={args.page - 1}` is its page {args.page:,}, counted from 0",
        "floor: bench/members_floor.py, bare Flask + Jinja rendering a 50-row members page "
        "from a list in memory (no database, session or permissions), the same for every page",
        f"method: `gunicorn -w {args.workers}` (sync workers) for each app, all three up at "
        f"once; bench/loadgen.py with {args.connections} connections drives each page of "
        f"each app for {args.warmup:g} s of warm-up then {args.duration:g} s counted, in "
        f"{args.rounds} alternating rounds; rps, p50 and p95 are medians over the rounds",
        _common.machine(load_before),
        f"the whole run took {time.perf_counter() - run_started:.0f} s",
    ]
    text = report(rows, facts, f"Members page, side by side — {database.split(' (')[0]}", errors)
    print()
    print(text)
    print(f"Written to {_common.write_results(text, f'members-compare-{kind}', args.output)}")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--members", type=int, default=100_000, help="members of the chain's Leaf (100000)"
    )
    parser.add_argument(
        "--database-url", help="an empty database to use (default: a temporary SQLite file)"
    )
    parser.add_argument("--page", type=int, default=1_000, help="the deep page (1000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds counted each (5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before counting (1)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (2)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (8)")
    parser.add_argument("--output", type=Path, help="write the report here instead")
    args = parser.parse_args(argv)
    if args.page < 2 or args.page * 50 > args.members or args.rounds < 1:
        raise SystemExit("bench: --page must be at least 2 and within --members / 50 pages")
    scratch = Path(tempfile.mkdtemp(prefix="tenantry-compare-"))
    try:
        return run(args.database_url or f"sqlite:///{scratch}/bench.db", args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
