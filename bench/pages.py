"""Benchmark the main pages at scale: latency, SQL queries, and gunicorn throughput
measured against a floor (bare Flask + Jinja serving the same bytes, no database).

    .venv/bin/python bench/pages.py [--orgs 10000] [--members 100000] [--database-url URL]
                                    [--position 50000] [--rounds 30] [--duration 4] [--quick]

It seeds an empty database (a temporary SQLite file by default; ``--database-url``, or
``DATABASE_URL``, for an empty PostgreSQL database, which is left filled) with the demo
and a small generated tree (100 orgs), counts each page's queries there, then grows the
tenant with the app's own seeder, ``demo.seed(orgs_count=--orgs, members_count=--members)``
(10,000 orgs nested 8 deep, 100,000 memberships, 10,000 invitations, 40,000 audit events).
Then, for deep pages, it adds bench/members.py's chain Root > Mid > Leaf (Leaf with
twice ``--position`` members, direct and inherited) and one org with ``--position`` + 2%
invitations and as many audit events of its own (which also fill the tenant's log), and
finds, for the members, invitations, org and tenant audit log lists, the page that ends at
row ``--position`` (page 1,000 at 50 a page) by following each list's rel="next" links
from its first page, in one process. On orgs picked from the generated tree (a deep org
with many inherited members, a node with many children, …) and on those deep pages it
then measures, for each page:

1. median and p95 latency, warm, in one process with Flask's test client;
2. SQL queries per request, against the same page on the small tree;
3. requests per second through ``gunicorn -w 4``, driven by bench/loadgen.py, and the same
   for the floor (bench/floor.py) serving that page's captured response; the ratio says
   how close the page comes to Flask + Jinja with no database;
4. for a deep page, "÷ page 1": its median latency ÷ its list's first page's (and the
   first page's rps ÷ its own).

It prints a Markdown table and writes it to bench/results/pages-<database>.md (not with
``--quick``, which is a smoke run at small sizes, deep pages at row 1,000: ``--output``
writes it anywhere). The targets: a median under 30 ms, queries that do not grow with the
data, a ratio to the floor of ≥ 25% for HTML pages and ≥ 15% for API lists on SQLite (15%
and 10% on PostgreSQL), and ÷ page 1 ≤ 1.3; misses are marked MISSED and the exit code
stays 0.
"""

from __future__ import annotations

import argparse
import html
import http.client
import importlib
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import _common  # bench/_common.py: query log, schema, sign-in, report (puts app on the path)
import floor
import loadgen
import members as member_chain  # bench/members.py: the chain of 100,000 members
import sqlalchemy as sa
from _common import CSRF, HTMX, TARGET_MS, WARMUP, QueryLog
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.actors import Actor
from app.cli import PhaseProgress
from app.extensions import db
from app.models import AuditEvent, Invitation, Membership, Organization, OrgClosure, Tenant, User
from app.seed import bulk, demo
from app.services import api_keys

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SMALL_ORGS, SMALL_MEMBERS = 100, 1_000  # the small tree the query counts are compared with
QUICK = {
    "orgs": 500, "members": 5_000, "position": 1_000, "rounds": 5, "duration": 0.3, "warmup": 0.1,
    "workers": 2,
}  # fmt: skip
SMALL_POSITION = 500  # the deep pages of the small data, for their query counts
# The targets: throughput as a share of the floor's (SQLite, PostgreSQL), and a
# deep page's cost against its list's first page.
FLOOR_SHARE = {("html", "sqlite"): 0.25, ("html", "postgresql"): 0.15}
FLOOR_SHARE |= {("api", "sqlite"): 0.15, ("api", "postgresql"): 0.10}
DEEP_RATIO = 1.3
PORTS = range(18000, 19000)
UNLIMITED = "1000000 per minute"  # sign-in and API rate limits, which load would trip
OWNER, STAFF, API = "owner", "staff", "api key"
TENANT = f"/t/{demo.DEMO_TENANT_SLUG}"


# --- the pages -------------------------------------------------------------------------


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    public_id: str
    depth: int  # 1 = top level of its generated tree
    children: int
    count: int = 0  # what it was picked for: members, invitations or events


