from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.errors import ServiceError, ValidationFailed
from app.extensions import db, limiter
from app.models import Invitation, Organization, Tenant, User, utcnow
from app.policy import Perm, access, role_catalog
from app.services import accounts, invitations, join_links, members
from app.services.invitations import DeadLink, DeadReason
from app.web.invitee import bp
from app.web.invitee.forms import AcceptWithSignInForm, AcceptWithSignUpForm
from app.web.rendering import render
from app.web.scope import current_org
from app.web.security import sign_in_limit
from app.web.sessions import end_session, start_session


def _signed_in_user(tenant_id: int) -> User | None:
    account = current_user._get_current_object()
    return account if isinstance(account, User) and account.tenant_id == tenant_id else None


def _can_open(user: User | None, org: Organization | None) -> bool:
    return (
        user is not None
        and org is not None
        and not org.is_deleted
        and (access(user, org).can(Perm.ORG_READ))
    )


def _dead_page(dead: DeadLink, *, join_link: bool = False):
    """A link that no longer works: why, and the way on from here (the org, for someone
    who can open it; signing in, for anyone else)."""
    user = _signed_in_user(dead.tenant.id) if dead.tenant is not None else None
    account = current_user._get_current_object()
    elsewhere = (
        account.tenant
        if isinstance(account, User) and dead.tenant is not None and user is None
        else None
    )
    return render(
        "invitations/invalid.html",
        dead=dead,
        reasons=DeadReason,
        join_link=join_link,
        user=user,
        in_org=_can_open(user, dead.org),
        accepted_here=user is not None and user.id == dead.accepted_by_id,
        elsewhere=elsewhere,
        status=410,
    )


def _no_longer_valid(token: str):
    return _dead_page(invitations.why_dead(token))


def _context(invitation: Invitation) -> dict:
    tenant = db.session.get(Tenant, invitation.tenant_id)
    org = db.session.get(Organization, invitation.org_id)
    inviter = db.session.get(User, invitation.inviter_id) if invitation.inviter_id else None
    role = role_catalog(invitation.tenant_id).get(invitation.role)
    return {
        "invitation": invitation,
        "tenant": tenant,
        "org": org,
        "inviter": inviter,
        "role_name": role.name if role else invitation.role,
        "now": utcnow(),
    }


def _welcome(org: Organization, tenant: Tenant):
    current_org.remember(org)
    flash(f"Welcome to {org.name}!", "success")
    return redirect(url_for("tenant.org.dashboard", tenant=tenant.slug, org=org.slug), code=303)


@bp.get("/invitations/<token>")
def show(token: str):
    """Who invited whom to what; then the one next step that fits the visitor. GET never
    changes anything."""
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _no_longer_valid(token)
    context = _context(invitation)
    user = _signed_in_user(invitation.tenant_id)
    if user is not None:
        step = "accept" if user.email == invitation.email else "wrong_account"
    elif accounts.find_user(context["tenant"], invitation.email) is not None:
        step = "sign_in"
    else:
        step = "sign_up"
    return _invitation_page(token, invitation, step, user=user, context=context)


def _invitation_page(
    token: str,
    invitation: Invitation,
    step: str,
    *,
    user: User | None = None,
    sign_in_form: AcceptWithSignInForm | None = None,
    sign_up_form: AcceptWithSignUpForm | None = None,
    context: dict | None = None,
    status: int = 200,
):
    """The invitation page at one step; a submitted form comes back with its errors."""
    return render(
        "invitations/show.html",
        token=token,
        step=step,
        user=user,
        sign_in_form=sign_in_form or AcceptWithSignInForm(formdata=None),
        sign_up_form=sign_up_form or AcceptWithSignUpForm(formdata=None),
        status=status,
        **(context or _context(invitation)),
    )


