"""The audit log as a tenant reads it, each with a CSV export beside it: one org's at
``…/orgs/<org>/audit`` (registered inside the org blueprint) and the whole tenant's at
``/t/<tenant>/audit`` (inside the tenant blueprint). Both pages are the same view."""

from flask import Blueprint

org_bp = Blueprint("audit", __name__)
tenant_bp = Blueprint("audit", __name__)

from app.web.audit import routes  # noqa: E402, F401
