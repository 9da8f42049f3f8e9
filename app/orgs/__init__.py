"""Organizations: the tree, an org's dashboard and settings, the switcher."""

from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/orgs")

from app.orgs import routes, scope  # noqa: E402, F401
