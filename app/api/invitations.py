"""Invitations: invite by email (one or up to 1,000 at once), list, resend, revoke."""

from __future__ import annotations

from app.api import present
from app.api.core import caller, operation
from app.api.paging import page_of
from app.api.schemas import (
    CreateInvitation,
    CreateInvitations,
    Invitation,
    InviteResult,
    InviteResults,
    ListInvitationsQuery,
    Page,
)
from app.errors import Conflict, ValidationFailed
from app.models import Invitation as InvitationRow
from app.policy import Perm
from app.services import invitations
from app.services.invitations import Outcome, RateLimited

TAG = "Invitations"

OUTCOME_CODES = {
    Outcome.INVITED: "invited",
    Outcome.ALREADY_MEMBER: "already_member",
    Outcome.ALREADY_INVITED: "already_invited",
    Outcome.INVALID: "invalid_email",
    Outcome.DOMAIN_NOT_ALLOWED: "domain_not_allowed",
    Outcome.SEAT_LIMIT: "seat_limit_reached",
    Outcome.TOO_MANY: "rate_limited",
}
# How a single invitation that could not be made is answered.
REFUSALS = {
    Outcome.ALREADY_MEMBER: Conflict,
    Outcome.ALREADY_INVITED: Conflict,
    Outcome.SEAT_LIMIT: Conflict,
    Outcome.TOO_MANY: RateLimited,
}


@operation("GET", "/orgs/<org_id>/invitations", summary="List invitations", tag=TAG,
           query=ListInvitationsQuery, response=Page[Invitation], errors=(400, 404),
           permission=Perm.MEMBERS_INVITE)  # fmt: skip
def list_invitations(org_id: str, query: ListInvitationsQuery) -> Page[Invitation]:
    """Oldest first; a pending invitation past its expiry reads as `expired`."""
    org = caller.org(org_id)
    stmt = invitations.invitations_query(org, status=query.status)
    return page_of(
        stmt,
        InvitationRow.id,
        query,
        lambda rows: present.invitations_list(org, rows),
        Page[Invitation],
    )


@operation("POST", "/orgs/<org_id>/invitations", summary="Invite one person", tag=TAG,
           body=CreateInvitation, response=Invitation, status=201,
           errors=(403, 404, 409, 422, 429), permission=Perm.MEMBERS_INVITE)  # fmt: skip
def create_invitation(org_id: str, body: CreateInvitation) -> Invitation:
    """Emails an invitation link (single use, expiring) to the address."""
    org = caller.org(org_id)
    [result] = invitations.invite(
        caller.actor, caller.tenant, org,
        addresses=[body.email], role=body.role, team_ids=body.team_ids, message=body.message,
    )  # fmt: skip
    if result.invitation is None:
        refusal = REFUSALS.get(result.outcome)
        message = f"{body.email}: {result.detail or result.outcome}."
        if refusal is None:
            raise ValidationFailed(message, field="email")
        raise refusal(message)
    return present.invitation(org, result.invitation)


@operation("POST", "/orgs/<org_id>/invitations/bulk", summary="Invite many people", tag=TAG,
           body=CreateInvitations, response=InviteResults, errors=(403, 404, 422, 429),
           permission=Perm.MEMBERS_INVITE)  # fmt: skip
def create_invitations(org_id: str, body: CreateInvitations) -> InviteResults:
    """Each address gets its own outcome; one bad address doesn't stop the others."""
    org = caller.org(org_id)
    results = invitations.invite(
        caller.actor, caller.tenant, org,
        addresses=body.emails, role=body.role, team_ids=body.team_ids, message=body.message,
    )  # fmt: skip
    made = present.invitations_list(org, [r.invitation for r in results if r.invitation])
    by_id = {item.id: item for item in made}
    return InviteResults(
        data=[
            InviteResult(
                email=result.address,
                outcome=OUTCOME_CODES[result.outcome],
                detail=result.detail,
                invitation=by_id[result.invitation.public_id] if result.invitation else None,
            )
            for result in results
        ],
        invited=len(made),
    )


@operation("GET", "/orgs/<org_id>/invitations/<invitation_id>", summary="Get an invitation",
           tag=TAG, response=Invitation, errors=(404,),
           permission=Perm.MEMBERS_INVITE)  # fmt: skip
def get_invitation(org_id: str, invitation_id: str) -> Invitation:
    org = caller.org(org_id)
    return present.invitation(org, invitations.get_invitation(org, invitation_id))


@operation("POST", "/orgs/<org_id>/invitations/<invitation_id>/resend",
           summary="Resend an invitation", tag=TAG, response=Invitation,
           errors=(404, 409, 429), permission=Perm.MEMBERS_INVITE)  # fmt: skip
def resend_invitation(org_id: str, invitation_id: str) -> Invitation:
    """A new link with a renewed expiry; the link in the earlier email stops working."""
    org = caller.org(org_id)
    item = invitations.get_invitation(org, invitation_id)
    return present.invitation(org, invitations.resend(caller.actor, caller.tenant, org, item))


@operation("POST", "/orgs/<org_id>/invitations/<invitation_id>/revoke",
           summary="Revoke an invitation", tag=TAG, response=Invitation,
           errors=(404, 409), permission=Perm.MEMBERS_INVITE)  # fmt: skip
def revoke_invitation(org_id: str, invitation_id: str) -> Invitation:
    """Its link stops working at once; the record stays, as `revoked`."""
    org = caller.org(org_id)
    item = invitations.get_invitation(org, invitation_id)
    return present.invitation(org, invitations.revoke(caller.actor, caller.tenant, org, item))
