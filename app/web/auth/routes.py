from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from app.errors import ValidationFailed
from app.extensions import db, limiter
from app.services import accounts, orgs, passwords
from app.services.validation import normalize_email
from app.web.auth import bp
from app.web.auth.forms import (
    RequestPasswordResetForm,
    ResetPasswordForm,
    SignInForm,
    SignOutForm,
    SignUpForm,
)
from app.web.identity import signed_in_user
from app.web.rendering import render
from app.web.scope import current_org, here
from app.web.security import ALIKE_ANSWER_SECONDS, answer_no_sooner_than, sign_in_limit
from app.web.sessions import end_session, next_url, start_session
from app.web.tenant import public


def _per_tenant_and_address() -> str:
    from flask import request

    return f"tenant-login:{g.tenant_slug}:{request.remote_addr}"


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_limit, key_func=_per_tenant_and_address, methods=["POST"])
def login():
    tenant = here.tenant
    home = url_for("tenant.home")
    if signed_in_user(tenant) is not None:
        return redirect(next_url(home))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate_user(tenant, form.email.data, form.password.data)
        except ValidationFailed as error:
            db.session.commit()  # the failure count (the only change): it must stay
            form.apply_service_error(error)
        else:
            remembered = orgs.remembered_org(user)
            db.session.commit()
            start_session(user)
            if remembered is not None:
                current_org.remember(remembered)
            return redirect(next_url(home), code=303)
    elif not form.is_submitted():
        form.next.data = next_url("")
        form.email.data = request.args.get("email", "")[:254]
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "auth/login.html",
        form=form,
        tenant=tenant,
        can_sign_up=accounts.signup_refusal(tenant) is None,
        status=status,
    )


@bp.post("/logout")
@public
def logout():
    form = SignOutForm()
    if form.validate_on_submit():
        user = signed_in_user(here.tenant)
        end_session(user)
        db.session.commit()
        flash("You are signed out.", "info")
    return redirect(url_for("tenant.auth.login"), code=303)


@bp.route("/signup", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_limit, key_func=_per_tenant_and_address, methods=["POST"])
def signup():
    tenant = here.tenant
    refusal = accounts.signup_refusal(tenant)
    if refusal:
        return render("auth/signup_closed.html", tenant=tenant, message=refusal, status=403)
    if signed_in_user(tenant) is not None:
        return redirect(url_for("tenant.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            # The same answer, in the same time, whether or not the address already had
            # an account here (then it got a note instead of a link, and nothing was
            # made): no one learns who has an account. Nobody is signed in: the address
            # is proven first, then its holder signs in.
            with answer_no_sooner_than(ALIKE_ANSWER_SECONDS):
                accounts.sign_up(
                    tenant, email=form.email.data, name=form.name.data, password=form.password.data
                )
                db.session.commit()
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            return render("auth/signup_sent.html", email=normalize_email(form.email.data))
    status = 422 if form.errors or form.form_errors else 200
    return render(
        "auth/signup.html",
        form=form,
        tenant=tenant,
        domains=tenant.signup_email_domains,
        status=status,
        signed_in_elsewhere=current_user.is_authenticated,
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_limit, key_func=_per_tenant_and_address, methods=["POST"])
def forgot_password():
    form = RequestPasswordResetForm()
    if form.validate_on_submit():
        # The same answer, in the same time, whether or not the address has an account
        # here: only an account's path writes and emails, so both wait for one deadline
        # (the commit inside it).
        with answer_no_sooner_than(ALIKE_ANSWER_SECONDS):
            passwords.request_reset(here.tenant, form.email.data)
            db.session.commit()
        return render("auth/reset_sent.html", email=form.email.data)
    return render("auth/forgot_password.html", form=form, status=422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_limit, key_func=_per_tenant_and_address, methods=["POST"])
def reset_password(token: str):
    if passwords.valid_token(here.tenant, token) is None:
        return render("auth/reset_invalid.html", status=410)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = passwords.reset_password(here.tenant, token, form.password.data)
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            remembered = orgs.remembered_org(user)
            db.session.commit()
            end_session(None)
            if not user.is_active_account:
                return redirect(url_for("tenant.auth.login", email=user.email), code=303)
            # The link proved the address and the password was just typed twice: asking
            # for both again at once (a new owner's first minute) would prove nothing more.
            start_session(user)
            if remembered is not None:
                current_org.remember(remembered)
            flash(
                "Your password is set and you're signed in. Other sessions are signed out.",
                "success",
            )
            return redirect(url_for("tenant.home"), code=303)
    return render(
        "auth/reset_password.html", form=form, token=token, status=422 if form.errors else 200
    )
