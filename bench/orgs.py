"""Benchmark the organizations pages of a tenant with 10,000 orgs nested 8 deep.

    .venv/bin/python bench/orgs.py [--orgs 10000] [--database-url URL] [--rounds 50]

The target (from the issue): the tree page, expanding a node, the search, an org
dashboard and the switcher each answer in under 30 ms (median, warm, single process)
and make a number of SQL queries that does not grow with the tree.

By default it builds a fresh temporary SQLite file; ``--database-url`` points it at an
empty database instead (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``),
where it creates the schema and leaves the data behind. It seeds the demo tenant, a small
generated tree (100 orgs) and counts each page's queries there, then grows the tenant to
``--orgs`` and measures again, signed in as the tenant owner through Flask's test client.
It prints a Markdown table and writes it to bench/results/orgs-<database>.md. The exit
code is 0 even when a target is missed: this is a report; look for "MISSED".
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
from collections import defaultdict
from dataclasses import dataclass

import _common  # bench/_common.py: query log, schema, sign-in, report (puts app on the path)
import sqlalchemy as sa
from _common import HTMX, TARGET_MS, WARMUP, QueryLog, csrf_token, sign_in
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db
from app.models import Membership, Organization, Tenant, User
from app.policy import Role
from app.seed import bulk, demo

SMALL_ORGS = 100  # the small tree the query counts are compared against
OWNER_MEMBERSHIPS = 50  # direct memberships of the owner, so the switcher has a real list
SEARCH_TEXT = "unit"  # matches about one generated org in eleven ("North Unit 123")


# --- the data --------------------------------------------------------------------------


@dataclass
class Tree:
    """One generated tree: each org's depth (1 = top level) and number of children."""

    rows: list[sa.Row]
    depth: dict[int, int]
    children: dict[int, int]

    def pick(self, depth: int) -> sa.Row:
        """The org at ``depth`` with the most children (the first such, by id)."""
        candidates = [row for row in self.rows if self.depth[row.id] == depth]
        return max(candidates, key=lambda row: self.children[row.id])


def grow(tenant: Tenant, orgs: int) -> Tree:
    """Bulk-insert ``orgs`` orgs (a tree 8 deep at the top level) with 2 members each."""
    before = db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0
    bulk.grow_tenant(tenant, orgs=orgs, members=orgs * 2, seed=before)
    rows = db.session.execute(
        sa.select(Organization.id, Organization.parent_id)
        .add_columns(Organization.slug, Organization.public_id)
        .where(Organization.id > before)
        .order_by(Organization.id)
    ).all()
    depth: dict[int, int] = {}
    children: dict[int, int] = defaultdict(int)
    for row in rows:  # parents come before their children
        depth[row.id] = depth[row.parent_id] + 1 if row.parent_id else 1
        if row.parent_id:
            children[row.parent_id] += 1
    return Tree(rows=rows, depth=depth, children=children)


