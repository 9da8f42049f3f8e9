"""Who is signed in: Flask-Login identities for tenant users and platform staff."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import LoginManager, current_user

from app.extensions import db
from app.models import StaffUser, Tenant, User


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
    account = db.session.scalar(sa.select(model).where(model.public_id == public_id))
    if account is None or account.session_version != session_version:
        return None
    return account


def signed_in_user(tenant: Tenant) -> User | None:
    """The signed-in user if they belong to ``tenant``."""
    if isinstance(current_user._get_current_object(), User) and current_user.tenant_id == tenant.id:
        return current_user._get_current_object()
    return None


def signed_in_staff() -> StaffUser | None:
    account = current_user._get_current_object()
    return account if isinstance(account, StaffUser) else None
