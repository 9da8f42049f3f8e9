"""One organization's own pages: its dashboard and sub-organizations (settings: settings.py)."""

from __future__ import annotations

from app.errors import NotFound
from app.policy import Perm
from app.services import orgs
from app.web.org import bp
from app.web.orgs.routes import create_org_page
from app.web.rendering import render
from app.web.scope import here
from app.web.views import int_arg, require

MAX_OFFSET = 10_000_000


@bp.get("/children")
def children():
    # The tree expands through orgs a member can't open to reach the ones they can: any
    # org the viewer's tree shows may list its (visible) children; none other exists.
    if not orgs.is_visible_to(here.org, here.user):
        raise NotFound("No such organization.")
    offset = int_arg("offset", 0, low=0, high=MAX_OFFSET)
    nodes, more = orgs.children(here.tenant, here.org, here.user, offset=offset)
    level = int_arg("level", 2, low=1, high=1000)
    return render(
        "orgs/_tree_nodes.html",
        nodes=nodes,
        more=more,
        level=level,
        parent=here.org,
        offset=offset + len(nodes),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_child():
    require(Perm.ORG_CREATE_CHILD)
    return create_org_page(parent=here.org)


@bp.get("/")
def dashboard():
    require(Perm.ORG_READ)
    org = here.org
    children, more = orgs.children(here.tenant, org, here.user)
    return render(
        "orgs/dashboard.html",
        org=org,
        breadcrumbs=orgs.ancestors(org),
        children=children,
        more_children=more,
        member_count=orgs.member_counts_for([org.id]).get(org.id, 0),
        # Who did what here is the audit log's: only its readers see the latest of it.
        activity=orgs.recent_activity(org) if here.access.can(Perm.AUDIT_READ) else None,
        access=here.access,
    )
