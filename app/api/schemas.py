"""The API's request and response shapes (pydantic), which are also its OpenAPI schemas.

Request models refuse unknown fields, so a ``tenant_id`` in a body is an error rather
than something quietly honoured: the tenant is always the API key's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.policy import ALL_PERMISSIONS

# One line of text with no control characters (NUL and friends never reach the database).
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
# Text that may span lines (a personal message).
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _id(prefix: str, description: str):
    return Annotated[
        str,
        StringConstraints(pattern=rf"^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$"),
        Field(description=description, examples=[f"{prefix}_01JD5Q8Z9Y3XK7V2N4M6P8R0ST"]),
    ]


OrgId = _id("org", "An organization's id.")
UserId = _id("usr", "A user's id.")
TeamId = _id("team", "A team's id.")
InvitationId = _id("inv", "An invitation's id.")
RoleId = _id("role", "A custom role's id.")
ApiKeyId = _id("key", "An API key's id.")
TenantId = _id("tnt", "A tenant's id.")

Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=ONE_LINE)]
ShortName = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=ONE_LINE)]
Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
    Field(description="Lowercase letters, digits and single hyphens."),
]
RoleKey = Annotated[
    str,
    StringConstraints(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]*$"),
    Field(description="A role's key: owner, admin, member, viewer or a custom role's key."),
]
Email = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=r"^[^\x00-\x20\x7f@]+@[^\x00-\x20\x7f@]+$"
    ),
]
SearchText = Annotated[str, StringConstraints(max_length=100, pattern=ONE_LINE)]
Message = Annotated[str, StringConstraints(max_length=1000, pattern=MULTI_LINE)]
Description = Annotated[str, StringConstraints(max_length=300, pattern=ONE_LINE)]
HttpsUrl = Annotated[str, StringConstraints(max_length=500, pattern=r"^https://[^\x00-\x20\x7f]+$")]
Permission = Literal[tuple(sorted(ALL_PERMISSIONS))]  # type: ignore[valid-type]
JsonObject = Annotated[
    dict[str, Any],
    Field(description="A JSON object of at most 8 KB; keys of at most 64 characters."),
]
InvitationState = Literal["pending", "accepted", "declined", "revoked", "expired"]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class QueryModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- paging --------------------------------------------------------------------------

T = TypeVar("T")


class PageQuery(QueryModel):
    limit: int = Field(25, ge=1, le=100, description="How many items per page (1-100).")
    cursor: (
        Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] | None
    ) = Field(None, description="The `next_cursor` of the previous page.")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``{"data": [...], "next_cursor": ...}``."""

    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


# --- errors --------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    error: ErrorInfo


# --- organizations -------------------------------------------------------------------


class Org(BaseModel):
    id: OrgId
    name: str
    slug: str
    parent_id: OrgId | None
    logo_url: str | None
    is_personal: bool
    public_metadata: dict[str, Any]
    private_metadata: dict[str, Any] | None = Field(
        description="null for a key without `org:update`: private data is for those who "
        "may edit the organization."
    )
    settings: dict[str, Any] | None = Field(
        description="null for a key without `org:update`, as `private_metadata`."
    )
    created_at: datetime
    updated_at: datetime


class SubtreeOrg(Org):
    depth: int = Field(description="Levels below the organization asked about (1 = a child).")


class ListOrgsQuery(PageQuery):
    parent_id: OrgId | None = Field(None, description="Only the children of this organization.")
    top_level: bool = Field(False, description="Only organizations without a parent.")
    q: SearchText | None = Field(None, description="Names containing this text.")


class CreateOrg(RequestModel):
    name: Name
    slug: Slug | None = Field(None, description="Derived from the name when left out.")
    parent_id: OrgId | None = Field(None, description="Create it below this organization.")
    owner_id: UserId | None = Field(None, description="Make this user its first owner.")


class UpdateOrg(RequestModel):
    name: Name | None = None
    slug: Slug | None = None
    logo_url: HttpsUrl | None = None
    public_metadata: JsonObject | None = Field(None, description="Members can read it.")
    private_metadata: JsonObject | None = Field(None, description="Only admins can read it.")
    settings: JsonObject | None = None


class MoveOrg(RequestModel):
    parent_id: OrgId | None = Field(description="The new parent, or null for the top level.")


