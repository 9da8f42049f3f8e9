"""Members of an organization: the list, role changes, removal, leaving, ownership, at
``…/orgs/<org>/members`` with the CSV export beside it at ``…/orgs/<org>/members.csv``."""

from flask import Blueprint

bp = Blueprint("members", __name__)

from app.web.org.members import routes  # noqa: E402, F401
