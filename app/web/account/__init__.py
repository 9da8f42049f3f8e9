"""Your account (/t/<tenant>/account): name and email address, and proving the address
(the "check your inbox" page, another link, the emailed link itself)."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from app.web.account import routes  # noqa: E402, F401
