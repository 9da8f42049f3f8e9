"""Who is acting, and from where: passed explicitly to every service that changes things."""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request

from app.models import ActorType, ApiKey, StaffUser, User


@dataclass(frozen=True)
class Actor:
    type: str
    id: str | None
    label: str
    user: User | None = None
    staff: StaffUser | None = None
    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(ActorType.USER, user.public_id, user.email, user=user, **_origin())

    @classmethod
    def for_staff(cls, staff: StaffUser) -> Actor:
        return cls(ActorType.STAFF, staff.public_id, staff.email, staff=staff, **_origin())

    @classmethod
    def for_api_key(cls, key: ApiKey) -> Actor:
        """Code holding one of the tenant's keys: it acts for the tenant as a whole."""
        return cls(ActorType.API_KEY, key.public_id, f"API key “{key.name}”", **_origin())

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorType.SYSTEM, None, label, **_origin())

    @classmethod
    def anonymous(cls) -> Actor:
        """Someone not signed in yet (signing up or in); the event names the account."""
        return cls(ActorType.SYSTEM, None, "anonymous", **_origin())


def _origin() -> dict[str, str | None]:
    if not has_request_context():
        return {"ip": None, "user_agent": None}
    user_agent = request.user_agent.string or None
    return {
        "ip": request.remote_addr,
        "user_agent": user_agent[:255] if user_agent else None,
    }
