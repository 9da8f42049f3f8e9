"""The test bench: app, per-test rolled-back database, clients, factories, SMTP server.

Runs on in-memory SQLite by default; on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession

from app import create_app
from app.actors import Actor
from app.credentials import hash_password
from app.extensions import db, limiter
from app.models import Membership, Organization, StaffRole, StaffUser, Tenant, TenantRole, User
from app.services import accounts, api_keys, orgs

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
PASSWORD = "correct-horse-battery"
# Hashing with production argon2 costs for every factory user would dominate the suite.
_PASSWORD_HASH = hash_password(PASSWORD)


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if ON_POSTGRES else 'SQLite (memory)'}"


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or "sqlite://",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "API_RATE_LIMIT": "100000 per minute",
            "TOKEN_RATE_LIMIT": "100000 per minute",
        }
    )
    with app.app_context():
        try:
            with db.engine.connect():
                pass
        except sa.exc.OperationalError as exc:
            pytest.exit(f"TEST_DATABASE_URL is set but unreachable: {exc}", returncode=3)
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session always picks the engine; in tests, use our connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def _database(app: Flask) -> Iterator[None]:
    """Each test runs in one outer transaction that is rolled back at the end.

    Requests still ``commit()``: with ``create_savepoint`` those commits release a
    savepoint inside the outer transaction, so nothing outlives the test. No app context
    stays pushed during the test (each request gets its own, as in production); objects
    from factories stay readable after their context ends (``expire_on_commit=False``).
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
                "expire_on_commit": False,
            }
        )
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        limiter.reset()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    """For tests that call services directly (and make no requests meanwhile)."""
    with app.app_context():
        yield


# --- clients -------------------------------------------------------------------------


class CSRFClient(FlaskClient):
    """A test client that behaves like a browser: it fetches a page, then posts its token.

    ``post(url, data=…)`` adds the session's CSRF token unless ``csrf=False`` is given.
    """

    def csrf_token(self) -> str:
        response = self.get("/")
        match = re.search(rb'"X-CSRFToken": "([^"]+)"', response.data)
        assert match, "no CSRF token on the start page"
        return match.group(1).decode()

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            data = kwargs.setdefault("data", {})
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    app.test_client_class = CSRFClient
    return app.test_client()  # type: ignore[return-value]


class HtmxClient(CSRFClient):
    """Every request carries HX-Request (and the CSRF header, as base.html's hx-headers)."""

    def open(self, *args, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("HX-Request", "true")
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return FlaskClient.post(self, *args, **kwargs)


@pytest.fixture
def htmx_client(app: Flask) -> HtmxClient:
    app.test_client_class = HtmxClient
    return app.test_client()  # type: ignore[return-value]


# --- factories -----------------------------------------------------------------------
#
# A factory commits its rows and returns them ready to hand to a service or read in any
# later app context or request, with no ``db.session.merge``: their columns stay loaded
# (``expire_on_commit=False``) and so does every relationship a service reads
# (``User.tenant``, for the policy). Called inside an app context, a factory works in that
# context's session, so its rows belong to it like any row loaded there. A row made
# outside is detached: to change it, load it where you change it (``db.session.get``).


@contextmanager
def _factory_context(app: Flask) -> Iterator[None]:
    """The caller's app context when there is one, else a context of the factory's own."""
    if has_app_context():
        yield
    else:
        with app.app_context():
            yield


@pytest.fixture
def create_tenant(app: Flask) -> Callable[..., Tenant]:
    counter = iter(range(1, 1_000_000))

    def make(name: str | None = None, **fields) -> Tenant:
        n = next(counter)
        with _factory_context(app):
            tenant = Tenant(
                name=name or f"Tenant {n}", slug=fields.pop("slug", f"tenant-{n}"), **fields
            )
            db.session.add(tenant)
            db.session.commit()
            return tenant

    return make


@pytest.fixture
def create_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 1_000_000))

    def make(tenant: Tenant, email: str | None = None, **fields) -> User:
        n = next(counter)
        with _factory_context(app):
            user = accounts.create_user(
                tenant,
                email=email or f"user{n}@example.com",
                name=fields.pop("name", f"User {n}"),
                password=None,
                tenant_role=fields.pop("tenant_role", TenantRole.MEMBER),
                # Proven unless a test says otherwise (``email_verified_at=None``): an
                # unproven account sees no org.
                email_verified=True,
            )
            user.password_hash = fields.pop("password_hash", _PASSWORD_HASH)
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            user.tenant  # noqa: B018 (loaded now: the policy reads it wherever the user acts)
            return user

    return make


