"""Users: the tenant's people, and switching an account off (or on again)."""

from __future__ import annotations

from app.api import present
from app.api.core import caller, operation
from app.api.paging import page_of
from app.api.schemas import ListUsersQuery, Page, User
from app.models import User as UserRow
from app.policy import Perm, TenantPerm
from app.services import accounts, members

TAG = "Users"


@operation("GET", "/users", summary="List users", tag=TAG, query=ListUsersQuery,
           response=Page[User], errors=(400,),
           permission=Perm.MEMBERS_READ, tenant_wide=True)  # fmt: skip
def list_users(query: ListUsersQuery) -> Page[User]:
    stmt = accounts.users_query(caller.tenant, query=query.q or "")
    return page_of(stmt, UserRow.id, query, present.users_list, Page[User])


@operation("GET", "/users/<user_id>", summary="Get a user", tag=TAG, response=User,
           errors=(404,), permission=Perm.MEMBERS_READ, tenant_wide=True)  # fmt: skip
def get_user(user_id: str) -> User:
    return present.user(members.find_tenant_user(caller.tenant, user_id))


@operation("POST", "/users/<user_id>/deactivate", summary="Deactivate a user", tag=TAG,
           response=User, errors=(404, 409), permission=TenantPerm.USERS_MANAGE)  # fmt: skip
def deactivate_user(user_id: str) -> User:
    """They can't sign in any more and every session they have ends now; their
    memberships stay. The tenant's last active owner can't be deactivated."""
    user = members.find_tenant_user(caller.tenant, user_id)
    return present.user(accounts.deactivate_user(caller.actor, caller.tenant, user))


@operation("POST", "/users/<user_id>/reactivate", summary="Reactivate a user", tag=TAG,
           response=User, errors=(404, 409), permission=TenantPerm.USERS_MANAGE)  # fmt: skip
def reactivate_user(user_id: str) -> User:
    user = members.find_tenant_user(caller.tenant, user_id)
    return present.user(accounts.reactivate_user(caller.actor, caller.tenant, user))