@dataclass(frozen=True)
class Targets:
    """The orgs (and search texts) of one generated tree that the pages are measured on."""

    expand: Org  # a node at depth 3 with the most children
    dashboard: Org  # a mid-level node (depth 4) with the most children
    members: Org  # a deepest org with the most direct and inherited members
    invitations: Org  # the org with the most invitations
    audit: Org  # the org with the most audit events of its own
    name_fragment: str  # part of a member's name
    name_matches: int  # of the members org's members
    email: str  # one member's whole address
    staff_query: str  # the start of a user's address, as support types it


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str  # OWNER, STAFF or API
    htmx: bool = False
    first: str = ""  # a deep page: the name of its list's first page, which it is set against

    @property
    def shown(self) -> str:
        how = {OWNER: "", STAFF: ", staff", API: ", API key"}[self.who]
        how = (", htmx" if self.htmx else "") + how
        return f"`{self.path}`" + (f" ({how[2:]})" if how else "")


def pages_for(t: Targets) -> list[Page]:
    members = f"{TENANT}/orgs/{t.members.slug}/members"
    return [
        Page("tree page", f"{TENANT}/orgs/", OWNER),
        Page(
            "expand a node",
            f"{TENANT}/orgs/{t.expand.slug}/children?level={t.expand.depth + 1}",
            OWNER,
            htmx=True,
        ),
        Page("org dashboard", f"{TENANT}/orgs/{t.dashboard.slug}/", OWNER),
        Page("members page", members, OWNER),
        Page("member search: name", f"{members}?q={quote(t.name_fragment)}", OWNER, htmx=True),
        Page("member search: email", f"{members}?q={quote(t.email)}", OWNER, htmx=True),
        Page("invitations page", f"{TENANT}/orgs/{t.invitations.slug}/invitations", OWNER),
        Page("org audit log", f"{TENANT}/orgs/{t.audit.slug}/audit", OWNER),
        Page("tenant audit log", f"{TENANT}/audit", OWNER),
        Page("staff search", f"/staff/search?q={quote(t.staff_query)}", STAFF, htmx=True),
        Page("API: orgs", "/api/v1/orgs?limit=100", API),
        Page("API: members", f"/api/v1/orgs/{t.members.public_id}/members?limit=100", API),
        Page(
            "API: invitations",
            f"/api/v1/orgs/{t.invitations.public_id}/invitations?limit=100",
            API,
        ),
        Page("API: users", "/api/v1/users?limit=100", API),
    ]


# --- deep pages: the same lists far from their start ---------------------------------------


@dataclass(frozen=True)
class DeepTargets:
    """Lists long enough to page deep into: a members chain, an org full of invitations
    and of its own audit events (which also fill the tenant's log)."""

    members: Org  # the chain's Leaf: every member of the chain, direct and inherited
    crowded: Org  # the org with ``count`` invitations and as many audit events of its own
    tenant_events: int


@dataclass(frozen=True)
class DeepList:
    label: str
    path: str  # its first page
    per_page: int
    first: str = ""  # an existing page that is already this list's first page


def _per_page(module: str) -> int:
    """A list's page size, from its routes (50 if it says nothing)."""
    try:
        return int(getattr(importlib.import_module(module), "PER_PAGE", 50))
    except ImportError:
        return 50


def _thousands(count: int) -> str:
    return f"{count // 1000:,}k" if count >= 10_000 else f"{count:,}"


def deep_lists(d: DeepTargets) -> list[DeepList]:
    crowded = f"{TENANT}/orgs/{d.crowded.slug}"
    events = _thousands(d.crowded.count)
    return [
        DeepList(
            f"members {_thousands(d.members.count)}",
            f"{TENANT}/orgs/{d.members.slug}/members",
            _per_page("app.web.org.members.routes"),
        ),
        DeepList(
            f"invitations {events}",
            f"{crowded}/invitations",
            _per_page("app.web.org.invitations.routes"),
        ),
        DeepList(f"org audit log {events}", f"{crowded}/audit", _per_page("app.web.audit.routes")),
        DeepList(
            "tenant audit log",
            f"{TENANT}/audit",
            _per_page("app.web.audit.routes"),
            first="tenant audit log",
        ),
    ]


NEXT_LINK = re.compile(rb"<a\b[^>]*>", re.IGNORECASE)


def next_link(body: bytes) -> str | None:
    """The href of the page's ``<a … rel="next" …>``, if it has one."""
    for tag in NEXT_LINK.findall(body):
        rel = re.search(rb"""\brel\s*=\s*["']?([^"'>]*)""", tag, re.IGNORECASE)
        href = re.search(rb"""\bhref\s*=\s*["']([^"']*)["']""", tag, re.IGNORECASE)
        if rel and href and b"next" in rel.group(1).lower().split():
            return html.unescape(href.group(1).decode())
    return None