@pytest.fixture
def create_staff(app: Flask) -> Callable[..., StaffUser]:
    counter = iter(range(1, 1_000_000))

    def make(role: str = StaffRole.SUPERADMIN, email: str | None = None) -> StaffUser:
        with _factory_context(app):
            staff = StaffUser(
                email=email or f"staff{next(counter)}@platform.example",
                name="Staff Person",
                password_hash=_PASSWORD_HASH,
                role=role,
            )
            db.session.add(staff)
            db.session.commit()
            return staff

    return make


@pytest.fixture
def create_org(app: Flask) -> Callable[..., Organization]:
    """An org made through the service (closure rows and all), by the system."""

    def make(tenant: Tenant, name: str, parent: Organization | None = None, **fields):
        with _factory_context(app):
            org = orgs.create_org(
                Actor.system("test"),
                tenant,
                name=name,
                parent=parent,
                slug=fields.pop("slug", None),
                is_personal=fields.pop("is_personal", False),
            )
            for key, value in fields.items():
                setattr(org, key, value)
            db.session.commit()
            return org

    return make


@pytest.fixture
def add_member(app: Flask) -> Callable[..., Membership]:
    def make(org: Organization, user: User, role: str = "member") -> Membership:
        with _factory_context(app):
            membership = Membership(org_id=org.id, user_id=user.id, role=role)
            db.session.add(membership)
            db.session.commit()
            return membership

    return make


@pytest.fixture
def tenant(create_tenant) -> Tenant:
    return create_tenant("Acme", slug="acme")


@pytest.fixture
def owner(tenant, create_user) -> User:
    return create_user(tenant, "owner@acme.example", tenant_role=TenantRole.OWNER, name="Olive")


@dataclass(frozen=True)
class World:
    """Acme with a small org tree and one person for each way of belonging to it::

        Acme HQ              Hana (owner), Ines (member)
        └── Engineering      Erin (owner), Ada (admin), Milo (member), Vic (viewer)
            └── Platform     nobody directly: everyone above reaches it by inheritance
        Sales                nobody

    Olive owns the tenant (the ``owner`` fixture, owner@acme.example) and Tess administers
    it; neither holds a membership. Oscar is a user of the tenant in no org. Everyone but
    Olive is ``<first name>@acme.example``. ``owner``, ``admin``, ``member`` and ``viewer``
    are Engineering's own; ``hq_owner`` and ``hq_member`` are Hana and Ines.
    """

    tenant: Tenant
    hq: Organization
    engineering: Organization
    platform: Organization
    sales: Organization
    tenant_owner: User
    tenant_admin: User
    hq_owner: User
    hq_member: User
    owner: User
    admin: User
    member: User
    viewer: User
    outsider: User


@pytest.fixture
def world(tenant, owner, create_org, create_user, add_member) -> World:
    """The shared :class:`World`; a module needing more adds its rows on top."""
    hq = create_org(tenant, "Acme HQ")
    engineering = create_org(tenant, "Engineering", parent=hq)
    platform = create_org(tenant, "Platform", parent=engineering)
    sales = create_org(tenant, "Sales")

    def person(first: str, name: str, **fields) -> User:
        return create_user(tenant, f"{first}@acme.example", name=name, **fields)

    world = World(
        tenant=tenant,
        hq=hq,
        engineering=engineering,
        platform=platform,
        sales=sales,
        tenant_owner=owner,
        tenant_admin=person("tess", "Tess Tenant-Admin", tenant_role=TenantRole.ADMIN),
        hq_owner=person("hana", "Hana HQ-Owner"),
        hq_member=person("ines", "Ines Inherited"),
        owner=person("erin", "Erin Owner"),
        admin=person("ada", "Ada Admin"),
        member=person("milo", "Milo Member"),
        viewer=person("vic", "Vic Viewer"),
        outsider=person("oscar", "Oscar Outsider"),
    )
    add_member(hq, world.hq_owner, "owner")
    add_member(hq, world.hq_member, "member")
    for role in ("owner", "admin", "member", "viewer"):
        add_member(engineering, getattr(world, role), role)
    return world


