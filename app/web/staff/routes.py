"""The support console: find anything across tenants and help, with every action audited.

Routes stay thin: they check the staff permission (``app.policy.staff_can``), call the
same services as the tenant pages with ``Actor.for_staff``, commit once and redirect.
Refusals from the services go to the one error policy (``app.web.error_pages``).
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.actors import Actor
from app.errors import Conflict, ValidationFailed
from app.extensions import db, limiter
from app.models import StaffUser, User, utcnow
from app.policy import StaffAction, role_catalog, staff_can, staff_refusal
from app.services import accounts, invitations, members, orgs, outbox, passwords, support, tenants
from app.services.audit import log as audit_log
from app.services.pagination import cursor_from
from app.services.support import PlatformEventFilters, SearchKind
from app.web import view_as
from app.web.identity import signed_in_staff
from app.web.rendering import render
from app.web.search_text import query_text
from app.web.security import sign_in_limit
from app.web.sessions import end_session, next_url, start_session
from app.web.staff import bp
from app.web.staff.forms import (
    ChangeMemberRoleForm,
    ConfirmForm,
    CreateStaffForm,
    CreateTenantForm,
    FilterPlatformEventsForm,
    StaffSignInForm,
    ViewAsUserForm,
)
from app.web.views import confirmation_page

PUBLIC_ENDPOINTS = {"staff.login", "staff.logout"}


@bp.before_request
def require_staff():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    staff = signed_in_staff()
    if staff is None:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    if not staff_can(staff, StaffAction.SEARCH):
        abort(403, staff_refusal(StaffAction.SEARCH, "use the support console"))
    return None


@bp.context_processor
def staff_template_context() -> dict:
    return {
        "staff_may": lambda action: staff_can(signed_in_staff(), action),
        "StaffAction": StaffAction,
        "viewing_as": view_as.current(signed_in_staff()),
    }


def _staff() -> StaffUser:
    staff = signed_in_staff()
    assert staff is not None  # require_staff ran
    return staff


def _actor() -> Actor:
    return Actor.for_staff(_staff())


def _require(action: str, what: str) -> StaffUser:
    staff = _staff()
    if not staff_can(staff, action):
        abort(403, staff_refusal(action, what))
    return staff


# --- signing in and out --------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(sign_in_limit, methods=["POST"])
def login():
    if signed_in_staff() is not None:
        return redirect(next_url(url_for("staff.index")))
    form = StaffSignInForm()
    if form.validate_on_submit():
        try:
            staff = accounts.authenticate_staff(form.email.data, form.password.data)
        except ValidationFailed as error:
            db.session.commit()  # the failure count outlives the refused request
            form.apply_service_error(error)
        else:
            db.session.commit()
            start_session(staff)
            return redirect(next_url(url_for("staff.index")), code=303)
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "staff/login.html",
        form=form,
        status=status,
        tenant_user_signed_in=current_user.is_authenticated and signed_in_staff() is None,
    )


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        staff = signed_in_staff()
        if staff is not None:
            view_as.end_everywhere(staff, "signed out")  # as the sign-out itself
        end_session(staff)
        db.session.commit()
        flash("You are signed out.", "info")
    return redirect(url_for("staff.login"), code=303)


# --- tenants -------------------------------------------------------------------------


@bp.get("/")
def index():
    query = query_text("q")
    page = tenants.search_tenants(
        query, cursor=cursor_from(request.args, 1, types=tenants.TENANTS_CURSOR)
    )
    user_counts = tenants.count_users([tenant.id for tenant in page.items])
    return render(
        "staff/index.html",
        block="tenant_results",
        page=page,
        query=query,
        user_counts=user_counts,
        staff=_staff(),
    )


@bp.get("/search")
def search():
    """One box for users (email or name), orgs, tenants, or any exact public id; with
    ``kind``, page through one kind of result."""
    query = query_text("q")
    return render(
        "staff/search.html",
        block="search_results",
        query=query,
        results=support.search(
            query,
            kind=SearchKind.named(request.args.get("kind", "")),
            cursor=cursor_from(request.args, 2, types=support.SEARCH_CURSOR),
        ),
        now=utcnow(),
        staff=_staff(),
    )


@bp.route("/tenants/new", methods=["GET", "POST"])
def new_tenant():
    staff = _require(StaffAction.TENANTS_CREATE, "create tenants")
    form = CreateTenantForm()
    if form.validate_on_submit():
        try:
            tenant, owner = tenants.create_tenant(
                Actor.for_staff(staff),
                name=form.name.data,
                slug=form.slug.data,
                owner_email=form.owner_email.data,
                owner_name=form.owner_name.data or "",
                owner_password=form.owner_password.data,
                warn_on_same_name=not form.create_anyway.data,
            )
        except tenants.SameNameTenant as warning:
            db.session.rollback()
            form.keep_password_for_confirmation()
            return render(
                "staff/tenant_new.html",
                form=form,
                same_name=warning.existing,
                status=422,
                staff=staff,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            emailed = "" if form.owner_password.data else " and is emailed a link to set a password"
            flash(f"Tenant {tenant.name} created; its owner is {owner.email}{emailed}.", "success")
            return redirect(url_for("staff.tenant", public_id=tenant.public_id), code=303)
    status = 422 if form.errors or form.form_errors else 200
    if status != 200:
        db.session.rollback()
    return render("staff/tenant_new.html", form=form, same_name=None, status=status, staff=staff)


@bp.get("/tenants/<public_id>")
def tenant(public_id: str):
    """The tenant at a glance (four queries); its org tree, outbox and deleted orgs load
    as sections of their own."""
    found = tenants.get_tenant_by_public_id(public_id)
    return render(
        "staff/tenant.html",
        tenant=found,
        stats=tenants.tenant_stats(found),
        events=audit_log.recent_events(tenant=found, limit=20),
        staff=_staff(),
    )


@bp.get("/tenants/<public_id>/users")
def tenant_users(public_id: str):
    """The tenant's users, 50 at a time in name order, a page by key (``?after=`` or
    ``?before=``)."""
    found = tenants.get_tenant_by_public_id(public_id)
    return render(
        "staff/tenant_users.html",
        block="users",
        tenant=found,
        page=tenants.list_users(
            found, cursor=cursor_from(request.args, 2, types=tenants.USERS_CURSOR)
        ),
        staff=_staff(),
    )


@bp.get("/tenants/<public_id>/orgs")
def tenant_orgs(public_id: str):
    """One level of the tenant's org tree: the top level, or the children of ``?parent=``."""
    found = tenants.get_tenant_by_public_id(public_id)
    parent_id = request.args.get("parent", "")[:40]
    parent = orgs.get_org_by_public_id(found, parent_id) if parent_id else None
    cursor = cursor_from(request.args, 2, types=tenants.ORG_LEVEL_CURSOR)
    return render(
        "staff/tenant_orgs.html",
        block="org_level",
        tenant=found,
        parent=parent,
        path=orgs.ancestors(parent) if parent else [],
        page=tenants.org_level(found, parent, cursor=cursor),
        staff=_staff(),
    )


