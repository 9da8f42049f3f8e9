"""The org's invitations: invite people, the invitations list and its row actions, join
links. Thin views over ``app.services.invitations``; all of it needs members:invite.

Row actions (Resend, Revoke) are htmx requests aimed at their table row, as on the
members page: the row comes back re-rendered, or with the service's refusal written
inside it under the refusal's status. Without htmx they redirect with a flash, or fall
through to the error page. No page ever shows an invitation's token.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Response, flash, redirect, request, url_for
from wtforms import SelectChoice

from app.errors import ServiceError, ValidationFailed
from app.extensions import db
from app.models import Invitation, InvitationStatus, utcnow
from app.policy import Perm, Role, grantable_roles, role_catalog
from app.services import invitations, join_links, orgs, teams
from app.services.invitations import Outcome
from app.services.pagination import cursor_from
from app.web.org.invitations import bp
from app.web.org.invitations.forms import CreateJoinLinkForm, InviteMembersForm
from app.web.rendering import render, wants_fragment
from app.web.scope import here
from app.web.views import confirmation_page, form_status, refused_in_row, require

PER_PAGE = 25
OUTCOMES = (
    Outcome.INVITED,
    Outcome.ALREADY_MEMBER,
    Outcome.ALREADY_INVITED,
    Outcome.INVALID,
    Outcome.DOMAIN_NOT_ALLOWED,
    Outcome.SEAT_LIMIT,
    Outcome.TOO_MANY,
)
# How a count of more than one reads, where it differs ("2 invalid addresses").
OUTCOME_PLURALS = {
    Outcome.ALREADY_MEMBER: "already members",
    Outcome.INVALID: "invalid addresses",
}

CANNOT_INVITE = "You don't have permission to invite people to this organization."


def _role_choices() -> list[SelectChoice]:
    """Only the roles the viewer may hand out here."""
    catalog = role_catalog(here.tenant.id)
    return [SelectChoice(role.key, role.name) for role in grantable_roles(here.access, catalog)]


def _default_role(choices: list[SelectChoice]) -> str | None:
    """What a blank form offers: the mildest sensible role, never the strongest by accident."""
    keys = [choice.value for choice in choices]
    return Role.MEMBER if Role.MEMBER in keys else (keys[-1] if keys else None)


def _invite_form() -> InviteMembersForm:
    form = InviteMembersForm()
    form.role.choices = _role_choices()
    form.teams.choices = [SelectChoice(t.public_id, t.name) for t, _n in teams.list_teams(here.org)]
    if not form.is_submitted():
        form.role.data = _default_role(form.role.choices)
    return form


def _link_form(*, blank: bool = False) -> CreateJoinLinkForm:
    choices = _role_choices()
    if blank:
        form = CreateJoinLinkForm(formdata=None, role=_default_role(choices))
    else:
        form = CreateJoinLinkForm()
    form.role.choices = choices
    return form


# --- inviting ------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new():
    require(Perm.MEMBERS_INVITE, CANNOT_INVITE)
    form = _invite_form()
    if form.validate_on_submit():
        try:
            results = invitations.invite(
                here.actor,
                here.tenant,
                here.org,
                addresses=form.addresses(),
                role=form.data["role"],
                team_ids=form.data["teams"],
                message=form.data["message"] or "",
            )  # too many this hour: RateLimited, the error policy's 429 page
        except ValidationFailed as error:
            db.session.rollback()
            form.apply_service_error(error)
        else:
            db.session.commit()
            counts = Counter(result.outcome for result in results)
            return render(
                "org_invitations/sent.html",
                org=here.org,
                breadcrumbs=orgs.ancestors(here.org),
                results=results,
                counts=[
                    (counts[outcome], OUTCOME_PLURALS.get(outcome, outcome))
                    if counts[outcome] > 1
                    else (1, outcome)
                    for outcome in OUTCOMES
                    if counts[outcome]
                ],
                skipped_formulas=form.skipped_formulas,
            )
    return render(
        "org_invitations/new.html",
        org=here.org,
        breadcrumbs=orgs.ancestors(here.org),
        form=form,
        status=form_status(form),
    )


# --- the list ------------------------------------------------------------------------


def _status_filter() -> str:
    status = request.args.get("status", "")
    return status if status in InvitationStatus.ALL else ""


def _row_context() -> dict[str, Any]:
    """What invitation rows need besides themselves: the org and role names."""
    return {"org": here.org, "catalog": role_catalog(here.tenant.id)}


@bp.get("")
def index():
    require(Perm.MEMBERS_INVITE, CANNOT_INVITE)
    return _index_page(block="results")


def _index_page(
    *,
    block: str | None = None,
    link_form: CreateJoinLinkForm | None = None,
    new_link_url: str | None = None,
    status: int = 200,
) -> Response:
    status_filter = _status_filter()
    cursor = cursor_from(request.args, 2, types=invitations.LIST_KEY_TYPES)
    page = invitations.list_invitations(
        here.org, status=status_filter or None, cursor=cursor, per_page=PER_PAGE
    )
    links = join_links.list_links(here.org)
    return render(
        "org_invitations/index.html",
        block=block,
        page=page,
        paged=cursor is not None,  # an empty page past the start is no empty list
        statuses=InvitationStatus.ALL,
        status_filter=status_filter,
        breadcrumbs=orgs.ancestors(here.org),
        join_link_rows=[(link, join_links.state(link)) for link in links],
        link_form=link_form or _link_form(blank=True),
        new_link_url=new_link_url,
        status=status,
        **_row_context(),
    )


# --- one invitation ------------------------------------------------------------------


def _invitation(public_id: str) -> Invitation:
    require(Perm.MEMBERS_INVITE, CANNOT_INVITE)
    return invitations.get_invitation(here.org, public_id)


def _row(
    public_id: str, *, error: str | None = None, notice: str | None = None, status=200
) -> Response:
    """The invitation's row of the list, as it is now (after the action, or its refusal)."""
    return render(
        "org_invitations/_row.html",
        invitation=invitations.invitation_row(here.org, public_id),
        error=error,
        notice=notice,
        status=status,
        **_row_context(),
    )


