"""Who is acting, and from where: passed explicitly to every service that changes things."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import has_request_context, request

from app.models import ActorType, ApiKey, StaffUser, User

if TYPE_CHECKING:
    from app.policy import KeyScope


@dataclass(frozen=True)
class Actor:
    type: str
    id: str | None
    label: str
    user: User | None = None
    staff: StaffUser | None = None
    ip: str | None = None
    user_agent: str | None = None
    key_scope: KeyScope | None = None  # what an API key may do; None for everyone else

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(ActorType.USER, user.public_id, user.email, user=user, **_origin())

    @classmethod
    def for_staff(cls, staff: StaffUser) -> Actor:
        return cls(ActorType.STAFF, staff.public_id, staff.email, staff=staff, **_origin())

    @classmethod
    def for_api_key(cls, key: ApiKey, scope: KeyScope, creator_email: str | None) -> Actor:
        """Code holding one of the tenant's keys: it may do what the key's scope allows,
        and the audit log names the key and the person who made it."""
        made_by = f" (made by {creator_email})" if creator_email else ""
        return cls(
            ActorType.API_KEY,
            key.public_id,
            f"API key “{key.name}”{made_by}",
            key_scope=scope,
            **_origin(),
        )

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorType.SYSTEM, None, label, **_origin())

    @classmethod
    def anonymous(cls) -> Actor:
        """Someone not signed in yet (signing up or in); the event names the account."""
        return cls(ActorType.SYSTEM, None, "anonymous", **_origin())

    @classmethod
    def invitee(cls, email: str) -> Actor:
        """The holder of an invitation's link, without an account: named by the address
        it was sent to (holding the link proves it)."""
        return cls(ActorType.USER, None, email, **_origin())


def _origin() -> dict[str, str | None]:
    if not has_request_context():
        return {"ip": None, "user_agent": None}
    user_agent = request.user_agent.string or None
    return {
        "ip": request.remote_addr,
        "user_agent": user_agent[:255] if user_agent else None,
    }
