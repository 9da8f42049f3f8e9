"""The log pages and their CSV exports: thin views over ``app.services.audit_log``."""

from __future__ import annotations

from flask import Response, abort, g, request, stream_with_context

from app.audit import bp
from app.audit.forms import FilterEventsForm
from app.models import Organization
from app.policy import Perm
from app.rendering import render
from app.services import audit_log, orgs
from app.services.audit_log import EventFilters

PER_PAGE = 50


def _require_org_reader() -> None:
    if not g.access.can(Perm.AUDIT_READ):
        abort(403, "You don't have permission to read this organization's audit log.")


def _require_tenant_admin() -> None:
    if not g.user.is_tenant_admin:
        abort(403, "Only tenant owners and admins can read the whole tenant's audit log.")


def _filters() -> tuple[FilterEventsForm, EventFilters | None]:
    """The form as typed, and the filters it gives (``None`` while it has errors)."""
    form = FilterEventsForm(formdata=request.args)
    if not form.validate():
        return form, None
    return form, EventFilters(
        actor=(form.actor.data or "").strip(),
        action=(form.action.data or "").strip(),
        target=(form.target.data or "").strip(),
        since=form.since.data,
        until=form.until.data,
    )


def _params(filters: EventFilters | None) -> dict[str, str]:
    """The filters as query-string values, for the pager and the export link."""
    if filters is None:
        return {}
    values = {
        "actor": filters.actor,
        "action": filters.action,
        "target": filters.target,
        "since": filters.since.isoformat() if filters.since else "",
        "until": filters.until.isoformat() if filters.until else "",
    }
    return {key: value for key, value in values.items() if value}


def _endpoints(org: Organization | None) -> dict[str, str]:
    if org is not None:
        return {"endpoint": "tenant.audit.org_log", "export_endpoint": "tenant.audit.org_export"}
    return {"endpoint": "tenant.audit.tenant_log", "export_endpoint": "tenant.audit.tenant_export"}


def _page(org: Organization | None):
    form, filters = _filters()
    page = None
    if filters is not None:
        page = audit_log.search_events(
            g.tenant,
            org=org,
            filters=filters,
            page=request.args.get("page", 1, type=int),
            per_page=PER_PAGE,
        )
    return render(
        "audit/index.html",
        block="results",
        status=200 if filters is not None else 422,
        org=org,
        breadcrumbs=orgs.ancestors(org) if org is not None else [],
        form=form,
        filters=filters,
        params=_params(filters),
        page=page,
        orgs_by_id=audit_log.orgs_of(g.tenant, page.items) if page and org is None else {},
        changes=audit_log.changes,
        one_line=audit_log.one_line,
        **_endpoints(org),
    )


def _export(org: Organization | None, filename: str):
    _form, filters = _filters()
    if filters is None:  # only a hand-made URL gets here: show what is wrong with it
        return _page(org)
    chunks = audit_log.export_csv(g.tenant, org=org, filters=filters)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- one org -------------------------------------------------------------------------


@bp.get("/orgs/<org>/audit")
def org_log():
    _require_org_reader()
    return _page(g.org)


@bp.get("/orgs/<org>/audit.csv")
def org_export():
    _require_org_reader()
    return _export(g.org, f"{g.tenant.slug}-{g.org.slug}-audit.csv")


# --- the whole tenant ----------------------------------------------------------------


@bp.get("/audit")
def tenant_log():
    _require_tenant_admin()
    return _page(None)


@bp.get("/audit.csv")
def tenant_export():
    _require_tenant_admin()
    return _export(None, f"{g.tenant.slug}-audit.csv")
