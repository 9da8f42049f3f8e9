"""The one error policy.

Full pages get an HTML error page. A targeted htmx request gets a small alert fragment
retargeted into the page's flash region (so a refused row action never wipes the row).
Validation errors are answered with 422 and the re-rendered form, swapped in place
(htmx is configured in base.html to swap 422 responses).
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from flask import Flask, Response, current_app, has_request_context, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from app.errors import ServiceError
from app.extensions import db
from app.web.rendering import wants_fragment, wants_json
from app.web.scope import current_scope

# (title, default message) per status: said in words, never in HTTP's.
MESSAGES = {
    400: ("That didn't work", "The request could not be understood. Check what you entered."),
    401: ("Sign in needed", "Sign in to continue."),
    403: ("Not allowed", "You don't have permission to do that here."),
    404: ("Not found", "There is nothing here: the address may be wrong, or it was removed."),
    405: ("Not available here", "That action is not available at this address."),
    409: ("That couldn't be done", "That could not be done because something changed."),
    410: ("No longer available", "This is no longer available."),
    413: ("Too large", "What you sent is too large."),
    422: ("Check your input", "Some of what you entered needs fixing."),
    429: ("Too many attempts", "Too many attempts in a short time: wait a minute and try again."),
    500: ("Something went wrong", "An unexpected error happened; nothing was changed."),
    503: (
        "Unavailable for a moment",
        "The database can't be reached just now; nothing was changed. Try again shortly.",
    ),
}
CSRF_MESSAGE = (
    "This form has expired or its security token is missing. Reload the page and try again."
)


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    details: list[dict[str, str]] | None = None,
) -> Response:
    title, default_message = MESSAGES.get(status, (f"Error {status}", "Something went wrong."))
    message = message or default_message
    if wants_json():
        from app.api.core import json_error

        return json_error(status, code or ERROR_CODES.get(status, "error"), message, details)
    if wants_fragment():
        body = render_template("errors/_alert.html", title=title, message=message)
        response = current_app.make_response((body, status))
        response.headers["HX-Retarget"] = "#flash-region"
        response.headers["HX-Reswap"] = "beforeend"
    else:
        body = render_template(
            "errors/error.html",
            status=status,
            title=title,
            message=message,
            layout=_layout(status),
            back_url=_same_site_referrer(),
        )
        response = current_app.make_response((body, status))
    response.vary.add("HX-Request")
    return response


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def handle_csrf(_error: CSRFError) -> Response:
        db.session.rollback()
        return error_response(400, CSRF_MESSAGE, code="csrf_failed")

    @app.errorhandler(SecurityError)
    def handle_untrusted_host(_error: SecurityError) -> Response:
        # A Host this app doesn't answer (ALLOWED_HOSTS): no page, no links built from it.
        return Response("This host is not served here.\n", 400, mimetype="text/plain")

    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError) -> Response:
        db.session.rollback()
        return error_response(
            error.status_code,
            error.message or None,
            code=error.code,
            details=error.details,
        )

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        if error.code is None or error.code < 400:
            return error  # type: ignore[return-value]
        db.session.rollback()
        response = error_response(error.code, _public_description(error))
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(sa.exc.OperationalError)
    def handle_database_unreachable(_error: sa.exc.OperationalError) -> Response:
        # The pool's pre-ping reconnects on the next request once the database is back.
        with contextlib.suppress(sa.exc.DBAPIError):
            db.session.rollback()
        response = error_response(503)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(InternalServerError)
    def handle_500(_error: InternalServerError) -> Response:
        db.session.rollback()
        return error_response(500)


def _layout(status: int) -> str:
    """The error page keeps the app around it: a tenant page's header (and a view-as
    banner) for a signed-in visitor of that tenant, the console's for staff. Not when
    the server itself failed: that header reads the database, which may be the cause."""
    if status >= 500:
        return "base.html"
    scope = current_scope()
    if scope is not None and scope.user is not None:
        return "tenant/base.html"
    if has_request_context() and (request.blueprint or "").startswith("staff"):
        return "staff/base.html"
    return "base.html"


def _same_site_referrer() -> str | None:
    """Where the visitor came from, if it was a page of this site: the way back."""
    if not has_request_context() or not request.referrer:
        return None
    try:
        referrer = urlsplit(request.referrer)
    except ValueError:  # a Referer that is no URL: no way back from it
        return None
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    if referrer.path == request.path:
        return None
    return urlunsplit(("", "", referrer.path, referrer.query, ""))


def _public_description(error: HTTPException) -> str | None:
    """Only messages we wrote ourselves (``abort(403, "…")``), never Werkzeug's defaults."""
    default = type(error).description
    return None if error.description == default else error.description
