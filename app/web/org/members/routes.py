"""The members page and its row actions: thin views over ``app.services.members``.

The list pages by key (``?after=``/``?before=``, or ``?from=`` a letter). Row actions
are htmx requests aimed at their table row: Change role swaps the row for its role form
(a page of its own without JavaScript), whose Save answers with the row re-rendered;
Remove answers with what is left of the row. When the service refuses, the row comes
back with the refusal written inside it, under the refusal's own status (403, 409 or
422; base.html lets htmx swap them). Without htmx they redirect with a flash, or fall
through to the error page."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    request,
    session,
    stream_with_context,
    url_for,
)
from wtforms import SelectChoice

from app.errors import NotFound, ServiceError, ValidationFailed
from app.extensions import db
from app.models import User
from app.policy import (
    Perm,
    Role,
    access,
    can_manage_member,
    can_transfer_ownership,
    grantable_roles,
    role_catalog,
)
from app.services import members, orgs
from app.services.pagination import Cursor, KeysetPage
from app.web.org.members import bp
from app.web.org.members.forms import (
    OWNER_CONFIRMED,
    ChangeRoleForm,
    TransferOwnershipForm,
    UndoRemovalForm,
)
from app.web.rendering import render, wants_fragment
from app.web.scope import here
from app.web.search_text import query_text
from app.web.templating import UrlPattern
from app.web.views import confirmation_page, leave_page, refused_in_row, require

PER_PAGE = 50
TRANSFER_CHOICES = 100
UNDO_SESSION_KEY = "members_undo"
UNDO_MINUTES = int(members.UNDO_WINDOW.total_seconds() // 60)


def _filters() -> dict[str, str]:
    """The list's search, role filter and sort from the query string, unknowns dropped."""
    role = request.args.get("role", "")
    sort = request.args.get("sort", "name")
    return {
        "query": query_text("q"),
        "role": role if role in role_catalog(here.tenant.id) else "",
        "sort": sort if sort in members.SORTS else "name",
    }


def _sole_owner() -> int | None:
    return members.only_owner(members.chain_of(here.org))


def _row_context(sole_owner: int | None) -> dict[str, Any]:
    """What member rows need to know about the viewer, worked out once for any number of
    rows: a row then only looks up its role in small dicts. ``sole_owner``: the org's one
    owner (``members.only_owner``), offered neither Remove nor a role change."""
    catalog = role_catalog(here.tenant.id)
    viewer = here.access
    grantable = grantable_roles(viewer, catalog)
    may_change = viewer.can(Perm.MEMBERS_UPDATE_ROLE) and bool(grantable)
    may_remove = viewer.can(Perm.MEMBERS_REMOVE)
    reach: dict[str | None, bool] = {}
    dashboard = UrlPattern("tenant.org.dashboard", "org")
    org_urls: dict[str, str] = {}

    def org_url(slug: str) -> str:
        """The dashboard of the org a role comes from: a handful of ancestors, 50 rows."""
        if slug not in org_urls:
            org_urls[slug] = dashboard(slug)
        return org_urls[slug]

    def controls(row: members.MemberRow) -> tuple[bool, bool]:
        """Whether the row offers (Change role, Remove): a direct role within the viewer's
        reach, and not the org's one owner (neither removed nor demoted)."""
        if row.direct_role is None or (row.direct_role == Role.OWNER and row.user.id == sole_owner):
            return False, False
        if row.direct_role not in reach:
            reach[row.direct_role] = can_manage_member(viewer, row.direct_role, catalog)
        return (may_change, may_remove) if reach[row.direct_role] else (False, False)

    return {
        "org": here.org,
        "access": viewer,
        "role_names": {key: definition.name for key, definition in catalog.items()},
        "grantable": grantable,
        "grantable_keys": {role.key for role in grantable},
        "controls": controls,
        "sole_owner_id": sole_owner,
        "role_url": UrlPattern("tenant.org.members.change_role", "member"),
        "row_url": UrlPattern("tenant.org.members.row", "member"),
        "remove_url": UrlPattern("tenant.org.members.remove", "member"),
        "org_url": org_url,
    }


