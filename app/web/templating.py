"""Template globals and filters."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import Flask, current_app, url_for

from app.extensions import htmx
from app.models import User
from app.policy import ALL_TENANT_PERMISSIONS, Perm, TenantPerm, role_catalog, tenant_can
from app.services import orgs
from app.web.scope import current_scope

HTMX_VERSION = "2.0.11"
PICO_VERSION = "2.1.1"


def format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return value.strftime(fmt) if value else ""


class UrlPattern:
    """One ``url_for`` per page for links that differ in a single value, such as a table's
    row actions: building 150 URLs one by one is a fifth of a members page's time."""

    _SLOT = "__slot__"

    def __init__(self, endpoint: str, slot: str, **values: object) -> None:
        self._url = url_for(endpoint, **{slot: self._SLOT}, **values)

    def __call__(self, value: str) -> str:
        return self._url.replace(self._SLOT, quote(value, safe=""))


# An org's sections, as its pages' section nav shows them: (key, endpoint, label, the
# permission that shows it, None for everyone who can open the org).
ORG_SECTIONS = (
    ("overview", "tenant.org.dashboard", "Overview", None),
    ("members", "tenant.org.members.index", "Members", Perm.MEMBERS_READ),
    ("invitations", "tenant.org.invitations.index", "Invitations", Perm.MEMBERS_INVITE),
    ("teams", "tenant.org.teams.index", "Teams", Perm.MEMBERS_READ),
    ("audit", "tenant.org.audit.log", "Audit log", Perm.AUDIT_READ),
    ("settings", "tenant.org.settings", "Settings", Perm.ORG_UPDATE),
)
_SECTION_OF_BLUEPRINT = {
    "tenant.org.members": "members",
    "tenant.org.invitations": "invitations",
    "tenant.org.teams": "teams",
    "tenant.org.audit": "audit",
}


def org_section(endpoint: str | None) -> str | None:
    """Which of an org's sections a page belongs to, by its endpoint."""
    if not endpoint:
        return None
    blueprint, _, view = endpoint.rpartition(".")
    if blueprint in _SECTION_OF_BLUEPRINT:
        return _SECTION_OF_BLUEPRINT[blueprint]
    if blueprint == "tenant.org":
        if view in ("dashboard", "new_child"):
            return "overview"  # the org itself, and the sub-organizations it lists
        if view.startswith("settings") or view in {"move", "delete", "update_data"}:
            return "settings"
    return None


def tenant_can_here(user: User, permission: TenantPerm) -> bool:
    """``tenant_can`` for templates: while support views as ``user``, only what reads, so
    no control is offered that would be refused."""
    scope = current_scope()
    if scope is not None and scope.user is user:
        return scope.tenant_can(permission)
    return tenant_can(user, permission)


def role_name(key: str | None) -> str:
    """A role's name in the tenant on screen (custom roles included), by its key."""
    scope = current_scope()
    if not key or scope is None:
        return key or ""
    definition = role_catalog(scope.tenant.id).get(key)
    return definition.name if definition else key


def asset_url(filename: str) -> str:
    """``url_for('static', …)``, remembered per app: every page links the same dozen files,
    and building each URL anew is a measurable share of a small page."""
    known: dict[str, str] = current_app.extensions.setdefault("tenantry.asset_urls", {})
    if filename not in known:
        known[filename] = url_for("static", filename=filename)
    return known[filename]


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        htmx=htmx,
        asset_url=asset_url,
        Perm=Perm,
        TenantPerm=TenantPerm,
        ALL_TENANT_PERMISSIONS=ALL_TENANT_PERMISSIONS,
        tenant_can=tenant_can_here,
        here_scope=current_scope,
        org_ancestors=orgs.ancestors,
        org_section=org_section,
        ORG_SECTIONS=ORG_SECTIONS,
        htmx_path=f"vendor/htmx-{HTMX_VERSION}/htmx.min.js",
        pico_path=f"vendor/pico-{PICO_VERSION}/pico.min.css",
    )
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["role_name"] = role_name
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
