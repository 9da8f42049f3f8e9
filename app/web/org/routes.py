"""One organization's own pages: its dashboard and sub-organizations (settings: settings.py)."""

from __future__ import annotations

from flask import request

from app.errors import NotFound
from app.policy import Perm
from app.services import orgs
from app.services.pagination import cursor_from
from app.web.org import bp
from app.web.orgs.routes import create_org_page
from app.web.rendering import render
from app.web.scope import here
from app.web.views import int_arg, require


@bp.get("/children")
def children():
    # The tree expands through orgs a member can't open to reach the ones they can: any
    # org the viewer's tree shows may list its (visible) children; none other exists.
    if not orgs.is_visible_to(here.org, here.user):
        raise NotFound("No such organization.")
    cursor = cursor_from(request.args, 2, types=orgs.LEVEL_KEY_TYPES)
    return render(
        "orgs/_tree_nodes.html",
        page=orgs.children(here.tenant, here.org, here.user, cursor=cursor),
        level=int_arg("level", 2, low=1, high=1000),
        parent=here.org,
    )


@bp.route("/new", methods=["GET", "POST"])
def new_child():
    require(Perm.ORG_CREATE_CHILD)
    return create_org_page(parent=here.org)


@bp.get("/")
def dashboard():
    require(Perm.ORG_READ)
    org = here.org
    cursor = cursor_from(request.args, 2, types=orgs.LEVEL_KEY_TYPES)
    return render(
        "orgs/dashboard.html",
        org=org,
        breadcrumbs=orgs.ancestors(org),
        children=orgs.children(here.tenant, org, here.user, cursor=cursor, counted=True),
        member_count=orgs.member_counts_for([org.id]).get(org.id, 0),
        # Who did what here is the audit log's: only its readers see the latest of it.
        activity=orgs.recent_activity(org) if here.access.can(Perm.AUDIT_READ) else None,
        access=here.access,
    )
