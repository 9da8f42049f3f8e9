"""``/self``: who an access token's user is, and what they may do, as of now."""

from __future__ import annotations

from app.api import present
from app.api.core import Unauthorized, bearer_token, operation
from app.api.schemas import OrgRoles, SelfInfo
from app.services import access_tokens

TAG = "Access tokens"


@operation("GET", "/self", summary="The access token's user, as of now", tag=TAG,
           response=SelfInfo, errors=(401,), auth="access_token")  # fmt: skip
def get_self() -> SelfInfo:
    """Takes a user's access token (not an API key). The answer is computed now, not
    copied from the token: a role changed or a membership removed since the token was
    made shows here at once."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send an access token as “Authorization: Bearer <jwt>”.")
    verified = access_tokens.verify(token)
    org = access_tokens.current_org(verified)
    granted = access_tokens.org_access(verified.user, org)
    return SelfInfo(
        user=present.user(verified.user),
        email_verified=verified.user.email_verified,
        tenant_id=verified.tenant.public_id,
        org_id=org.public_id if org is not None else None,
        role=granted.role,
        permissions=sorted(granted.permissions),
        authorization={
            org_id: OrgRoles(roles=entry["roles"])
            for org_id, entry in access_tokens.authorization(verified.user).items()
        },
    )
