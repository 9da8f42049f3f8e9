from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.auth_session import signed_in_staff
from app.extensions import db, limiter
from app.models import StaffUser, Tenant
from app.rendering import render
from app.search_text import query_text
from app.services import accounts, audit_log, tenants
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationFailed
from app.sessions import end_session, next_url, start_session
from app.staff import bp
from app.staff.forms import ConfirmForm, CreateTenantForm, StaffSignInForm

PUBLIC_ENDPOINTS = {"staff.login", "staff.logout"}


@bp.before_request
def require_staff():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if signed_in_staff() is None:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    return None


def _staff() -> StaffUser:
    staff = signed_in_staff()
    assert staff is not None  # require_staff ran
    return staff


def _tenant_or_404(public_id: str) -> Tenant:
    try:
        return tenants.get_tenant_by_public_id(public_id)
    except NotFound:
        abort(404)


def _sign_in_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def login():
    if signed_in_staff() is not None:
        return redirect(next_url(url_for("staff.index")))
    form = StaffSignInForm()
    if form.validate_on_submit():
        try:
            staff = accounts.authenticate_staff(form.email.data, form.password.data)
        except ValidationFailed as error:
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
        end_session(signed_in_staff())
        db.session.commit()
        flash("You are signed out.", "info")
    return redirect(url_for("staff.login"), code=303)


@bp.get("/")
def index():
    query = query_text("q")
    page = tenants.search_tenants(query, page=request.args.get("page", 1, type=int))
    user_counts = tenants.count_users([tenant.id for tenant in page.items])
    return render(
        "staff/index.html",
        block="tenant_results",
        page=page,
        query=query,
        user_counts=user_counts,
        staff=_staff(),
    )


@bp.route("/tenants/new", methods=["GET", "POST"])
def new_tenant():
    staff = _staff()
    if not staff.is_superadmin:
        abort(403, "Only a superadmin can create tenants.")
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
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            emailed = "" if form.owner_password.data else " and is emailed a link to set a password"
            flash(f"Tenant {tenant.name} created; its owner is {owner.email}{emailed}.", "success")
            return redirect(url_for("staff.tenant", public_id=tenant.public_id), code=303)
    status = 422 if form.errors or form.form_errors else 200
    return render("staff/tenant_new.html", form=form, status=status, staff=staff)


@bp.get("/tenants/<public_id>")
def tenant(public_id: str):
    found = _tenant_or_404(public_id)
    return render(
        "staff/tenant.html",
        tenant=found,
        user_count=tenants.count_users([found.id]).get(found.id, 0),
        events=audit_log.recent_events(tenant=found, limit=20),
        form=ConfirmForm(),
        staff=_staff(),
    )


@bp.post("/tenants/<public_id>/suspend")
def suspend_tenant(public_id: str):
    found = _tenant_or_404(public_id)
    tenants.suspend_tenant(Actor.for_staff(_staff()), found)
    db.session.commit()
    flash(f"{found.name} is suspended: its users can no longer sign in.", "success")
    return redirect(url_for("staff.tenant", public_id=found.public_id), code=303)


@bp.post("/tenants/<public_id>/reactivate")
def reactivate_tenant(public_id: str):
    found = _tenant_or_404(public_id)
    tenants.reactivate_tenant(Actor.for_staff(_staff()), found)
    db.session.commit()
    flash(f"{found.name} is active again.", "success")
    return redirect(url_for("staff.tenant", public_id=found.public_id), code=303)


@bp.get("/audit")
def audit():
    page = audit_log.list_events(page=request.args.get("page", 1, type=int))
    return render("staff/audit.html", page=page, staff=_staff())