@bp.get("/tenants/<public_id>/outbox")
def tenant_outbox(public_id: str):
    found = tenants.get_tenant_by_public_id(public_id)
    return render(
        "staff/tenant_outbox.html",
        block="outbox",
        tenant=found,
        failed=outbox.failed_emails(found),
        staff=_staff(),
    )


@bp.post("/tenants/<public_id>/outbox/<email_id>/retry")
def retry_email(public_id: str, email_id: str):
    staff = _require(StaffAction.OUTBOX_RETRY, "retry emails")
    found = tenants.get_tenant_by_public_id(public_id)
    email = outbox.get_email(found, email_id)
    outbox.retry_email(Actor.for_staff(staff), found, email)
    db.session.commit()
    flash(f"The email to {email.to_address} is queued again.", "success")
    return redirect(url_for("staff.tenant_outbox", public_id=found.public_id), code=303)


@bp.get("/tenants/<public_id>/deleted")
def tenant_deleted(public_id: str):
    found = tenants.get_tenant_by_public_id(public_id)
    return render(
        "staff/tenant_deleted.html",
        block="deleted",
        tenant=found,
        deleted=orgs.list_deleted(found),
        staff=_staff(),
    )


@bp.post("/tenants/<public_id>/deleted/<org_id>/restore")
def restore_org(public_id: str, org_id: str):
    staff = _require(StaffAction.ORGS_RESTORE, "restore organizations")
    found = tenants.get_tenant_by_public_id(public_id)
    org = orgs.get_org_by_public_id(found, org_id, deleted=True)
    restored = orgs.restore_org(Actor.for_staff(staff), found, org)
    db.session.commit()
    below = restored - 1
    with_below = f" with {below} sub-organization{'' if below == 1 else 's'}" if below else ""
    flash(f"{org.name} is restored{with_below}.", "success")
    return redirect(url_for("staff.tenant_deleted", public_id=found.public_id), code=303)