@bp.post("/invitations/<token>/accept")
def accept(token: str):
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _no_longer_valid(token)
    user = _signed_in_user(invitation.tenant_id)
    if user is None:
        return redirect(url_for("invitee.show", token=token), code=303)
    try:
        org = invitations.accept(invitation, user, through_link=True)
    except invitations.NoLongerValid:
        db.session.rollback()
        return _no_longer_valid(token)
    db.session.commit()
    return _welcome(org, db.session.get(Tenant, invitation.tenant_id))


@bp.post("/invitations/<token>/sign-up")
@limiter.limit(sign_in_limit, methods=["POST"])
def sign_up(token: str):
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _no_longer_valid(token)
    form = AcceptWithSignUpForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept_with_sign_up(
                invitation, name=form.name.data, password=form.password.data
            )
        except invitations.NoLongerValid:
            db.session.rollback()
            return _no_longer_valid(token)
        except ValidationFailed as error:
            db.session.rollback()
            form.apply_service_error(error)
        except ServiceError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            org = db.session.get(Organization, invitation.org_id)
            tenant = db.session.get(Tenant, invitation.tenant_id)
            db.session.commit()
            start_session(user)
            return _welcome(org, tenant)
    return _invitation_page(token, invitation, "sign_up", sign_up_form=form, status=422)


@bp.post("/invitations/<token>/sign-in")
@limiter.limit(sign_in_limit, methods=["POST"])
def sign_in(token: str):
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _no_longer_valid(token)
    form = AcceptWithSignInForm()
    tenant = db.session.get(Tenant, invitation.tenant_id)
    if form.validate_on_submit():
        try:
            user = accounts.authenticate_user(tenant, invitation.email, form.password.data)
        except ValidationFailed as error:
            db.session.commit()  # the failure count (the only change): it must stay
            form.apply_service_error(error)
            return _invitation_page(token, invitation, "sign_in", sign_in_form=form, status=422)
        try:
            org = invitations.accept(invitation, user, through_link=True)
        except invitations.NoLongerValid:
            db.session.rollback()
            return _no_longer_valid(token)
        except ValidationFailed as error:
            db.session.rollback()
            form.apply_service_error(error)
        else:
            db.session.commit()
            start_session(user)
            return _welcome(org, tenant)
    return _invitation_page(token, invitation, "sign_in", sign_in_form=form, status=422)


@bp.post("/invitations/<token>/decline")
def decline(token: str):
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _no_longer_valid(token)
    user = _signed_in_user(invitation.tenant_id)
    context = _context(invitation)
    try:
        invitations.decline(invitation, user)
    except invitations.NoLongerValid:
        db.session.rollback()
        return _no_longer_valid(token)
    db.session.commit()
    return render("invitations/declined.html", **context)


@bp.post("/invitations/<token>/switch-account")
def switch_account(token: str):
    """Signed in as someone else: sign out, then come back to the invitation."""
    invitation = invitations.find_by_token(token)
    if invitation is None:
        return _no_longer_valid(token)
    account = current_user._get_current_object() if current_user.is_authenticated else None
    end_session(account)
    db.session.commit()
    return redirect(url_for("invitee.show", token=token), code=303)


# --- join links ------------------------------------------------------------------------


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    link = join_links.find_by_token(token)
    if link is None:
        return _dead_page(join_links.why_dead(token), join_link=True)
    tenant = db.session.get(Tenant, link.tenant_id)
    org = db.session.get(Organization, link.org_id)
    user = _signed_in_user(link.tenant_id)
    error = None
    if request.method == "POST":
        if user is None:
            abort(403, "Sign in first.")
        try:
            joined = join_links.join(link, user)
        except ServiceError as failure:
            db.session.rollback()
            error = failure.message
        else:
            db.session.commit()
            return _welcome(joined, tenant)
    role = role_catalog(link.tenant_id).get(link.role)
    return render(
        "invitations/join.html",
        token=token,
        link=link,
        tenant=tenant,
        org=org,
        user=user,
        role_name=role.name if role else link.role,
        error=error,
        in_org=user is not None and members.member_row(tenant, org, user) is not None,
        unverified=user is not None and not user.email_verified,
        status=422 if error else 200,
    )
