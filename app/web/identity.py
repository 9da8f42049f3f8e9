"""Who is here: Flask-Login identities for tenant users and platform staff, and the
visitor of a tenant's pages (a signed-in user, or support staff viewing as one)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, session
from flask_login import LoginManager, current_user

from app.extensions import db
from app.models import StaffUser, Tenant, User
from app.web import view_as


def configure_login(manager: LoginManager) -> None:
    manager.session_protection = "basic"
    manager.user_loader(load_identity)


def load_identity(identity: str) -> User | StaffUser | None:
    """``kind:public_id:session_version``; a stale version means a signed-out cookie."""
    try:
        kind, public_id, version = identity.split(":")
        session_version = int(version)
    except ValueError:
        return None
    model = {"user": User, "staff": StaffUser}.get(kind)
    if model is None:
        return None
    account = g.get("prefetched_user")
    if not (model is User and account is not None and account.public_id == public_id):
        account = db.session.scalar(sa.select(model).where(model.public_id == public_id))
    if account is None or account.session_version != session_version:
        return None
    return account


def user_id_in_session() -> str | None:
    """The public id of the tenant user the session cookie names, not yet checked: the
    tenant lookup fetches that user along (``prefetch_user``) to save a round trip."""
    identity = session.get("_user_id")
    if not isinstance(identity, str) or not identity.startswith("user:"):
        return None
    return identity.split(":")[1] or None


def prefetch_user(user: User | None) -> None:
    """Hand Flask-Login's loader a user already read this request (it still checks the
    session version, and the tenant scope that the user is this tenant's)."""
    if user is not None:
        g.prefetched_user = user


def signed_in_account() -> User | StaffUser | None:
    account = current_user._get_current_object()
    return account if isinstance(account, User | StaffUser) else None


def signed_in_user(tenant: Tenant) -> User | None:
    """The signed-in user if they belong to ``tenant``."""
    account = signed_in_account()
    return account if isinstance(account, User) and account.tenant_id == tenant.id else None


def signed_in_staff() -> StaffUser | None:
    account = signed_in_account()
    return account if isinstance(account, StaffUser) else None


@dataclass(frozen=True)
class Visitor:
    """Who is visiting one tenant's pages.

    ``user`` is the signed-in user of this tenant, or the user support staff view as
    (then ``viewing`` says who, why and until when). ``view_ended`` is a view-as whose
    time ran out on this very request: the caller ends it.
    """

    user: User | None = None
    viewing: view_as.Viewing | None = None
    view_ended: view_as.Viewing | None = None
    other_tenant: bool = False  # signed in, but as a user of another tenant


def visitor_in(tenant: Tenant) -> Visitor:
    viewing, expired = view_as.viewing_in(signed_in_staff(), tenant)
    if viewing is not None:
        return Visitor(view_ended=viewing) if expired else Visitor(viewing.user, viewing)
    account = signed_in_account()
    if isinstance(account, User):
        if account.tenant_id == tenant.id:
            return Visitor(account)
        return Visitor(other_tenant=True)
    return Visitor()
