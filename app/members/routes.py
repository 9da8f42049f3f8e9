"""The members page and its row actions: thin views over ``app.services.members``.

Row actions (Role select, Remove) are htmx requests aimed at their table row: on success
the row comes back re-rendered (or empty, so it disappears); when the service refuses,
the row comes back with the refusal written inside it, under the refusal's own status
(403, 409 or 422; base.html lets htmx swap them). Without htmx they redirect with a
flash, or fall through to the error page.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    g,
    make_response,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from wtforms import SelectChoice

from app.extensions import db
from app.members import bp
from app.members.forms import ChangeRoleForm, TransferOwnershipForm
from app.models import User
from app.policy import Perm, Role, access, can_manage_member, grantable_roles, role_catalog
from app.rendering import htmx_redirect, render, wants_fragment
from app.search_text import query_text
from app.services import members, orgs
from app.services.actors import Actor
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.templating import UrlPattern

PER_PAGE = 50
TRANSFER_CHOICES = 100


def _require(permission: str) -> None:
    if not g.access.can(permission):
        abort(403, "You don't have permission to do that in this organization.")


def _actor() -> Actor:
    return Actor.for_user(g.user)


def _go(location: str) -> Response:
    """Leave this page: a 303, or for an htmx request a client-side redirect."""
    return htmx_redirect(location) if wants_fragment() else redirect(location, code=303)


def _filters() -> dict[str, str]:
    """The list's search, role filter and sort from the query string, unknowns dropped."""
    role = request.args.get("role", "")
    sort = request.args.get("sort", "name")
    return {
        "query": query_text("q"),
        "role": role if role in role_catalog(g.tenant.id) else "",
        "sort": sort if sort in members.SORTS else "name",
    }


def _row_context() -> dict[str, Any]:
    """What a member row needs to know about the viewer, for any number of rows."""
    catalog = role_catalog(g.tenant.id)
    viewer = g.access

    def manageable(row: members.MemberRow) -> bool:
        return row.direct_role is not None and can_manage_member(
            viewer, row.direct_role, role_catalog(g.tenant.id)
        )

    grantable = grantable_roles(viewer, catalog)
    return {
        "org": g.org,
        "access": viewer,
        "catalog": catalog,
        "grantable": grantable,
        "grantable_keys": {role.key for role in grantable},
        "manageable": manageable,
        "role_url": UrlPattern("tenant.members.change_role", "member"),
        "remove_url": UrlPattern("tenant.members.remove", "member"),
        "org_url": UrlPattern("tenant.orgs.dashboard", "org"),
    }


# --- the list ------------------------------------------------------------------------


@bp.get("/members")
def index():
    _require(Perm.MEMBERS_READ)
    filters = _filters()
    chain = members.chain_of(g.org)  # where roles come from, and the breadcrumbs
    page = members.list_members(
        g.tenant,
        g.org,
        query=filters["query"],
        role=filters["role"] or None,
        sort=filters["sort"],
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        chain=chain,
    )
    return render(
        "members/index.html",
        block="results",
        page=page,
        breadcrumbs=chain[:0:-1],  # root first, the org itself left out
        can_leave=members.is_direct_member(g.org, g.user),
        can_transfer=g.access.role == Role.OWNER,
        can_invite=g.access.can(Perm.MEMBERS_INVITE),
        **filters,
        **_row_context(),
    )


@bp.get("/members.csv")
def export():
    _require(Perm.MEMBERS_READ)
    filters = _filters()
    chunks = members.export_csv(
        g.tenant, g.org, query=filters["query"], role=filters["role"] or None
    )
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{g.org.slug}-members.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- one row -------------------------------------------------------------------------


def _member(public_id: str) -> User:
    """A member (direct or inherited) of this org, or 404; seeing them needs members:read."""
    _require(Perm.MEMBERS_READ)
    user = members.find_tenant_user(g.tenant, public_id)
    if members.member_row(g.tenant, g.org, user) is None:
        raise NotFound("No such member.")
    return user