@bp.route("/tenants/<public_id>/suspend", methods=["GET", "POST"])
def suspend_tenant(public_id: str):
    staff = _require(StaffAction.TENANTS_SUSPEND, "suspend tenants")
    found = tenants.get_tenant_by_public_id(public_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Suspend {found.name}?",
            question=f"Suspend the tenant {found.name} (/t/{found.slug}/)?",
            consequence="Its users are refused at once, and stay refused until you reactivate it.",
            button="Suspend tenant",
            cancel_url=url_for("staff.tenant", public_id=found.public_id),
        )
    tenants.suspend_tenant(Actor.for_staff(staff), found)
    db.session.commit()
    flash(f"{found.name} is suspended: its users can no longer sign in.", "success")
    return redirect(url_for("staff.tenant", public_id=found.public_id), code=303)


@bp.post("/tenants/<public_id>/reactivate")
def reactivate_tenant(public_id: str):
    staff = _require(StaffAction.TENANTS_SUSPEND, "reactivate tenants")
    found = tenants.get_tenant_by_public_id(public_id)
    tenants.reactivate_tenant(Actor.for_staff(staff), found)
    db.session.commit()
    flash(f"{found.name} is active again.", "success")
    return redirect(url_for("staff.tenant", public_id=found.public_id), code=303)


# --- a user --------------------------------------------------------------------------


def _user_page(user: User, *, view_as_form: ViewAsUserForm | None = None, status: int = 200):
    return render(
        "staff/user.html",
        user=user,
        tenant=user.tenant,
        memberships=orgs.list_user_orgs(user),
        roles=role_catalog(user.tenant_id),
        pending=invitations.pending_for(user),
        events=audit_log.events_about(user),
        view_as_form=view_as_form or ViewAsUserForm(),
        status=status,
        staff=_staff(),
    )


def _back_to(user: User):
    return redirect(url_for("staff.user", public_id=user.public_id), code=303)


@bp.get("/users/<public_id>")
def user(public_id: str):
    return _user_page(accounts.get_user_anywhere(public_id))


@bp.post("/users/<public_id>/orgs/<org_id>/role")
def change_member_role(public_id: str, org_id: str):
    staff = _require(StaffAction.MEMBERS_MANAGE, "change members' roles")
    found = accounts.get_user_anywhere(public_id)
    org = orgs.get_org_by_public_id(found.tenant, org_id)
    form = ChangeMemberRoleForm()
    if not form.validate_on_submit():
        raise ValidationFailed(" ".join(form.role.errors) or "Choose a role.", field="role")
    members.change_role(Actor.for_staff(staff), found.tenant, org, found, form.data["role"])
    db.session.commit()
    role = role_catalog(found.tenant_id)[form.data["role"]].name
    flash(f"{found.display_name} is now {role} in {org.name}.", "success")
    return _back_to(found)