def _done(invitation: Invitation, notice: str, message: str) -> Response:
    db.session.commit()
    if wants_fragment():
        return _row(invitation.public_id, notice=notice)
    flash(message, "success")
    return redirect(url_for("tenant.org.invitations.index"), code=303)


@bp.post("/<public_id>/resend")
def resend(public_id: str):
    invitation = _invitation(public_id)
    try:
        invitations.resend(here.actor, here.tenant, here.org, invitation)
    except ServiceError as error:
        return refused_in_row(error, lambda **shown: _row(public_id, **shown))
    return _done(
        invitation,
        "Sent again with a new link; the earlier one no longer works.",
        f"Sent the invitation to {invitation.email} again, with a new link.",
    )


@bp.route("/<public_id>/revoke", methods=["GET", "POST"])
def revoke(public_id: str):
    invitation = _invitation(public_id)
    if request.method == "GET":  # without JavaScript, Revoke links here to ask first
        if invitation.effective_status(utcnow()) != InvitationStatus.PENDING:
            return redirect(url_for("tenant.org.invitations.index"), code=303)
        return confirmation_page(
            title="Revoke invitation",
            question=f"Revoke the invitation to {invitation.email}?",
            consequence="Its link stops working. You can invite the address again later.",
            button="Revoke invitation",
            cancel_url=url_for("tenant.org.invitations.index"),
        )
    try:
        invitations.revoke(here.actor, here.tenant, here.org, invitation)
    except ServiceError as error:
        return refused_in_row(error, lambda **shown: _row(public_id, **shown))
    return _done(
        invitation,
        "Revoked: the link no longer works.",
        f"Revoked the invitation to {invitation.email}: its link no longer works.",
    )


# --- join links ----------------------------------------------------------------------


@bp.route("/links", methods=["GET", "POST"])
def create_link():
    require(Perm.MEMBERS_INVITE, CANNOT_INVITE)
    if request.method == "GET":  # e.g. a reload after creating one: the URL is not shown again
        return redirect(url_for("tenant.org.invitations.index", _anchor="join-links"), code=303)
    form = _link_form()
    if form.validate():
        try:
            created = join_links.create(
                here.actor,
                here.tenant,
                here.org,
                role=form.data["role"],
                max_uses=form.data["max_uses"],
                expires_in_days=form.data["expires_in_days"],
                allowed_domain=form.data["allowed_domain"],
            )
        except ValidationFailed as error:
            db.session.rollback()
            form.apply_service_error(error)
        else:
            db.session.commit()
            # Shown this once: only the token's hash is stored.
            response = _index_page(new_link_url=created.url)
            response.headers["Cache-Control"] = "no-store"
            return response
    return _index_page(link_form=form, status=form_status(form))


@bp.route("/links/<public_id>/revoke", methods=["GET", "POST"])
def revoke_link(public_id: str):
    require(Perm.MEMBERS_INVITE, CANNOT_INVITE)
    back = url_for("tenant.org.invitations.index", _anchor="join-links")
    if request.method == "GET":  # without JavaScript, Revoke links here to ask first
        link = join_links.get_link(here.org, public_id)
        if link.revoked_at is not None:
            return redirect(back, code=303)
        role = role_catalog(here.tenant.id).get(link.role)
        role_name = role.name if role else link.role
        return confirmation_page(
            title="Revoke join link",
            question=f"Revoke the join link that adds people to {here.org.name} as {role_name}?",
            consequence="Nobody can join with it any more; people who joined with it stay.",
            button="Revoke join link",
            cancel_url=back,
        )
    link = join_links.revoke(here.actor, here.tenant, here.org, public_id)
    db.session.commit()
    if wants_fragment():
        return render(
            "org_invitations/_link_row.html",
            link=link,
            state=join_links.state(link),
            catalog=role_catalog(here.tenant.id),
            notice="Revoked: the link no longer lets anyone join.",
        )
    flash("Revoked the join link: it no longer lets anyone join.", "success")
    return redirect(back, code=303)
