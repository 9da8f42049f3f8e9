"""An org's invitations: inviting people, the pending list, and join links, at
``…/orgs/<org>/invitations``. The invitee's own pages (the emailed link) are
``app.web.invitee``."""

from flask import Blueprint

bp = Blueprint("invitations", __name__, url_prefix="/invitations")

from app.web.org.invitations import routes  # noqa: E402, F401