def give_owner_memberships(tree: Tree, owner: User, count: int, must: sa.Row) -> None:
    """Direct memberships spread evenly over the tree (all depths), ``must`` included."""
    step = max(1, len(tree.rows) // count)
    chosen = {row.id for row in tree.rows[::step][: count - 1]} | {must.id}
    roles = (Role.ADMIN, Role.MEMBER, Role.VIEWER)
    db.session.add_all(
        Membership(org_id=org_id, user_id=owner.id, role=roles[n % len(roles)])
        for n, org_id in enumerate(sorted(chosen))
    )


@dataclass
class Page:
    name: str
    path: str
    htmx: bool = False


def pages_for(tree: Tree) -> tuple[list[Page], sa.Row]:
    """The five pages, on orgs of ``tree``; and the org the owner switches to."""
    expand = tree.pick(3)
    middle = tree.pick(bulk.MAX_DEPTH // 2)
    return [
        Page("tree page", "/t/acme/orgs/"),
        Page("expand a node", f"/t/acme/orgs/{expand.slug}/children?level=4", htmx=True),
        Page("search", f"/t/acme/orgs/?q={SEARCH_TEXT}", htmx=True),
        Page("org dashboard", f"/t/acme/orgs/{middle.slug}/"),
        Page("switcher", "/t/acme/orgs/switch", htmx=True),
    ], middle


# --- the requests ----------------------------------------------------------------------


def switch_to(client: FlaskClient, public_id: str) -> None:
    response = client.post(
        "/t/acme/orgs/switch",
        data={"org": public_id, "csrf_token": csrf_token(client, "/t/acme/orgs/")},
    )
    if response.status_code != 303:
        raise SystemExit(f"bench: switching org failed ({response.status_code})")


def fetch(client: FlaskClient, log: QueryLog, page: Page) -> tuple[float, list[tuple[str, float]]]:
    log.reset()
    started = time.perf_counter()
    response = client.get(page.path, headers=HTMX if page.htmx else None)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"bench: {page.path} answered {response.status_code}")
    return elapsed, log.statements


def query_count(client: FlaskClient, log: QueryLog, page: Page) -> int:
    for _ in range(2):  # the first request may connect and warm caches
        fetch(client, log, page)
    return len(fetch(client, log, page)[1])


@dataclass
class Result(_common.Samples):
    page: Page
    small_queries: int

    @property
    def problems(self) -> list[str]:
        found = []
        if self.median >= TARGET_MS:
            found.append(f"median ≥ {TARGET_MS:.0f} ms")
        if self.queries != self.small_queries or len(self.counts) > 1:
            found.append("queries grow with the tree")
        return found


def measure(client: FlaskClient, log: QueryLog, results: list[Result], rounds: int) -> None:
    _common.measure(lambda page: fetch(client, log, page), ((r.page, r) for r in results), rounds)


# --- the report ------------------------------------------------------------------------


def report(results: list[Result], facts: list[str], title: str) -> str:
    lines = [f"# {title}", "", *[f"- {fact}" for fact in facts], ""]
    lines += [
        f"| page | request | median ms | p95 ms | SQL ms | queries | at {SMALL_ORGS} orgs "
        f"| < {TARGET_MS:.0f} ms, constant queries |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        verdict = "pass" if not r.problems else "**MISSED**: " + ", ".join(r.problems)
        request = f"`{r.page.path}`" + (" (htmx)" if r.page.htmx else "")
        lines.append(
            f"| {r.page.name} | {request} | {r.median:.1f} | {r.p95:.1f} "
            f"| {statistics.median(r.sql_times):.1f} | {r.queries} | {r.small_queries} "
            f"| {verdict} |"
        )
    lines += ["", "Slowest statement of each page (median ms):", ""]
    for r in results:
        ms, text = r.slowest_statement(limit=10_000)
        lines.append(f"- {r.page.name}: {ms:.1f} ms `{text[:200]}{'…' if len(text) > 200 else ''}`")
    missed = [r.page.name for r in results if r.problems]
    lines += [
        "",
        f"MISSED: {', '.join(missed)}" if missed else "All pages meet the target.",
        "",
    ]
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------


def run(database_url: str, orgs: int, rounds: int) -> int:
    if orgs <= SMALL_ORGS or rounds < 1:
        raise SystemExit(f"bench: --orgs must be more than {SMALL_ORGS} and --rounds at least 1")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secrets.token_urlsafe(32)}
    )
    _common.create_schema(app)
    client = app.test_client()
    with app.app_context():
        log = QueryLog(db.engine)
        kind = db.engine.dialect.name

    print(f"Seeding the demo and {SMALL_ORGS} generated orgs…", flush=True)
    started = time.perf_counter()
    with app.app_context():
        demo.seed()
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))
        owner = db.session.scalar(sa.select(User).where(User.email == demo.DEMO_OWNER))
        small = grow(tenant, SMALL_ORGS)
        small_pages, small_home = pages_for(small)
        give_owner_memberships(small, owner, OWNER_MEMBERSHIPS // 10, small_home)
        db.session.commit()
    seconds = time.perf_counter() - started

    sign_in(client)
    switch_to(client, small_home.public_id)
    small_counts = [query_count(client, log, page) for page in small_pages]

    print(f"Growing the tenant by {orgs - SMALL_ORGS:,} orgs…", flush=True)
    started = time.perf_counter()
    with app.app_context():
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))
        owner = db.session.scalar(sa.select(User).where(User.email == demo.DEMO_OWNER))
        big = grow(tenant, orgs - SMALL_ORGS)
        pages, home = pages_for(big)
        give_owner_memberships(big, owner, OWNER_MEMBERSHIPS, home)
        db.session.commit()
        if kind == "postgresql":
            bulk.analyze()  # what autovacuum does after a bulk load
            db.session.commit()
        seconds += time.perf_counter() - started
        total_orgs = db.session.scalar(sa.select(sa.func.count()).select_from(Organization))
        total_members = db.session.scalar(sa.select(sa.func.count()).select_from(Membership))
        owner_orgs = db.session.scalar(
            sa.select(sa.func.count()).where(Membership.user_id == owner.id)
        )
        database = _common.describe_database(kind)

    switch_to(client, home.public_id)
    results = [Result(page, small) for page, small in zip(pages, small_counts, strict=True)]
    load = os.getloadavg()[0]
    print(f"Measuring {len(pages)} pages, {WARMUP} warm-up requests then {rounds} rounds…")
    measure(client, log, results, rounds)

    facts = [
        f"database: {database}"
        + (
            ""
            if kind == "sqlite"
            else ", ANALYZE and GIN pending lists merged after seeding (as autovacuum would)"
        ),
        f'data: tenant "acme" with {total_orgs:,} organizations (the demo company, then '
        f"generated trees 8 deep of {SMALL_ORGS} and {orgs - SMALL_ORGS:,}), "
        f"{total_members:,} memberships; the owner is a direct member of {owner_orgs} orgs",
        f"seeding took {seconds:.1f} s",
        f"method: Flask test client in one process, signed in as the tenant owner; "
        f"{WARMUP} warm-up requests per page, then {rounds} interleaved rounds",
        _common.machine(load),
        f"queries: per request at {orgs:,} generated orgs, and at the first {SMALL_ORGS} "
        "(same pages on the small tree); SQL ms: time inside cursor.execute() per request"
        + (" (a lower bound: SQLite fetches rows lazily)" if kind == "sqlite" else ""),
    ]
    text = report(results, facts, f"Organizations pages — {database.split(' (')[0]}")
    print()
    print(text)
    print(f"Written to {_common.write_results(text, f'orgs-{kind}')}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=10_000, help="generated orgs (10000)")
    parser.add_argument(
        "--database-url", help="an empty database to use (default: a temporary SQLite file)"
    )
    parser.add_argument("--rounds", type=int, default=50, help="measured requests per page (50)")
    args = parser.parse_args(argv)
    if args.database_url:
        return run(args.database_url, args.orgs, args.rounds)
    scratch = tempfile.mkdtemp(prefix="tenantry-bench-")
    try:
        return run(f"sqlite:///{scratch}/bench.db", args.orgs, args.rounds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
