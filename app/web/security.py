"""Safe redirects, the session cookie policy and the security headers of every answer."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from app.web.rendering import is_api_request


def sign_in_limit() -> str:
    """Flask-Limiter's limit for every sign-in form (tenant, staff, invitation), read at
    request time so deployments and tests set it in the config."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative ``//`` trick."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


class SecureWhenHttpsSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _maybe_signed_in() -> bool:
    """Whether a signed-in page is answered (when the account can't be loaded, as with
    the database down, assume so: the answer must not be cached then either)."""
    try:
        return current_user.is_authenticated
    except sa.exc.DBAPIError:
        return True


def set_security_headers(response):
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)
    hsts = current_app.config.get("HSTS_SECONDS", 0)
    if hsts and request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"
        )
    if is_api_request():
        # The API never looks at the session cookie; its answers are private all the same.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
    if _maybe_signed_in() and "Cache-Control" not in response.headers:
        # Signed-in pages must not come back from the browser's cache after sign-out.
        response.headers["Cache-Control"] = "no-store"
    return response
