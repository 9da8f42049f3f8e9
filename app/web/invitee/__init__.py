"""The invitee's side: /invitations/<token> (emailed links) and /join/<token> (join links).

These pages sit outside /t/<tenant>: the link itself names the tenant and org.
"""

from flask import Blueprint

bp = Blueprint("invitee", __name__)

from app.web.invitee import routes  # noqa: E402, F401
