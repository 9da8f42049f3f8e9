"""What every page view shares: permission gates, form status, leaving a page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, redirect, request
from flask_wtf import FlaskForm

from app.errors import ServiceError
from app.extensions import db
from app.policy import TENANT_REFUSALS, TenantPerm
from app.web.rendering import htmx_redirect, render, wants_fragment
from app.web.scope import here

NOT_ALLOWED_HERE = "You don't have permission to do that in this organization."


def require(permission: str, message: str = NOT_ALLOWED_HERE) -> None:
    """403 unless the visitor holds ``permission`` in the org on screen."""
    if not here.access.can(permission):
        abort(403, message)


def require_tenant(permission: TenantPerm) -> None:
    """403 unless the visitor holds ``permission`` for the tenant as a whole."""
    if not here.tenant_can(permission):
        abort(403, TENANT_REFUSALS[permission])


def int_arg(name: str, default: int, *, low: int, high: int) -> int:
    """A whole number from the query string, kept within ``low``..``high`` (anything else
    typed into the address bar gets the default or the nearest bound, never a 500)."""
    value = request.args.get(name, default, type=int)
    return max(low, min(value, high))


def form_status(form: FlaskForm) -> int:
    """422 for a form shown again with errors (htmx swaps it in place), else 200."""
    return 422 if form.errors or form.form_errors else 200


def refused_in_row(error: ServiceError, row: Callable[..., Response]) -> Response:
    """A row action the service refused: for htmx, the row again with the refusal written
    inside it, under the refusal's status (``row(error=, status=)`` renders it after the
    rollback); without htmx, the error page."""
    db.session.rollback()
    if not wants_fragment():
        raise error
    return row(error=error.message, status=error.status_code)


def leave_page(location: str) -> Response:
    """Leave this page: a 303, or for an htmx request a client-side redirect."""
    return htmx_redirect(location) if wants_fragment() else redirect(location, code=303)


def confirmation_page(
    *,
    title: str,
    question: str,
    button: str,
    cancel_url: str,
    consequence: str | None = None,
    fields: dict[str, str] | None = None,
    danger: bool = True,
) -> Response:
    """The GET side of a destructive action's URL: the page that asks before the POST.

    ``confirm_action`` links here when JavaScript is off (with it, the browser's dialog
    asks instead); the page's form POSTs to this same URL, with ``fields`` as hidden
    inputs. It changes nothing, so reloading or going Back is harmless."""
    staff_side = (request.blueprint or "").startswith("staff")
    return render(
        "confirm.html",
        layout="staff/base.html" if staff_side else "tenant/base.html",
        title=title,
        question=question,
        consequence=consequence,
        button=button,
        cancel_url=cancel_url,
        action=request.path,
        fields=fields or {},
        danger=danger,
    )
