"""The tenant's organizations: the tree, creating a top-level org, the deleted ones,
and the switcher (``/t/<tenant>/orgs/…``). One org's own pages are ``app.web.org``."""

from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

from app.web.orgs import routes  # noqa: E402, F401
