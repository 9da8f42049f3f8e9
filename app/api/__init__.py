"""The JSON API under ``/api/v1``: tenant API keys in, the same services as the pages.

It never reads a cookie (so it needs no CSRF token): every request names its tenant by
the key in ``Authorization: Bearer tk_…``, and every id it takes is looked up within
that tenant. ``/self`` alone takes a user's access token (a JWT) instead.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import (  # noqa: E402, F401  (each module registers its operations)
    docs,
    invitations,
    members,
    orgs,
    roles,
    self_info,
    teams,
    users,
)