def page_number(position: int, per_page: int) -> int:
    """The page that ends at row ``position`` (page 1,000 for 50,000 at 50 a page)."""
    return max(2, position // per_page)


def deep_path(client: FlaskClient, first: str, number: int) -> str:
    """The address of page ``number`` of the list at ``first``: found by following its
    rel="next" links, as a person would, so it works for any kind of paging token; a
    list still paged by ``?page=N`` is jumped straight to its page. It asks for the htmx
    fragment (less to render) when that has the link too."""
    headers = HTMX if next_link(client.get(first, headers=HTMX).data) else {}
    path = first
    for reached in range(1, number):
        response = client.get(path, headers=headers)
        found = next_link(response.data) if response.status_code == 200 else None
        if found is None:
            raise SystemExit(
                f"bench: {first} has no next page after page {reached} ({response.status_code})"
            )
        split = urlsplit(found)
        query = parse_qs(split.query)
        if reached == 1 and query.get("page") == ["2"]:
            query["page"] = [str(number)]
            return urlunsplit(split._replace(query=urlencode(query, doseq=True)))
        path = found
    return path


def deep_pages(client: FlaskClient, lists: list[DeepList], position: int) -> list[Page]:
    """For each list: its first page (unless measured already) and its page at
    ``position``, which is set against it."""
    found = []
    for one in lists:
        first = one.first or f"{one.label}, page 1"
        if not one.first:
            found.append(Page(first, one.path, OWNER))
        number = page_number(position, one.per_page)
        path = deep_path(client, one.path, number)
        found.append(Page(f"{one.label}, page {number:,}", path, OWNER, first=first))
    return found


def seed_deep(tenant: Tenant, owner: User, prefix: str, members: int, rows: int) -> DeepTargets:
    """The members chain of bench/members.py (``members`` of them in Leaf, direct and
    inherited) and one org with ``rows`` invitations and ``rows`` audit events, in bulk."""
    chain = member_chain.build_chain(tenant, owner, prefix, members)
    first = (db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0) + 1
    bulk.grow_tenant(
        tenant, orgs=1, members=400, invitations=rows, events=rows, seed=3,
    )  # fmt: skip
    crowded = db.session.get(Organization, first)
    leaf = db.session.get(Organization, chain.leaf_id)
    rows_of_crowded = min(
        _per_org(Invitation.org_id, first, first).get(first, 0),
        _per_org(AuditEvent.org_id, first, first).get(first, 0),
    )
    return DeepTargets(
        members=Org(leaf.id, leaf.slug, leaf.public_id, 3, 0, count=members_of(leaf.id)),
        crowded=Org(crowded.id, crowded.slug, crowded.public_id, 1, 0, count=rows_of_crowded),
        tenant_events=db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.tenant_id == tenant.id)
        ),
    )


def _per_org(column: sa.ColumnElement, first: int, last: int) -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(column, sa.func.count()).where(column.between(first, last)).group_by(column)
        ).all()
    )


def members_of(org_id: int, *conditions) -> int:
    """Distinct users holding a role in the org or above it (matching ``conditions``)."""
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Membership.user_id)))
        .join(OrgClosure, OrgClosure.ancestor_id == Membership.org_id)
        .join(User, User.id == Membership.user_id)
        .where(OrgClosure.descendant_id == org_id, *conditions)
    )


