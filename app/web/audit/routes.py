"""The log pages and their CSV exports: thin views over ``app.services.audit.log``."""

from __future__ import annotations

from functools import partial

from flask import Response, request, stream_with_context
from markupsafe import Markup

from app.models import Organization
from app.policy import Perm, TenantPerm, hidden_in_audit
from app.services import orgs
from app.services.audit import log as audit_log
from app.services.audit import words
from app.services.audit.log import EventFilters
from app.services.pagination import cursor_from
from app.web.audit import org_bp, tenant_bp
from app.web.audit.forms import FilterEventsForm
from app.web.rendering import render
from app.web.scope import here
from app.web.views import require, require_tenant

PER_PAGE = 50


def _filters(org: Organization | None) -> tuple[FilterEventsForm, EventFilters | None]:
    """The form as typed, and the filters it gives (``None`` while it has errors)."""
    form = FilterEventsForm(formdata=request.args)
    # An org's log offers what happens in orgs; the tenant's, that and its own.
    where = (words.ORG,) if org is not None else (words.ORG, words.TENANT)
    form.offer_actions(words.action_choices(where=where))
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
        return {"endpoint": "tenant.org.audit.log", "export_endpoint": "tenant.org.audit.export"}
    return {"endpoint": "tenant.audit.log", "export_endpoint": "tenant.audit.export"}


def _hidden(org: Organization | None) -> frozenset[str]:
    """Values this reader may not see; the whole tenant's log is for those who see all."""
    return hidden_in_audit(here.access) if org is not None else frozenset()


def _page(org: Organization | None):
    form, filters = _filters(org)
    page = None
    cursor = cursor_from(request.args, 2, types=audit_log.PAGE_KEY_TYPES)
    if filters is not None:
        page = audit_log.search_events(
            here.tenant, org=org, filters=filters, cursor=cursor, per_page=PER_PAGE
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
        paged=cursor is not None,  # an empty page past the start is no empty log
        orgs_by_id=audit_log.orgs_of(here.tenant, page.items) if page and org is None else {},
        names=words.load_names(page.items) if page else words.NO_NAMES,
        changes=partial(audit_log.changes, hidden=_hidden(org)),
        one_line=audit_log.one_line,
        **_endpoints(org),
    )


def _export(org: Organization | None, filename: str):
    _form, filters = _filters(org)
    if filters is None:  # only a hand-made URL gets here: show what is wrong with it
        return _page(org)
    chunks = audit_log.export_csv(here.tenant, org=org, filters=filters, hidden=_hidden(org))
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the words, for every template that shows events --------------------------------


@tenant_bp.app_template_global("audit_names")
def audit_names(events) -> words.Names:
    """``{% set names = audit_names(events) %}``: the people, orgs and roles a list of
    events mentions, looked up together (a few queries for the whole list)."""
    return words.load_names(events)


@tenant_bp.app_template_filter("audit_words")
def audit_words(event, names: words.Names) -> Markup:
    """``{{ event | audit_words(names) }}``: the event as a sentence, names in bold."""
    return words.describe(event, names)


@tenant_bp.app_template_filter("audit_label")
def audit_label(code: str) -> str:
    """``{{ event.action | audit_label }}``: an action code's short name ("Role changed")."""
    return words.label_of(code)


# --- one org -------------------------------------------------------------------------


@org_bp.get("/audit", endpoint="log")
def org_log():
    require(Perm.AUDIT_READ, "You don't have permission to read this organization's audit log.")
    return _page(here.org)


@org_bp.get("/audit.csv", endpoint="export")
def org_export():
    require(Perm.AUDIT_READ, "You don't have permission to read this organization's audit log.")
    return _export(here.org, f"{here.tenant.slug}-{here.org.slug}-audit.csv")


# --- the whole tenant ----------------------------------------------------------------


@tenant_bp.get("/audit", endpoint="log")
def tenant_log():
    require_tenant(TenantPerm.AUDIT_READ)
    return _page(None)


@tenant_bp.get("/audit.csv", endpoint="export")
def tenant_export():
    require_tenant(TenantPerm.AUDIT_READ)
    return _export(None, f"{here.tenant.slug}-audit.csv")
