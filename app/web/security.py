"""Safe redirects, the session cookie policy and the security headers of every answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
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


# "Forgot password" and sign-up answer no sooner than this, whether or not the address has
# an account. An account's "forgot password" does more (retire old links, a token, two
# templates, the outbox row, the audit event, a commit that writes: ~40 ms on PostgreSQL
# against ~15 ms); a new account's sign-up writes more than a taken address's note. A
# floor well above both hides all of that, the commit included, under load as well.
ALIKE_ANSWER_SECONDS = 0.25


@contextmanager
def answer_no_sooner_than(seconds: float) -> Iterator[None]:
    """Let the block run, then wait out the rest of ``seconds`` from its start: one
    answer time for paths that do different work, so the time tells nothing.

    A floor rather than fake work on the cheap path: imitating the other path's writes
    and renders would never cost quite the same (a commit that writes is not one that
    doesn't), and drifts apart the first time either path changes; a floor covers
    whatever the block does. The wait holds a worker, so use it only on forms behind a
    per-address rate limit."""
    deadline = time.monotonic() + seconds
    yield
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


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