@bp.route("/users/<public_id>/orgs/<org_id>/remove", methods=["GET", "POST"])
def remove_member(public_id: str, org_id: str):
    staff = _require(StaffAction.MEMBERS_MANAGE, "remove members")
    found = accounts.get_user_anywhere(public_id)
    org = orgs.get_org_by_public_id(found.tenant, org_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Remove {found.display_name} from {org.name}?",
            question=f"Remove {found.email} from {org.name} in {found.tenant.name}?",
            consequence="They lose their role there and in its sub-organizations.",
            button="Remove member",
            cancel_url=url_for("staff.user", public_id=found.public_id),
        )
    members.remove_member(Actor.for_staff(staff), found.tenant, org, found)
    db.session.commit()
    flash(f"{found.display_name} is removed from {org.name}.", "success")
    return _back_to(found)


@bp.post("/users/<public_id>/invitations/<invitation_id>/resend")
def resend_invitation(public_id: str, invitation_id: str):
    staff = _require(StaffAction.INVITATIONS_MANAGE, "resend invitations")
    found = accounts.get_user_anywhere(public_id)
    invitation, org = invitations.invitation_to(found, invitation_id)
    invitations.resend(Actor.for_staff(staff), found.tenant, org, invitation)
    db.session.commit()
    flash(
        f"The invitation to {org.name} is sent again; the earlier link no longer works.", "success"
    )
    return _back_to(found)


@bp.route("/users/<public_id>/invitations/<invitation_id>/revoke", methods=["GET", "POST"])
def revoke_invitation(public_id: str, invitation_id: str):
    staff = _require(StaffAction.INVITATIONS_MANAGE, "revoke invitations")
    found = accounts.get_user_anywhere(public_id)
    invitation, org = invitations.invitation_to(found, invitation_id)
    if request.method == "GET":
        return confirmation_page(
            title="Revoke the invitation?",
            question=f"Revoke the invitation of {invitation.email} to {org.name}?",
            consequence="Its link stops working at once.",
            button="Revoke invitation",
            cancel_url=url_for("staff.user", public_id=found.public_id),
        )
    invitations.revoke(Actor.for_staff(staff), found.tenant, org, invitation)
    db.session.commit()
    flash(f"The invitation to {org.name} is revoked.", "success")
    return _back_to(found)


@bp.post("/users/<public_id>/password-reset")
def send_password_reset(public_id: str):
    staff = _require(StaffAction.USERS_MANAGE, "send password resets")
    found = accounts.get_user_anywhere(public_id)
    passwords.send_reset(Actor.for_staff(staff), found)
    db.session.commit()
    flash(f"A password reset link is on its way to {found.email}.", "success")
    return _back_to(found)


@bp.route("/users/<public_id>/deactivate", methods=["GET", "POST"])
def deactivate_user(public_id: str):
    staff = _require(StaffAction.USERS_MANAGE, "deactivate users")
    found = accounts.get_user_anywhere(public_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Deactivate {found.display_name}?",
            question=f"Deactivate {found.email} in {found.tenant.name}?",
            consequence="They are signed out everywhere and can't sign in until reactivated.",
            button="Deactivate user",
            cancel_url=url_for("staff.user", public_id=found.public_id),
        )
    accounts.deactivate_user(Actor.for_staff(staff), found.tenant, found)
    db.session.commit()
    flash(f"{found.email} is deactivated and signed out everywhere.", "success")
    return _back_to(found)


@bp.post("/users/<public_id>/reactivate")
def reactivate_user(public_id: str):
    staff = _require(StaffAction.USERS_MANAGE, "reactivate users")
    found = accounts.get_user_anywhere(public_id)
    accounts.reactivate_user(Actor.for_staff(staff), found.tenant, found)
    db.session.commit()
    flash(f"{found.email} can sign in again.", "success")
    return _back_to(found)


# --- viewing as a user (read-only) ---------------------------------------------------


@bp.post("/users/<public_id>/view-as")
def start_view_as(public_id: str):
    staff = _require(StaffAction.VIEW_AS, "view as a user")
    found = accounts.get_user_anywhere(public_id)
    form = ViewAsUserForm()
    if form.validate_on_submit():
        try:
            view_as.start(staff, found, form.reason.data)
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            return redirect(url_for("tenant.home", tenant=found.tenant.slug), code=303)
    db.session.rollback()
    return _user_page(found, view_as_form=form, status=422)


