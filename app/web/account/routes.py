from flask import flash, redirect, request, url_for

from app.errors import Conflict, ValidationFailed
from app.extensions import db, limiter
from app.services import accounts, email_verification
from app.web.account import bp
from app.web.account.forms import (
    CancelEmailChangeForm,
    ChangeEmailForm,
    ConfirmEmailForm,
    ResendVerificationForm,
    SwitchAccountForm,
    UpdateNameForm,
)
from app.web.identity import signed_in_user
from app.web.rendering import render
from app.web.scope import here
from app.web.security import sign_in_limit
from app.web.sessions import end_session
from app.web.tenant import open_to_unverified, public

# Another verification link: at most this many an hour per account (and one a minute,
# which the service counts in the database, so it holds across app instances).
RESEND_LIMIT = "5 per hour"


def _per_account() -> str:
    who = here.user.public_id if here.user is not None else request.remote_addr
    return f"account:{here.tenant.slug}:{who}"


def _per_client() -> str:
    return f"account-link:{here.tenant.slug}:{request.remote_addr}"


# --- the account page ------------------------------------------------------------------


@bp.get("")
@open_to_unverified
def index():
    return _account_page()


def _account_page(*, name_form=None, email_form=None, status: int = 200):
    user = here.user
    return render(
        "account/index.html",
        name_form=name_form or UpdateNameForm(formdata=None, data={"name": user.name}),
        email_form=email_form or ChangeEmailForm(formdata=None),
        cancel_form=CancelEmailChangeForm(formdata=None),
        pending=email_verification.pending_change(user),
        status=status,
    )


@bp.post("/name")
@open_to_unverified
def update_name():
    form = UpdateNameForm()
    if form.validate_on_submit():
        try:
            accounts.update_name(here.tenant, here.user, form.name.data)
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Your name is saved.", "success")
            return redirect(url_for("tenant.account.index"), code=303)
    return _account_page(name_form=form, status=422)


@bp.post("/email")
@open_to_unverified
@limiter.limit(sign_in_limit, key_func=_per_account)
def change_email():
    """Asks for the current password; the new address is used once its link is opened."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            email = email_verification.request_change(
                here.tenant, here.user, new_email=form.email.data, password=form.password.data
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(
                f"Check the inbox of {email}: open the link we sent there to start using it. "
                f"Until then your address stays {here.user.email}.",
                "success",
            )
            return redirect(url_for("tenant.account.index"), code=303)
    return _account_page(email_form=form, status=422)


@bp.post("/email/cancel")
@open_to_unverified
def cancel_email_change():
    if CancelEmailChangeForm().validate_on_submit():
        email_verification.cancel_change(here.user)
        db.session.commit()
        flash(f"Your address stays {here.user.email}; the link for the change no longer works.")
    return redirect(url_for("tenant.account.index"), code=303)


# --- proving the address -----------------------------------------------------------------


@bp.get("/verify")
@open_to_unverified
def verify_pending():
    """The "check your inbox" page: what an account whose address is not proven sees instead of
    any org page, with another link, a way to fix a mistyped address, and sign-out."""
    user = here.user
    pending = email_verification.pending_change(user)
    if user.email_verified and pending is None:
        return redirect(url_for("tenant.home"))
    return render(
        "account/verify_pending.html",
        pending=pending,
        resend_form=ResendVerificationForm(formdata=None),
        status=200,
    )


@bp.post("/verify/resend")
@open_to_unverified
@limiter.limit(RESEND_LIMIT, key_func=_per_account)
def resend():
    form = ResendVerificationForm()
    if form.validate_on_submit():
        try:
            address = email_verification.resend(here.tenant, here.user)
        except email_verification.TooSoon as error:
            db.session.rollback()
            return render(
                "account/verify_pending.html",
                pending=email_verification.pending_change(here.user),
                resend_form=form,
                resend_error=error.message,
                status=429,
            )
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "info")
            return redirect(url_for("tenant.home"), code=303)
        db.session.commit()
        flash(f"A new link is on its way to {address}. Earlier links no longer work.", "success")
    return redirect(url_for("tenant.account.verify_pending"), code=303)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_limit, key_func=_per_client, methods=["POST"])
def verify_email(token: str):
    """The emailed link. GET shows what it confirms; the button (a POST) confirms it.
    It works signed out too, but not signed in as another account of this tenant."""
    tenant = here.tenant
    link = email_verification.find_link(tenant, token)
    me = signed_in_user(tenant)
    if link is None:
        return render("account/link_invalid.html", signed_in=me, status=410)
    owner = email_verification.owner_of(link)
    if me is not None and me.id != owner.id:
        return render(
            "account/confirm_email.html",
            token=token,
            link_email=link.email,
            wrong_account=me,
            form=SwitchAccountForm(formdata=None),
            status=409 if request.method == "POST" else 200,
        )
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            result = email_verification.verify(tenant, token)
        except ValidationFailed:
            db.session.rollback()
            return render("account/link_invalid.html", signed_in=me, status=410)
        db.session.commit()
        if result.outcome == email_verification.Outcome.TAKEN:
            return render(
                "account/confirm_email.html",
                token=token,
                link_email=result.email,
                taken=True,
                form=None,
                status=409,
            )
        if result.outcome == email_verification.Outcome.CHANGED:
            message = f"Your email address is now {result.email}."
        else:
            message = f"Thank you: {result.email} is confirmed."
        if me is not None:
            flash(message, "success")
            return redirect(url_for("tenant.home"), code=303)
        flash(f"{message} Sign in to continue.", "success")
        return redirect(url_for("tenant.auth.login", email=result.user.email), code=303)
    return render(
        "account/confirm_email.html",
        token=token,
        link_email=link.email,
        changing=link.email != owner.email,
        current_email=owner.email,
        form=form,
        status=200,
    )


@bp.post("/confirm/<token>/switch-account")
@public
def switch_account(token: str):
    """Signed in as someone else: sign out, then come back to the link."""
    if SwitchAccountForm().validate_on_submit():
        end_session(signed_in_user(here.tenant))
        db.session.commit()
    return redirect(url_for("tenant.account.verify_email", token=token), code=303)
