"""Signing in and out of one tenant, and self-service sign-up where the tenant allows it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.web.auth import routes  # noqa: E402, F401
