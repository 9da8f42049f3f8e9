"""Benchmark: the support console's cross-tenant search at 100,000 users.

Target (issue 6): under 50 ms. Seeds 50 tenants, 100,000 users and 20,000 orgs with
bulk inserts into an empty database, signs in as staff with Flask's test client, and
times /staff/search for an email prefix, a name prefix, an org name and an exact id.

    .venv/bin/python bench/support_search.py [--database-url URL] [--rounds 30]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # bench/_common.py: schema, sign-in (puts app on the path)
import orgs as org_bench  # bench/orgs.py: Page, Result, measure

from app import create_app
from app.credentials import hash_password
from app.extensions import db
from app.ids import PREFIXES, new_public_id
from app.models import Organization, StaffUser, Tenant, User, utcnow

TARGET_MS = 50.0
USERS, ORGS, TENANTS = 100_000, 20_000, 50
FIRST = "Ava Ben Cleo Dan Eli Fay Gus Hana Ivo Jun Kai Lea Max Nia Oto Pia".split()  # noqa: SIM905
LAST = "Stone Rivera Okafor Novak Lund Petrov Silva Tanaka Weber Young".split()  # noqa: SIM905
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway benchmark account


def seed() -> dict[str, str]:
    now = utcnow()
    tenants = [
        {"public_id": new_public_id(PREFIXES["tenant"]), "name": f"Tenant {n}",
         "slug": f"bench-{n}", "status": "active", "allow_signup": False,
         "signup_email_domains": [], "created_at": now, "updated_at": now}
        for n in range(TENANTS)
    ]  # fmt: skip
    db.session.execute(sa.insert(Tenant), tenants)
    tenant_ids = list(db.session.scalars(sa.select(Tenant.id).order_by(Tenant.id)))
    users = []
    for n in range(USERS):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        users.append(
            {"public_id": new_public_id(PREFIXES["user"]), "tenant_id": tenant_ids[n % TENANTS],
             "email": f"{first.lower()}.{last.lower()}.{n}@example.com",
             "name": f"{first} {last} {n}", "tenant_role": "member", "is_active": True,
             "session_version": 1, "created_at": now, "updated_at": now}
        )  # fmt: skip
    for start in range(0, USERS, 5000):
        db.session.execute(sa.insert(User), users[start : start + 5000])
    orgs = [
        {"public_id": new_public_id(PREFIXES["org"]), "tenant_id": tenant_ids[n % TENANTS],
         "name": f"{LAST[n % len(LAST)]} Division {n}", "slug": f"division-{n}",
         "public_metadata": {}, "private_metadata": {}, "settings": {}, "is_personal": False,
         "created_at": now, "updated_at": now}
        for n in range(ORGS)
    ]  # fmt: skip
    for start in range(0, ORGS, 5000):
        db.session.execute(sa.insert(Organization), orgs[start : start + 5000])
    db.session.add(
        StaffUser(email="support@bench.example", password_hash=hash_password(PASSWORD),
                  role="support", name="Bench")
    )  # fmt: skip
    db.session.commit()
    return {"some_user_id": users[USERS // 2]["public_id"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tenantry-bench-"))
    try:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_urlsafe(32)})
        _common.create_schema(app)
        with app.app_context():
            kind = db.engine.dialect.name
            started = time.perf_counter()
            ids = seed()
            seeded = time.perf_counter() - started
            if kind == "postgresql":
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
            database = _common.describe_database(kind)
        client = app.test_client()
        token = _common.csrf_token(client, "/staff/login")
        response = client.post(
            "/staff/login",
            data={"email": "support@bench.example", "password": PASSWORD, "csrf_token": token},
        )
        if response.status_code != 303:
            raise SystemExit(f"bench: staff sign-in answered {response.status_code}")
        pages = [
            org_bench.Page("email prefix", "/staff/search?q=nia.okafor.9", htmx=True),
            org_bench.Page("name prefix", "/staff/search?q=Lea%20Novak%2012", htmx=True),
            org_bench.Page("org name", "/staff/search?q=Tanaka%20Division%2017", htmx=True),
            org_bench.Page("exact user id", f"/staff/search?q={ids['some_user_id']}", htmx=True),
        ]
        with app.app_context():
            log = _common.QueryLog(db.engine)
        results = [
            org_bench.Result(page, org_bench.query_count(client, log, page)) for page in pages
        ]
        org_bench.measure(client, log, results, args.rounds)
        print(f"# Support search — {database}")
        print(f"\n{USERS:,} users, {ORGS:,} orgs, {TENANTS} tenants; seeded in {seeded:.1f} s\n")
        print("| search | median ms | p95 ms | queries | under 50 ms |")
        print("|---|--:|--:|--:|---|")
        for result in results:
            verdict = "pass" if result.median < TARGET_MS else "**MISSED**"
            print(f"| {result.page.name} | {result.median:.1f} | {result.p95:.1f} | "
                  f"{result.queries} | {verdict} |")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