# --- the list ------------------------------------------------------------------------


def _members_page(
    filters: dict[str, str], chain: list[members.OrgRef], cursor: Cursor | None
) -> KeysetPage[members.MemberRow]:
    return members.list_members(
        here.tenant,
        here.org,
        query=filters["query"],
        role=filters["role"] or None,
        sort=filters["sort"],
        cursor=cursor,
        per_page=PER_PAGE,
        chain=chain,
        count=True,
    )


@bp.get("/members")
def index():
    require(Perm.MEMBERS_READ)
    filters = _filters()
    chain = members.chain_of(here.org)  # where roles come from, and the breadcrumbs
    # A page starts after/before a row's key, or at a letter (?from=M, names only); an
    # old ?page=N link, or a key that is not ours, starts at the beginning.
    letter = request.args.get("from", "").upper()
    letter = letter if filters["sort"] == "name" and letter in members.LETTERS else ""
    cursor = members.SORTS[filters["sort"]].cursor(request.args) or (
        members.start_at(letter) if letter else None
    )
    page = _members_page(filters, chain, cursor)
    if cursor is not None and not page.items:
        # Nothing after the key: for a letter, the last names before it; for a token
        # that points past the end (its row gone meanwhile), the first page.
        if letter and cursor.direction == "after":
            page = _members_page(filters, chain, Cursor("before", cursor.key))
        if not page.items:
            page = _members_page(filters, chain, None)
    sole_owner, is_direct = members.only_owner_and_direct(chain, here.user)
    context = _row_context(sole_owner)
    return render(
        "members/index.html",
        block="results",
        page=page,
        letter=letter,
        letters=members.LETTERS,
        from_url=UrlPattern(
            "tenant.org.members.index",
            "from",
            q=filters["query"] or None,
            role=filters["role"] or None,
        ),
        breadcrumbs=chain[:0:-1],  # root first, the org itself left out
        # Nothing to leave while support views as someone, or for the only owner.
        is_direct_member=here.viewing is None and is_direct,
        is_only_owner=sole_owner == here.user.id,
        can_transfer=here.viewing is None and can_transfer_ownership(here.access),
        can_invite=here.access.can(Perm.MEMBERS_INVITE),
        undo=None if wants_fragment() else _pop_undo(),
        catalog=role_catalog(here.tenant.id),
        **filters,
        **context,
    )


@bp.get("/members.csv")
def export():
    require(Perm.MEMBERS_READ)
    filters = _filters()
    chunks = members.export_csv(
        here.tenant, here.org, query=filters["query"], role=filters["role"] or None
    )
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{here.org.slug}-members.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- one row -------------------------------------------------------------------------


def _member(public_id: str) -> User:
    """A member (direct or inherited) of this org, or 404; seeing them needs members:read."""
    require(Perm.MEMBERS_READ)
    user = members.find_tenant_user(here.tenant, public_id)
    if members.member_row(here.tenant, here.org, user) is None:
        raise NotFound("No such member.")
    return user


def _row(
    user: User,
    *,
    editing: bool = False,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    refresh_access: bool = False,
    asking_owner: bool = False,
) -> Response:
    """The member's row as it is now (after a refusal: the role they really have); with
    ``editing``, its role form instead, if the viewer may still change that role."""
    if refresh_access and user.id == here.user.id:
        here.access = access(here.user, here.org)  # the viewer just changed their own role
    row = members.member_row(here.tenant, here.org, user)
    if row is None:
        return _empty()
    context = _row_context(_sole_owner())
    template = "members/_row.html"
    if editing and context["controls"](row)[0]:
        template = "members/_role_row.html"
    elif editing and error is None:  # a stale page, or a forged request
        error, status = f"You can't change {user.display_name}'s role here.", 403
    return render(
        template,
        row=row,
        error=error,
        notice=notice,
        asking_owner=asking_owner,
        status=status,
        **context,
    )