def _row(
    user: User, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> Response:
    if user.id == g.user.id:
        g.access = access(g.user, g.org)  # the viewer may just have changed their own role
    row = members.member_row(g.tenant, g.org, user)
    if row is None:
        return _empty()
    return render(
        "members/_row.html", row=row, error=error, notice=notice, status=status, **_row_context()
    )


def _empty() -> Response:
    response = make_response("", 200)
    response.vary.add("HX-Request")
    return response


def _refused(user: User, error: ServiceError) -> Response:
    """The row with the service's refusal inside it; without htmx, the error page."""
    db.session.rollback()
    if not wants_fragment():
        raise error
    return _row(user, error=error.message, status=error.status_code)


@bp.post("/members/<member>/role")
def change_role(member: str):
    user = _member(member)
    form = ChangeRoleForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(" ".join(form.role.errors) or "Choose a role.", field="role")
        members.change_role(_actor(), g.tenant, g.org, user, form.data["role"])
    except ServiceError as error:
        return _refused(user, error)
    db.session.commit()
    role = role_catalog(g.tenant.id)[form.data["role"]].name
    if wants_fragment():
        return _row(user, notice=f"Role changed to {role}.")
    flash(f"{user.display_name} is now {role} in {g.org.name}.", "success")
    return redirect(url_for("tenant.members.index"), code=303)


@bp.post("/members/<member>/remove")
def remove(member: str):
    user = _member(member)
    try:
        members.remove_member(_actor(), g.tenant, g.org, user)
    except ServiceError as error:
        return _refused(user, error)
    db.session.commit()
    if user.id == g.user.id:
        flash(f"You are no longer a member of {g.org.name}.", "success")
        return _go(url_for("tenant.orgs.index"))
    if wants_fragment():
        return _empty()  # swapped over the row: it disappears
    flash(f"{user.display_name} is removed from {g.org.name}.", "success")
    return redirect(url_for("tenant.members.index"), code=303)


# --- the viewer's own membership, and ownership --------------------------------------


@bp.post("/members/leave")
def leave():
    if g.access.role is None:
        abort(403, "You are not a member of this organization.")
    members.leave_org(_actor(), g.tenant, g.org)  # refusals go to the error policy
    db.session.commit()
    flash(f"You left {g.org.name}.", "success")
    return _go(url_for("tenant.orgs.index"))


@bp.route("/members/transfer", methods=["GET", "POST"])
def transfer():
    if g.access.role != Role.OWNER:
        abort(403, "Only an owner can transfer ownership.")
    query = query_text("q")
    candidates = members.list_members(g.tenant, g.org, query=query, per_page=TRANSFER_CHOICES)
    form = TransferOwnershipForm()
    form.user.choices = [SelectChoice("", "Choose a member…")] + [
        SelectChoice(row.user.public_id, f"{row.user.display_name} · {row.user.email}")
        for row in candidates.items
        if row.user.id != g.user.id
    ]
    me = members.member_row(g.tenant, g.org, g.user)
    steps_down = me is not None and me.direct_role == Role.OWNER
    if not steps_down:
        form.confirm.label.text = f"I understand they will have full control of {g.org.name}"
    if form.validate_on_submit():
        try:
            new_owner = members.find_tenant_user(g.tenant, form.data["user"])
            members.transfer_ownership(_actor(), g.tenant, g.org, new_owner)
        except NotFound:
            form.user.errors = [*form.user.errors, "Choose a member of this organization."]
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{new_owner.display_name} is now an owner of {g.org.name}.", "success")
            return redirect(url_for("tenant.members.index"), code=303)
    return render(
        "members/transfer.html",
        block="candidates",
        form=form,
        query=query,
        more=candidates.has_next,
        steps_down=steps_down,
        org=g.org,
        breadcrumbs=orgs.ancestors(g.org),
        status=422 if form.errors or form.form_errors else 200,
    )