def pick_targets(first: int, last: int) -> Targets:
    """Realistic targets in the generated tree whose org ids run from ``first`` to ``last``."""
    rows = db.session.execute(
        sa.select(Organization.id, Organization.parent_id, Organization.slug)
        .add_columns(Organization.public_id)
        .where(Organization.id.between(first, last))
        .order_by(Organization.id)
    ).all()
    direct = _per_org(Membership.org_id, first, last)
    invited = _per_org(Invitation.org_id, first, last)
    events = _per_org(AuditEvent.org_id, first, last)
    depth: dict[int, int] = {}
    children: dict[int, int] = defaultdict(int)
    inherited: dict[int, int] = {}  # direct memberships in the org and above it
    for row in rows:  # parents come before their children
        parent = row.parent_id if row.parent_id in depth else None
        depth[row.id] = depth[parent] + 1 if parent else 1
        inherited[row.id] = direct.get(row.id, 0) + (inherited[parent] if parent else 0)
        if parent:
            children[parent] += 1

    def best(key: dict[int, int], at_depth: int | None = None) -> Org:
        """The org with the highest ``key`` (at that depth, if any are), lowest id first."""
        candidates = [row for row in rows if at_depth is None or depth[row.id] == at_depth]
        row = max(candidates or rows, key=lambda row: (key.get(row.id, 0), -row.id))
        return Org(row.id, row.slug, row.public_id, depth[row.id], children[row.id])

    deepest = max(depth.values())
    expand = best(children, min(3, deepest - 1))
    dashboard = best(children, min(bulk.MAX_DEPTH // 2, deepest - 1))
    members = best(inherited, deepest)
    members = replace(members, count=members_of(members.id))
    invitations = best(invited)
    invitations = replace(invitations, count=invited.get(invitations.id, 0))
    audit = best(events)
    audit = replace(audit, count=events.get(audit.id, 0))
    some = db.session.execute(
        sa.select(User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == members.id)
        .order_by(User.id)
        .limit(2)
    ).all()
    fragment = some[0].name.lower()[: len("person 12")]
    return Targets(
        expand=expand,
        dashboard=dashboard,
        members=members,
        invitations=invitations,
        audit=audit,
        name_fragment=fragment,
        name_matches=members_of(
            members.id,
            sa.or_(sa.func.lower(User.name).contains(fragment), User.email.contains(fragment)),
        ),
        email=some[-1].email,
        staff_query=some[-1].email.split("@")[0][:-1],
    )


# --- in one process --------------------------------------------------------------------


class InProcess:
    """Flask test clients signed in through the real forms, and the API key's header."""

    def __init__(self, app: Flask, log: QueryLog, api_key: str) -> None:
        self.log = log
        self.clients: dict[str, FlaskClient] = {who: app.test_client() for who in (OWNER, STAFF)}
        self.clients[API] = app.test_client()
        self.api_headers = {"Authorization": f"Bearer {api_key}"}
        _common.sign_in(self.clients[OWNER])
        _common.sign_in(self.clients[STAFF], "/staff/login", demo.DEMO_STAFF)

    def fetch(self, page: Page) -> tuple[float, list[tuple[str, float]]]:
        headers = {**(HTMX if page.htmx else {}), **(self.api_headers if page.who == API else {})}
        client = self.clients[page.who]
        self.log.reset()
        started = time.perf_counter()
        response = client.get(page.path, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"bench: {page.path} answered {response.status_code}")
        return elapsed, self.log.statements

    def query_count(self, page: Page) -> int:
        for _ in range(2):  # the first request may connect and warm caches
            self.fetch(page)
        return len(self.fetch(page)[1])


@dataclass
class Result(_common.Samples):
    page: Page
    small_queries: int | None
    load: dict | None = None
    floor: dict | None = None
    size: int = 0  # bytes of the response body, as gunicorn sent it
    floor_share: float = 0.0  # the target for ``ratio``
    first: Result | None = None  # a deep page: its list's first page

    @property
    def ratio(self) -> float | None:
        if not self.load or not self.floor or not self.floor["rps"]:
            return None
        return self.load["rps"] / self.floor["rps"]

    @property
    def deep_ratio(self) -> float | None:
        """A deep page's median latency ÷ its list's first page's."""
        return self.median / self.first.median if self.first else None

    @property
    def deep_rps_ratio(self) -> float | None:
        """The first page's throughput ÷ the deep page's (above 1: the deep page is slower)."""
        if not self.first or not self.load or not self.first.load or not self.load["rps"]:
            return None
        return self.first.load["rps"] / self.load["rps"]

    @property
    def problems(self) -> list[str]:
        found = []
        if self.median > TARGET_MS:
            found.append(f"median > {TARGET_MS:.0f} ms")
        grows = self.small_queries is not None and self.queries != self.small_queries
        if grows or len(self.counts) > 1:
            found.append("queries grow with the data")
        if self.ratio is not None and self.ratio < self.floor_share:
            found.append(f"< {self.floor_share:.0%} of the floor")
        if self.deep_ratio is not None and self.deep_ratio > DEEP_RATIO:
            found.append(f"÷ page 1 > {DEEP_RATIO}")
        return found


def measure(client: InProcess, results: list[Result], rounds: int) -> None:
    _common.measure(client.fetch, ((r.page, r) for r in results), rounds)


# --- through gunicorn ------------------------------------------------------------------


def free_port() -> int:
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"bench: no free port in {PORTS.start}-{PORTS.stop - 1}")


class Server:
    """``gunicorn -w N --control-socket … -b 127.0.0.1:PORT <spec>``, up until closed."""

    def __init__(self, name: str, spec: str, env: dict[str, str], scratch: Path, **how) -> None:
        self.name, self.spec, self.env, self.scratch = name, spec, env, scratch
        self.workers: int = how.get("workers", 4)
        self.cwd: Path = how.get("cwd", ROOT)
        self.log_path = scratch / f"{name}.log"
        self.port = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        for _attempt in range(3):  # another process may take the port first
            self.port = free_port()
            command = [
                sys.executable, "-m", "gunicorn", "-w", str(self.workers),
                "--control-socket", str(self.scratch / f"{self.name}.ctl"),
                "-b", f"127.0.0.1:{self.port}", self.spec,
            ]  # fmt: skip
            with self.log_path.open("w") as log:
                self.process = subprocess.Popen(
                    command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
                )
            if self._wait_ready():
                return self
        raise SystemExit(f"bench: gunicorn ({self.name}) did not start:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float = 60) -> bool:
        """Listening, and every worker booted; False if gunicorn exited (port taken)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            booted = self.log_path.read_text().count("Booting worker")
            if booted >= self.workers:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return True
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"bench: gunicorn ({self.name}) is not up after {timeout:.0f} s")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's graceful stop: SIGTERM to the master
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def serving(*servers: Server) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in servers:
            server.stop()


class Browser:
    """http.client with a cookie jar: signs in through the real form, then fetches."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
        return self.request("GET", path, headers=headers)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, headers=None
    ) -> tuple[int, dict, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value, _, attributes = rest.partition(";")
            gone = not value or re.search(r"max-age=0\b|expires=thu, 01 jan 1970", attributes, re.I)
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, dict(response.headers.items()), data

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def sign_in(self, login: str, email: str) -> None:
        _status, _headers, body = self.get(login)
        match = CSRF.search(body)
        if match is None:
            raise SystemExit(f"bench: no CSRF token on {login} (gunicorn)")
        form = {"email": email, "password": demo.DEMO_PASSWORD, "csrf_token": match.group(1)}
        status, _headers, _body = self.request("POST", login, form={**form})
        if status != 303:
            raise SystemExit(f"bench: signing in at {login} through gunicorn failed ({status})")


def load(port: int, path: str, headers: dict[str, str], args: argparse.Namespace) -> dict:
    """bench/loadgen.py against one URL (it forks a process per connection)."""
    raw = loadgen.request_bytes("127.0.0.1", port, path, headers)
    result = loadgen.run(
        "127.0.0.1", port, raw, connections=args.connections, duration=args.duration,
        warmup=args.warmup,
    )  # fmt: skip
    return {**asdict(result), "rps": result.rps, "client_cpus": result.client_cpus}


def throughput(results: list[Result], args, env: dict[str, str], scratch: Path, api_key: str):
    """Sign in through gunicorn, capture each page, serve the captures as the floor, and
    drive each page and then its floor; returns notes for the report."""
    app_server = Server("app", "wsgi:app", env, scratch, workers=args.workers)
    floor_pages = scratch / "floor-pages.json"
    floor_env = {**env, "FLOOR_PAGES": str(floor_pages)}
    floor_server = Server("floor", "floor:app", floor_env, scratch, workers=args.workers, cwd=BENCH)
    notes: list[str] = []
    with serving(app_server):
        owner, staff = Browser(app_server.port), Browser(app_server.port)
        owner.sign_in(f"{TENANT}/login", demo.DEMO_OWNER)
        staff.sign_in("/staff/login", demo.DEMO_STAFF)
        browsers = {OWNER: owner, STAFF: staff, API: Browser(app_server.port)}

        def headers_for(page: Page) -> dict[str, str]:
            headers = dict(HTMX) if page.htmx else {}
            if page.who == API:
                headers["Authorization"] = f"Bearer {api_key}"
            return headers

        captured: dict[str, dict[str, str]] = {}
        resets_cookie = []
        for result in results:
            page = result.page
            for attempt in range(2):  # the second time, with the cookies the first one set
                status, headers, body = browsers[page.who].get(page.path, headers_for(page))
                if status != 200:
                    raise SystemExit(f"bench: {page.path} answered {status} through gunicorn")
                if attempt and "Set-Cookie" in headers:
                    resets_cookie.append(page.name)
            result.size = len(body)
            captured[page.name] = {
                "body": body.decode(),
                "content_type": headers.get("Content-Type", "text/html; charset=utf-8"),
            }
        floor_pages.write_text(json.dumps(captured))
        if resets_cookie:
            notes.append(f"these pages set a cookie on every request: {', '.join(resets_cookie)}")

        with serving(floor_server):
            for index, result in enumerate(results):
                page = result.page
                floor_path = floor.path_for(index)
                status, _headers, body = Browser(floor_server.port).get(floor_path)
                if status != 200 or body.decode() != captured[page.name]["body"]:
                    raise SystemExit(f"bench: the floor of {page.name} is not the same page")
                headers = headers_for(page)
                if page.who != API:
                    headers["Cookie"] = browsers[page.who].cookie_header
                print(f"  {page.name:<22}", end="", flush=True)
                result.load = load(app_server.port, page.path, headers, args)
                result.floor = load(floor_server.port, floor_path, headers, args)
                print(
                    f" {result.load['rps']:>7.1f} rps, floor {result.floor['rps']:>7.1f} rps"
                    f" ({result.ratio:.2f})",
                    flush=True,
                )
    return notes


# --- the report ------------------------------------------------------------------------


def report(results: list[Result], facts: list[str], title: str, kind: str) -> str:
    lines = [f"# {title}", "", *[f"- {fact}" for fact in facts], ""]
    html_share, api_share = FLOOR_SHARE[("html", kind)], FLOOR_SHARE[("api", kind)]
    lines += [
        f"Targets: a median under {TARGET_MS:.0f} ms and queries that do not grow with the "
        f"data; ratio (page rps ÷ floor rps) ≥ {html_share:.2f} for HTML pages and ≥ "
        f"{api_share:.2f} for API lists on {'SQLite' if kind == 'sqlite' else 'PostgreSQL'} "
        f"(the issue's {FLOOR_SHARE[('html', 'sqlite')]:.0%} / "
        f"{FLOOR_SHARE[('html', 'postgresql')]:.0%} and {FLOOR_SHARE[('api', 'sqlite')]:.0%} "
        f"/ {FLOOR_SHARE[('api', 'postgresql')]:.0%} on SQLite / PostgreSQL); ÷ page 1 (a deep "
        f"page's median latency ÷ its list's first page's) ≤ {DEEP_RATIO}, and in brackets "
        "the first page's rps ÷ the deep page's under gunicorn.",
        "",
        f"| page | request | median ms | p95 ms | queries | at {SMALL_ORGS} orgs | rps "
        "| floor rps | ratio | ÷ page 1 | targets |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        verdict = "pass" if not r.problems else "**MISSED**: " + ", ".join(r.problems)
        small = "" if r.small_queries is None else str(r.small_queries)
        rps = f"{r.load['rps']:.0f}" if r.load else ""
        floor_rps = f"{r.floor['rps']:.0f}" if r.floor else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        deep = f"{r.deep_ratio:.2f}" if r.deep_ratio is not None else ""
        if r.deep_rps_ratio is not None:
            deep += f" ({r.deep_rps_ratio:.2f})"
        lines.append(
            f"| {r.page.name} | {r.page.shown} | {r.median:.1f} | {r.p95:.1f} | {r.queries} "
            f"| {small} | {rps} | {floor_rps} | {ratio} | {deep} | {verdict} |"
        )
    lines += ["", "Each page's body, its SQL time per request and its slowest statement (medians):"]
    lines.append("")
    for r in results:
        ms, text = r.slowest_statement(limit=240)
        total = statistics.median(r.sql_times)
        lines.append(
            f"- {r.page.name}: {r.size / 1000:.1f} kB; SQL {total:.1f} ms; {ms:.1f} ms `{text}`"
        )
    missed = [r.page.name for r in results if r.problems]
    lines += [
        "",
        f"MISSED: {', '.join(missed)}" if missed else "All pages meet the targets.",
        "",
    ]
    return "\n".join(lines)


def deep_rows(position: int) -> int:
    """Rows enough for a page that ends at ``position`` to have a next one."""
    return position + max(50, position // 50)


def describe_deep(d: DeepTargets, lists: list[DeepList], position: int) -> str:
    pages = ", ".join(
        f"{one.label} page {page_number(position, one.per_page):,} ({one.per_page} a page)"
        for one in lists
    )
    return (
        f"row {position:,} of each list: {pages}; members: the Leaf of bench/members.py's chain "
        f"Root > Mid > Leaf, `{d.members.slug}`, {d.members.count:,} members direct and "
        f"inherited; invitations and org audit log: `{d.crowded.slug}`, "
        f"{d.crowded.count:,} invitations and as many audit events of its own; tenant audit "
        f"log: {d.tenant_events:,} events in all; each set against its list's first page"
    )


def describe_targets(t: Targets) -> str:
    def org(o: Org, what: str) -> str:
        return f"`{o.slug}` (depth {o.depth}, {o.children} children{what})"

    return (
        f"expand a node: {org(t.expand, '')}; org dashboard: {org(t.dashboard, '')}; "
        f"members: {org(t.members, f', {t.members.count:,} members direct and inherited')}, "
        f'searched for "{t.name_fragment}" ({t.name_matches} of them match) and for one '
        f"member's address; invitations: "
        f"{org(t.invitations, f', {t.invitations.count} invitations')}; org audit log: "
        f"{org(t.audit, f', {t.audit.count} events of its own')}; staff search: the start "
        f'of an address, "{t.staff_query}"'
    )


def counts() -> dict[str, int]:
    def count(model) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    models = {"orgs": Organization, "users": User, "memberships": Membership}
    models |= {"invitations": Invitation, "events": AuditEvent}
    return {name: count(model) for name, model in models.items()}


# --- the run ---------------------------------------------------------------------------


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
    with app.app_context():
        log = QueryLog(db.engine)
        kind = db.engine.dialect.name

    print(f"Seeding the demo and a small tree of {SMALL_ORGS} orgs…", flush=True)
    started = time.perf_counter()
    with app.app_context():
        demo.seed()
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))
        first = (db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0) + 1
        bulk.grow_tenant(
            tenant, orgs=SMALL_ORGS, members=SMALL_MEMBERS, invitations=SMALL_MEMBERS // 10,
            events=SMALL_ORGS * 4, seed=1,
        )  # fmt: skip
        small = pick_targets(first, first + SMALL_ORGS - 1)
        owner = db.session.scalar(sa.select(User).where(User.email == demo.DEMO_OWNER))
        small_deep = seed_deep(
            tenant, owner, "small", SMALL_MEMBERS, deep_rows(SMALL_POSITION)
        )  # fmt: skip
        api_key = api_keys.create_key(Actor.system("bench"), tenant, name="bench").secret
        db.session.commit()
    small_seconds = time.perf_counter() - started

    client = InProcess(app, log, api_key)
    owner_client = client.clients[OWNER]
    small_pages = pages_for(small)
    small_pages += deep_pages(owner_client, deep_lists(small_deep), SMALL_POSITION)
    small_counts = [client.query_count(page) for page in small_pages]

    print(f"Seeding {args.orgs:,} orgs and {args.members:,} memberships (demo seed)…", flush=True)
    with app.app_context():
        first = (db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0) + 1
        started = time.perf_counter()
        demo.seed(orgs_count=args.orgs, members_count=args.members, progress=PhaseProgress())
        db.session.commit()
        seconds = time.perf_counter() - started
        last = db.session.scalar(sa.select(sa.func.max(Organization.id)))
        big = pick_targets(first, last)
        print(
            f"Seeding a chain of {2 * args.position:,} members and an org with "
            f"{deep_rows(args.position):,} invitations and audit events…",
            flush=True,
        )
        started = time.perf_counter()
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))
        owner = db.session.scalar(sa.select(User).where(User.email == demo.DEMO_OWNER))
        deep = seed_deep(tenant, owner, "deep", 2 * args.position, deep_rows(args.position))
        bulk.analyze()  # PostgreSQL: what autovacuum would do after the bulk load
        db.session.commit()
        deep_seconds = time.perf_counter() - started
        made = counts()
        database = _common.describe_database(kind)

    lists = deep_lists(deep)
    started = time.perf_counter()
    print(f"Finding page {page_number(args.position, 50):,} (or its equivalent) of each list…")
    pages = pages_for(big) + deep_pages(owner_client, lists, args.position)
    finding_seconds = time.perf_counter() - started
    results = [Result(page, small) for page, small in zip(pages, small_counts, strict=True)]
    by_name = {r.page.name: r for r in results}
    for r in results:
        r.first = by_name[r.page.first] if r.page.first else None
        r.floor_share = FLOOR_SHARE[("api" if r.page.who == API else "html", kind)]
    load_before = os.getloadavg()[0]
    print(f"Timing {len(pages)} pages in one process: {WARMUP} warm-ups, {args.rounds} rounds…")
    measure(client, results, args.rounds)

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "FLASK_DEBUG": "0",
        "LOGIN_RATE_LIMIT": UNLIMITED,
        "API_RATE_LIMIT": UNLIMITED,
    }
    env.pop("FLASK_ENV", None)
    print(
        f"Driving gunicorn -w {args.workers} with {args.connections} connections, "
        f"{args.warmup:g} s warm-up then {args.duration:g} s per page and per floor…",
        flush=True,
    )
    load_during = os.getloadavg()[0]
    notes = throughput(results, args, env, scratch, api_key)
    loads = [r.load for r in results] + [r.floor for r in results]
    client_cpus = [one["client_cpus"] for one in loads]
    reconnects = sum(one["connections_opened"] for one in loads) / sum(
        one["requests"] for one in loads
    )
    errors = [(r.page.name, r.load) for r in results if r.load["errors"]]
    errors += [(f"{r.page.name} (floor)", r.floor) for r in results if r.floor["errors"]]

    facts = [
        f"database: {database}"
        + (
            ""
            if kind == "sqlite"
            else ", ANALYZE and GIN pending lists merged after seeding (demo seed does)"
        ),
        f'data: tenant "acme": the demo company, a small generated tree of {SMALL_ORGS} orgs '
        f"and {SMALL_MEMBERS:,} memberships (to count queries on), then `demo.seed(orgs_count="
        f"{args.orgs}, members_count={args.members})`; in all {made['orgs']:,} orgs, "
        f"{made['users']:,} users, {made['memberships']:,} memberships, "
        f"{made['invitations']:,} invitations and {made['events']:,} audit events",
        f"seeding took {seconds:.1f} s (demo seed), {small_seconds:.1f} s before it "
        "(the demo company and the small tree)",
        f"pages: on orgs of the big generated tree: {describe_targets(big)}; API lists ask for "
        "100 items; the same pages on the small tree give the query counts to compare",
        f"deep pages: {describe_deep(deep, lists, args.position)}; found in "
        f'{finding_seconds:.0f} s by following each list\'s rel="next" links from its first '
        "page in one process (a list still paged by `?page=N` is jumped straight to page N); "
        f"their query counts are compared with the same lists, seeded small, at row "
        f"{SMALL_POSITION}; seeding them took {deep_seconds:.1f} s",
        f"latency: Flask test client in one process, signed in through the forms as the tenant "
        f"owner (and as the demo staff for the staff search; the API with a tenant API key); "
        f"{WARMUP} warm-up requests per page, then {args.rounds} interleaved rounds",
        f"throughput: `gunicorn -w {args.workers}` (sync workers) on 127.0.0.1, signed in "
        f"through the real forms once, each page driven by bench/loadgen.py ({args.connections} "
        f"connections, each its own process) for {args.warmup:g} s of warm-up then "
        f"{args.duration:g} s counted, and its floor right after; the sync workers answer "
        f"`Connection: close`, so the generator opened {reconnects:.2f} connections per "
        f"request; the generator itself kept {statistics.mean(client_cpus):.2f} CPUs busy on "
        f"average (at most {max(client_cpus):.2f}) of the machine's {os.cpu_count()}",
        "floor: bench/floor.py, bare Flask + Jinja under the same gunicorn and load: one route "
        "per page rendering that page's captured response back from an in-memory list of its "
        "lines through a `{% for %}` loop, with no database, session or template logic; "
        "ratio = page rps / floor rps",
        _common.machine(load_before) + f" (load average {load_during:.1f} when driving began)",
        f"queries: per request on the big tree and on the small one ({SMALL_ORGS} orgs); "
        "transaction bookkeeping (BEGIN, COMMIT, SAVEPOINT) not counted; SQL ms: time inside "
        "cursor.execute()"
        + (" (a lower bound: SQLite fetches rows lazily)" if kind == "sqlite" else ""),
        *notes,
        f"the whole run took {time.perf_counter() - run_started:.0f} s",
    ]
    text = report(results, facts, f"Main pages — {database.split(' (')[0]}", kind)
    if errors:
        text += "\nErrors under load (the numbers of these rows are not valid):\n\n"
        text += "".join(
            f"- {name}: {one['errors']} of {one['requests']}, first: {one['first_error']}\n"
            for name, one in errors
        )
    print()
    print(text)
    if args.output or not args.quick:
        written = _common.write_results(text, f"pages-{kind}", args.output)
        print(f"Written to {written}")
    else:
        print("(--quick: not written; --output PATH writes it)")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=10_000, help="generated orgs (10000)")
    parser.add_argument(
        "--members", type=int, default=100_000, help="generated memberships (100000)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="an empty database to use (default: $DATABASE_URL, else a temporary SQLite file)",
    )
    parser.add_argument(
        "--position",
        type=int,
        default=50_000,
        help="the row a deep page ends at (50000: page 1,000 at 50 a page)",
    )
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per page (30)")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of load each (4)")
    parser.add_argument("--warmup", type=float, default=0.5, help="seconds before counting (0.5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (8)")
    parser.add_argument("--output", type=Path, help="write the report here instead")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: "
        + ", ".join(f"--{name} {value}" for name, value in QUICK.items())
        + "; prints the report, writes it only with --output",
    )
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    if (
        args.orgs <= SMALL_ORGS
        or args.members <= SMALL_MEMBERS
        or args.position < SMALL_POSITION
        or args.rounds < 1
    ):
        raise SystemExit(
            f"bench: --orgs must be more than {SMALL_ORGS}, --members more than "
            f"{SMALL_MEMBERS}, --position at least {SMALL_POSITION} and --rounds at least 1"
        )
    scratch = Path(tempfile.mkdtemp(prefix="tenantry-bench-"))
    try:
        return run(args.database_url or f"sqlite:///{scratch}/bench.db", args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