@pytest.fixture
def create_api_key(app: Flask) -> Callable[..., str]:
    """A live API key of ``tenant``; returns the secret (``tk_…``), as shown once."""

    def make(tenant: Tenant, name: str = "Test key", **fields) -> str:
        with _factory_context(app):
            made = api_keys.create_key(Actor.system("test"), tenant, name=name)
            for key, value in fields.items():
                setattr(made.key, key, value)
            db.session.commit()
            return made.secret

    return make


@pytest.fixture
def one_of_everything(app, create_user, create_org, add_member) -> Callable[[Tenant], dict]:
    """Fills a tenant with one of everything an API path can name; returns their ids.

    An owned root org with a sub-org holding a member, a team, a pending invitation, and
    a custom role.
    """
    from app.services import invitations, roles, teams

    def make(tenant: Tenant) -> dict[str, str]:
        domain = f"{tenant.slug}.example"
        boss = create_user(tenant, f"boss@{domain}", tenant_role=TenantRole.OWNER)
        member = create_user(tenant, f"dev@{domain}")
        root = create_org(tenant, f"{tenant.name} HQ")
        child = create_org(tenant, "Engineering", parent=root)
        add_member(root, boss, "owner")
        add_member(child, member, "member")
        actor = Actor.system("test")
        with _factory_context(app):
            team = teams.create_team(actor, tenant, child, name="Platform")
            [invited] = invitations.invite(
                actor, tenant, child, addresses=["guest@example.com"], role="member"
            )
            role = roles.create_role(
                actor, tenant, key="auditor", name="Auditor", description="",
                permissions=["org:read"],
            )  # fmt: skip
            db.session.commit()
            return {
                "org_id": child.public_id,
                "user_id": member.public_id,
                "team_id": team.public_id,
                "invitation_id": invited.invitation.public_id,
                "role_id": role.public_id,
            }

    return make


class ApiClient:
    """Calls ``/api/v1`` the way an integration does: a bearer key, JSON in and out."""

    def __init__(self, client: FlaskClient, key: str | None = None) -> None:
        self.client = client
        self.key = key

    def request(self, method: str, path: str, *, key: str | None = None, headers=None, **kw):
        headers = dict(headers or {})
        token = key or self.key
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, json=None, **kw):
        return self.request("POST", path, json=json if json is not None else {}, **kw)

    def patch(self, path: str, json=None, **kw):
        return self.request("PATCH", path, json=json if json is not None else {}, **kw)

    def delete(self, path: str, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def api(app: Flask, tenant: Tenant, create_api_key) -> ApiClient:
    """An API client holding a key of the ``tenant`` fixture (Acme)."""
    return ApiClient(app.test_client(), create_api_key(tenant))


# --- signing in ----------------------------------------------------------------------


class Auth:
    """Sign a client in the way a person does: through the sign-in form."""

    def __init__(self, app: Flask, client: CSRFClient) -> None:
        self.app = app
        self.client = client

    def login(self, user: User, password: str = PASSWORD):
        with self.app.app_context():
            tenant_slug = db.session.get(Tenant, user.tenant_id).slug
        response = self.client.post(
            f"/t/{tenant_slug}/login", data={"email": user.email, "password": password}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def login_staff(self, staff: StaffUser, password: str = PASSWORD):
        response = self.client.post(
            "/staff/login", data={"email": staff.email, "password": password}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def logout(self, tenant_slug: str):
        return self.client.post(f"/t/{tenant_slug}/logout")


@pytest.fixture
def auth(app, client) -> Auth:
    return Auth(app, client)


# --- counting SQL --------------------------------------------------------------------


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], QueryCounter]:
    """``with count_queries() as q: …`` then ``q.count``; savepoint bookkeeping excluded."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()

        def before_cursor_execute(_conn, _cursor, statement, *_args):
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO|BEGIN|COMMIT)", statement, re.I):
                counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)

    return counting


# --- SMTP ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SMTPSink:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[SMTPSink]:
    """A real SMTP server on a free local port; ``.messages`` holds what it received."""
    from aiosmtpd.controller import Controller

    sink = SMTPSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
        asyncio.set_event_loop(None)