def _empty() -> Response:
    response = make_response("", 200)
    response.vary.add("HX-Request")
    return response


def _owner_consequence() -> str:
    return (
        f"Owners can do everything in {here.org.name} and the organizations below it, "
        "including deleting it, removing other owners and transferring ownership."
    )


def _asks_for_ownership(user: User, form: ChangeRoleForm) -> bool:
    """Granting Owner is asked again; the service still decides whether it may be given
    (ownership the viewer can't grant goes straight to its refusal)."""
    if form.data["role"] != Role.OWNER or form.owner_confirmed:
        return False
    row = members.member_row(here.tenant, here.org, user)
    grantable = {role.key for role in grantable_roles(here.access, role_catalog(here.tenant.id))}
    return row is not None and row.direct_role != Role.OWNER and Role.OWNER in grantable


@bp.get("/members/<member>")
def row(member: str):
    """The member's row as it is (Cancel on the role form or the ownership question); a
    browser that opens it is sent to the list."""
    user = _member(member)
    if wants_fragment():
        return _row(user)
    return redirect(url_for("tenant.org.members.index"), code=303)


@bp.route("/members/<member>/role", methods=["GET", "POST"])
def change_role(member: str):
    user = _member(member)
    if request.method == "GET":  # the role form: in the row with htmx, else a page
        require(Perm.MEMBERS_UPDATE_ROLE)
        if wants_fragment():
            return _row(user, editing=True)
        return _role_page(user)
    form = ChangeRoleForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(" ".join(form.role.errors) or "Choose a role.", field="role")
        if _asks_for_ownership(user, form):
            if wants_fragment():
                return _row(user, asking_owner=True)
            return confirmation_page(
                title=f"Make {user.display_name} an owner?",
                question=f"Make {user.display_name} an owner of {here.org.name}?",
                consequence=_owner_consequence(),
                button="Make owner",
                cancel_url=url_for("tenant.org.members.index"),
                fields={"role": Role.OWNER, "confirm_owner": OWNER_CONFIRMED},
                danger=False,
            )
        members.change_role(here.actor, here.tenant, here.org, user, form.data["role"])
    except ServiceError as error:
        return refused_in_row(error, partial(_row, user, editing=True))
    db.session.commit()
    role = role_catalog(here.tenant.id)[form.data["role"]].name
    if wants_fragment():
        return _row(user, notice=f"Role changed to {role}.", refresh_access=True)
    flash(f"{user.display_name} is now {role} in {here.org.name}.", "success")
    return redirect(url_for("tenant.org.members.index"), code=303)


def _role_page(user: User) -> Response:
    """Without JavaScript, Change role opens a page of its own with the row's form."""
    row = members.member_row(here.tenant, here.org, user)
    assert row is not None  # _member found them
    context = _row_context(_sole_owner())
    if not context["controls"](row)[0]:
        abort(403, f"You can't change {user.display_name}'s role here.")
    return render("members/role.html", row=row, **context)


@bp.route("/members/<member>/remove", methods=["GET", "POST"])
def remove(member: str):
    user = _member(member)
    if request.method == "GET":  # without JavaScript, Remove asks on a page of its own
        require(Perm.MEMBERS_REMOVE)
        return confirmation_page(
            title=f"Remove {user.display_name}?",
            question=f"Remove {user.display_name} from {here.org.name}?",
            consequence=(
                "They lose the access their role here gives them and leave this "
                f"organization's teams. You can undo it for {UNDO_MINUTES} minutes."
            ),
            button="Remove",
            cancel_url=url_for("tenant.org.members.index"),
        )
    try:
        removal = members.remove_member(here.actor, here.tenant, here.org, user)
    except ServiceError as error:
        return refused_in_row(error, partial(_row, user))
    db.session.commit()
    if user.id == here.user.id:
        flash(f"You are no longer a member of {here.org.name}.", "success")
        return leave_page(url_for("tenant.orgs.index"))
    undo = members.undo_token(here.org, removal)
    message = f"{user.display_name} was removed from {here.org.name}."
    if wants_fragment():  # swapped over the row: it says what happened, with an Undo
        return render("members/_removed.html", user=user, message=message, token=undo)
    session[UNDO_SESSION_KEY] = {"org": here.org.public_id, "user": user.public_id,
                                 "message": message, "token": undo}  # fmt: skip
    return redirect(url_for("tenant.org.members.index"), code=303)


