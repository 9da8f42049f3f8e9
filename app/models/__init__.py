"""All models, importable from one place (and registered on ``db.metadata``)."""

from app.models.api import ApiKey, SigningKey
from app.models.audit import ActorType, AuditEvent
from app.models.base import UTCDateTime, utcnow
from app.models.invitation import Invitation, InvitationStatus, JoinLink
from app.models.organization import Membership, Organization, OrgClosure, OrgSlugRedirect
from app.models.outbox import (
    EmailVerificationToken,
    OutboxEmail,
    OutboxStatus,
    PasswordResetToken,
)
from app.models.role import CustomRole, Team, TeamMember
from app.models.support import ViewAsSession
from app.models.tenant import Tenant, TenantStatus
from app.models.user import StaffRole, StaffUser, TenantRole, User

__all__ = [
    "ActorType",
    "ApiKey",
    "AuditEvent",
    "CustomRole",
    "EmailVerificationToken",
    "Invitation",
    "InvitationStatus",
    "JoinLink",
    "Membership",
    "OrgClosure",
    "OrgSlugRedirect",
    "Organization",
    "OutboxEmail",
    "OutboxStatus",
    "PasswordResetToken",
    "SigningKey",
    "StaffRole",
    "StaffUser",
    "Team",
    "TeamMember",
    "Tenant",
    "TenantRole",
    "TenantStatus",
    "UTCDateTime",
    "User",
    "ViewAsSession",
    "utcnow",
]
