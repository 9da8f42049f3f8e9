"""What the emailed single-use links of an account have in common: password links
(``PasswordResetToken``) and address-proving links (``EmailVerificationToken``).

Only a token's SHA-256 is stored; a link is live until used or expired, and only while
its account is active; a new link of a kind retires the account's earlier ones; spending
one is a conditional UPDATE, so two submissions of one link can't both win.
"""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa

from app.credentials import hash_token
from app.extensions import db
from app.models import EmailVerificationToken, PasswordResetToken, Tenant, User, utcnow

Link = TypeVar("Link", PasswordResetToken, EmailVerificationToken)

MAX_TOKEN_LENGTH = 100
INVALID_LINK = "This link is no longer valid: it was used, replaced or has expired."


def find_live(model: type[Link], tenant: Tenant, token: str) -> Link | None:
    """The live link ``token`` names, of an active account of ``tenant``; else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        sa.select(model)
        .join(User, User.id == model.user_id)
        .where(
            model.token_hash == hash_token(token),
            model.used_at.is_(None),
            model.expires_at > utcnow(),
            User.tenant_id == tenant.id,
            User.is_active_account.is_(True),
        )
    )


def retire_all(model: type[Link], user: User) -> None:
    """Every unused link of this kind of ``user`` stops working."""
    db.session.execute(
        sa.update(model)
        .where(model.user_id == user.id, model.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def spend(link: Link) -> bool:
    """Use ``link`` up; False if another request used it first."""
    model = type(link)
    spent = db.session.execute(
        sa.update(model)
        .where(model.id == link.id, model.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return spent == 1