@bp.post("/members/<member>/restore")
def restore(member: str):
    """Undo a removal: the person is back with the role, teams and joined date they had."""
    require(Perm.MEMBERS_READ)
    user = members.find_tenant_user(here.tenant, member)
    form = UndoRemovalForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed("This undo is not valid: reload the page.")
        members.restore_member(here.actor, here.tenant, here.org, user, form.data["token"])
    except ServiceError as error:
        db.session.rollback()
        if wants_fragment():
            return render(
                "members/_removed.html", user=user, error=error.message, status=error.status_code
            )
        flash(error.message, "error")
        return redirect(url_for("tenant.org.members.index"), code=303)
    db.session.commit()
    if wants_fragment():
        return _row(user, notice="Removal undone.")
    flash(f"{user.display_name} is back in {here.org.name}, as before.", "success")
    return redirect(url_for("tenant.org.members.index"), code=303)


def _pop_undo() -> dict[str, str] | None:
    """The Undo offered once after a removal without JavaScript (this org's only)."""
    undo = session.get(UNDO_SESSION_KEY)
    if not isinstance(undo, dict) or undo.get("org") != here.org.public_id:
        return None
    session.pop(UNDO_SESSION_KEY)
    return undo


# --- the viewer's own membership, and ownership --------------------------------------


@bp.route("/members/leave", methods=["GET", "POST"])
def leave():
    if here.access.role is None:
        abort(403, "You are not a member of this organization.")
    if request.method == "GET":  # without JavaScript, Leave asks on a page of its own
        return confirmation_page(
            title=f"Leave {here.org.name}?",
            question=f"Leave {here.org.name}?",
            consequence=(
                "You lose the access your role here gives you. To come back, someone "
                "will have to invite you again."
            ),
            button="Leave organization",
            cancel_url=url_for("tenant.org.members.index"),
        )
    members.leave_org(here.actor, here.tenant, here.org)  # refusals go to the error policy
    db.session.commit()
    flash(f"You left {here.org.name}.", "success")
    return leave_page(url_for("tenant.orgs.index"))


@bp.route("/members/transfer", methods=["GET", "POST"])
def transfer():
    if not can_transfer_ownership(here.access):
        abort(403, "Only an owner can transfer ownership.")
    query = query_text("q")
    candidates = members.list_members(here.tenant, here.org, query=query, per_page=TRANSFER_CHOICES)
    form = TransferOwnershipForm()
    form.user.choices = [SelectChoice("", "Choose a member…")] + [
        SelectChoice(row.user.public_id, f"{row.user.display_name} · {row.user.email}")
        for row in candidates.items
        if row.user.id != here.user.id
    ]
    me = members.member_row(here.tenant, here.org, here.user)
    steps_down = me is not None and me.direct_role == Role.OWNER
    if not steps_down:
        form.confirm.label.text = f"I understand they will have full control of {here.org.name}"
    if form.validate_on_submit():
        try:
            new_owner = members.find_tenant_user(here.tenant, form.data["user"])
            members.transfer_ownership(here.actor, here.tenant, here.org, new_owner)
        except NotFound:
            form.user.errors = [*form.user.errors, "Choose a member of this organization."]
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{new_owner.display_name} is now an owner of {here.org.name}.", "success")
            return redirect(url_for("tenant.org.members.index"), code=303)
    return render(
        "members/transfer.html",
        block="candidates",
        form=form,
        query=query,
        more=candidates.has_next,
        steps_down=steps_down,
        org=here.org,
        breadcrumbs=orgs.ancestors(here.org),
        status=422 if form.errors or form.form_errors else 200,
    )