# --- members -------------------------------------------------------------------------


class UserRef(BaseModel):
    id: UserId
    email: str
    name: str


class Member(BaseModel):
    user: UserRef
    role: str = Field(description="The effective role: the strongest held here or above.")
    direct_role: str | None = Field(description="The role held in this organization itself.")
    inherited_from: OrgId | None = Field(
        description="The ancestor the effective role comes from, when it is inherited."
    )
    joined_at: datetime | None
    team_ids: list[TeamId]


class ListMembersQuery(PageQuery):
    q: SearchText | None = Field(None, description="Names or emails containing this text.")
    role: RoleKey | None = Field(None, description="Only members whose effective role is this.")


class AddMember(RequestModel):
    user_id: UserId
    role: RoleKey


class ChangeRole(RequestModel):
    role: RoleKey


# --- invitations ---------------------------------------------------------------------


class Invitation(BaseModel):
    id: InvitationId
    org_id: OrgId
    email: str
    role: str
    status: InvitationState
    team_ids: list[TeamId]
    message: str
    inviter_id: UserId | None
    expires_at: datetime
    created_at: datetime
    responded_at: datetime | None


class ListInvitationsQuery(PageQuery):
    status: InvitationState | None = None


class CreateInvitation(RequestModel):
    email: Email
    role: RoleKey = "member"
    team_ids: list[TeamId] = Field(default_factory=list, max_length=50)
    message: Message = ""


class CreateInvitations(RequestModel):
    emails: list[
        Annotated[str, StringConstraints(min_length=1, max_length=254, pattern=ONE_LINE)]
    ] = Field(
        min_length=1,
        max_length=1000,
        description="Each address gets its own outcome, a malformed one included.",
    )
    role: RoleKey = "member"
    team_ids: list[TeamId] = Field(default_factory=list, max_length=50)
    message: Message = ""


InviteOutcome = Literal[
    "invited",
    "already_member",
    "already_invited",
    "invalid_email",
    "domain_not_allowed",
    "seat_limit_reached",
    "rate_limited",
]


class InviteResult(BaseModel):
    email: str
    outcome: InviteOutcome
    detail: str
    invitation: Invitation | None


class InviteResults(BaseModel):
    data: list[InviteResult]
    invited: int = Field(description="How many addresses were invited.")


# --- teams ---------------------------------------------------------------------------


class Team(BaseModel):
    id: TeamId
    org_id: OrgId
    name: str
    member_count: int
    created_at: datetime


class TeamInput(RequestModel):
    name: ShortName


class AddTeamMember(RequestModel):
    user_id: UserId


# --- roles ---------------------------------------------------------------------------


class Role(BaseModel):
    id: RoleId | None = Field(description="Null for the built-in roles, which are not editable.")
    key: str
    name: str
    description: str
    permissions: list[str]
    built_in: bool


class CreateRole(RequestModel):
    key: RoleKey
    name: ShortName
    description: Description = ""
    permissions: list[Permission] = Field(min_length=1)


class UpdateRole(RequestModel):
    name: ShortName | None = None
    description: Description | None = None
    permissions: list[Permission] | None = Field(None, min_length=1)


class DeleteRoleQuery(QueryModel):
    reassign_to: RoleKey | None = Field(
        None, description="Give this role to the members who still hold the deleted one."
    )


# --- users ---------------------------------------------------------------------------


class User(BaseModel):
    id: UserId
    email: str
    name: str
    tenant_role: Literal["owner", "admin", "member"]
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class ListUsersQuery(PageQuery):
    q: SearchText | None = Field(None, description="Names or emails containing this text.")


# --- the signed-in user (access tokens) ----------------------------------------------


class OrgRoles(BaseModel):
    roles: list[str]


class SelfInfo(BaseModel):
    user: User
    email_verified: bool = Field(
        description="Whether the user's address is proven, now. Until it is, the user "
        "sees no organization: org_id, role, permissions and authorization are empty."
    )
    tenant_id: TenantId
    org_id: OrgId | None = Field(description="The token's organization (its current one).")
    role: str | None = Field(description="The user's effective role there, now.")
    permissions: list[str] = Field(description="What that role allows there, now.")
    authorization: dict[str, OrgRoles] = Field(
        description="Every organization the user is a direct member of, with their roles."
    )