@bp.post("/view-as/end")
def end_view_as():
    ConfirmForm().validate_on_submit()  # the CSRF check already ran; nothing else to read
    viewed = view_as.end(_staff(), "ended")
    db.session.commit()
    if viewed is None:
        return redirect(url_for("staff.index"), code=303)
    flash(f"You are no longer viewing as {viewed.email}.", "info")
    return _back_to(viewed)


# --- staff accounts ------------------------------------------------------------------


@bp.route("/staff", methods=["GET", "POST"])
def staff_accounts():
    staff = _require(StaffAction.STAFF_MANAGE, "manage staff accounts")
    form = CreateStaffForm()
    if form.validate_on_submit():
        try:
            created = accounts.create_staff(
                Actor.for_staff(staff),
                email=form.email.data,
                password=form.password.data,
                name=form.name.data or "",
                role=form.role.data,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        except Conflict as error:
            form.email.errors = [*form.email.errors, error.message]
        else:
            db.session.commit()
            flash(f"{created.email} can now sign in as {created.role}.", "success")
            return redirect(url_for("staff.staff_accounts"), code=303)
    status = 422 if form.errors or form.form_errors else 200
    if status != 200:
        db.session.rollback()
    return render(
        "staff/staff.html",
        page=accounts.list_staff(cursor=cursor_from(request.args, 1, types=accounts.STAFF_CURSOR)),
        form=form,
        status=status,
        staff=staff,
    )


@bp.route("/staff/<public_id>/deactivate", methods=["GET", "POST"])
def deactivate_staff(public_id: str):
    staff = _require(StaffAction.STAFF_MANAGE, "deactivate staff accounts")
    target = accounts.get_staff(public_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Deactivate {target.display_name}?",
            question=f"Deactivate the staff account {target.email}?",
            consequence="They are signed out at once and can't sign in until reactivated.",
            button="Deactivate staff account",
            cancel_url=url_for("staff.staff_accounts"),
        )
    accounts.deactivate_staff(Actor.for_staff(staff), target)
    db.session.commit()
    flash(f"{target.email} is deactivated and signed out everywhere.", "success")
    return redirect(url_for("staff.staff_accounts"), code=303)


@bp.post("/staff/<public_id>/reactivate")
def reactivate_staff(public_id: str):
    staff = _require(StaffAction.STAFF_MANAGE, "reactivate staff accounts")
    target = accounts.get_staff(public_id)
    accounts.reactivate_staff(Actor.for_staff(staff), target)
    db.session.commit()
    flash(f"{target.email} can sign in again.", "success")
    return redirect(url_for("staff.staff_accounts"), code=303)


# --- the platform's audit log --------------------------------------------------------


@bp.get("/audit")
def audit():
    """Every tenant's events and the platform's own, filtered by who, what, which tenant
    and when; filters with a mistake show it next to the field (and no events)."""
    form = FilterPlatformEventsForm(formdata=request.args)
    filters, page = None, None
    if form.validate():
        filters = PlatformEventFilters(
            actor=(form.actor.data or "").strip(),
            action=(form.action.data or "").strip(),
            tenant=(form.tenant.data or "").strip(),
            since=form.since.data,
            until=form.until.data,
        )
        cursor = cursor_from(request.args, 2, types=support.AUDIT_CURSOR)
        page = support.platform_events(filters, cursor=cursor)
    return render(
        "staff/audit.html",
        form=form,
        filters=filters,
        params=_filter_params(filters),
        page=page,
        status=200 if filters is not None else 422,
        staff=_staff(),
    )


def _filter_params(filters: PlatformEventFilters | None) -> dict[str, str]:
    """The filters as query-string values, for the pager."""
    if filters is None:
        return {}
    values = {
        "actor": filters.actor,
        "action": filters.action,
        "tenant": filters.tenant,
        "since": filters.since.isoformat() if filters.since else "",
        "until": filters.until.isoformat() if filters.until else "",
    }
    return {key: value for key, value in values.items() if value}
