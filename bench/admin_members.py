"""Flask-Admin's list view over Tenantry's memberships, for bench/compare_members.py.

    DATABASE_URL=… ADMIN_ORG_IDS=3,4,5 gunicorn -w 2 --pythonpath bench admin_members:app

A plain Flask-Admin setup, as one would write it to browse members: a ``ModelView``
(SQLAlchemy backend) of the memberships table joined to users, 50 rows a page, sorted by
the member's name, searchable on name and email, read-only. Its models are its own,
mapped onto Tenantry's tables (the columns it shows, nothing more), and its view keeps to
the memberships of the orgs in ``ADMIN_ORG_IDS`` (the chain Tenantry's members page
lists, direct and inherited), so both read the same rows of the same database.
"""

from __future__ import annotations

import os
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, redirect
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView

PAGE_SIZE = 50


class Base(so.DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str]

    def __str__(self) -> str:
        return self.name


class User(Base):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str]
    email: so.Mapped[str]

    def __str__(self) -> str:
        return self.name


class Membership(Base):
    __tablename__ = "memberships"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    org_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    role: so.Mapped[str]
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(timezone=True))
    user: so.Mapped[User] = so.relationship()
    org: so.Mapped[Organization] = so.relationship()


class MemberView(ModelView):
    can_create = can_edit = can_delete = False
    can_view_details = False
    page_size = PAGE_SIZE
    column_list = ("user.name", "user.email", "role", "org.name", "created_at")
    column_labels = {"user.name": "Name", "user.email": "Email", "org.name": "Org"}
    column_searchable_list = ("user.name", "user.email")
    column_sortable_list = (("user.name", "user.name"), "role", "created_at")
    column_default_sort = [("user.name", False), ("id", False)]

    def __init__(self, session: so.scoped_session, org_ids: list[int]) -> None:
        self.org_ids = org_ids
        super().__init__(Membership, session, name="Members", endpoint="members")

    def get_query(self):
        return super().get_query().filter(Membership.org_id.in_(self.org_ids))

    def get_count_query(self):
        return super().get_count_query().filter(Membership.org_id.in_(self.org_ids))


def create_app(database_url: str, org_ids: list[int]) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "flask-admin-bench")
    engine = sa.create_engine(database_url)
    session = so.scoped_session(so.sessionmaker(engine))
    admin = Admin(app, name="Members")
    admin.add_view(MemberView(session, org_ids))

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session.remove()

    @app.get("/")
    def home():
        return redirect("/admin/members/")

    return app


def _org_ids() -> list[int]:
    return [int(part) for part in os.environ["ADMIN_ORG_IDS"].split(",") if part.strip()]


app = (
    create_app(os.environ["DATABASE_URL"], _org_ids())
    if os.environ.get("DATABASE_URL") and os.environ.get("ADMIN_ORG_IDS")
    else None
)
