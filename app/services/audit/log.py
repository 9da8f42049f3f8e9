"""Reading the audit trail: the staff console's views and a tenant's own log.

A tenant's log (its orgs' events, or one org's) is filtered by actor, action, target and
a date range, read a page at a time or exported as CSV. Every query here is scoped by the
tenant explicitly; an org's log is additionally scoped by the org.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Organization, Tenant, User
from app.services.audit.words import ACTIONS, describe_text, load_names, one_line
from app.services.members import safe_cell
from app.services.pagination import Cursor, KeysetPage, keyset_page
from app.services.validation import escape_like

NEWEST_FIRST = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
EXPORT_BATCH = 500


def recent_events(*, tenant: Tenant, limit: int = 20) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant.id)
            .order_by(*NEWEST_FIRST)
            .limit(limit)
        )
    )


# --- a tenant's own log --------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    """What to narrow a log to; empty strings and ``None`` mean "any".

    ``actor`` and ``target`` match a fragment of the label (or the exact public id),
    ``action`` is a known code (exactly) or else a prefix (``member.`` finds every member
    action), and the dates are whole UTC days, both ends included.
    """

    actor: str = ""
    action: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any((self.actor, self.action, self.target, self.since, self.until))


def _contains(column: sa.ColumnElement[str], fragment: str) -> sa.ColumnElement[bool]:
    return column.ilike(f"%{escape_like(fragment)}%", escape="\\")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def by_actor(text: str) -> sa.ColumnElement[bool]:
    """Events whose actor's label contains ``text`` (any case), or whose actor id it is."""
    return sa.or_(_contains(AuditEvent.actor_label, text), AuditEvent.actor_id == text)


def by_action_prefix(text: str) -> sa.ColumnElement[bool]:
    """Events whose action code starts with ``text`` ("member." finds every member action)."""
    return AuditEvent.action.like(f"{escape_like(text.lower())}%", escape="\\")


def within_days(since: date | None, until: date | None) -> list[sa.ColumnElement[bool]]:
    """Events on those whole UTC days, both ends included (either end may be open)."""
    conditions = []
    if since is not None:
        conditions.append(AuditEvent.created_at >= _start_of(since))
    if until is not None and until < date.max:
        conditions.append(AuditEvent.created_at < _start_of(until + timedelta(days=1)))
    return conditions


def _scoped(
    tenant: Tenant, org: Organization | None, filters: EventFilters, *columns: Any
) -> sa.Select:
    """The events of ``tenant`` (or of one ``org`` in it) that ``filters`` keep, as whole
    events or, given ``columns``, as plain rows of those."""
    stmt = sa.select(*(columns or (AuditEvent,))).where(AuditEvent.tenant_id == tenant.id)
    if org is not None:
        # This org's own events; its sub-organizations keep their own logs.
        stmt = stmt.where(AuditEvent.org_id == org.id)
    if filters.actor:
        stmt = stmt.where(by_actor(filters.actor))
    if filters.action in ACTIONS:
        stmt = stmt.where(AuditEvent.action == filters.action)
    elif filters.action:
        stmt = stmt.where(by_action_prefix(filters.action))
    if filters.target:
        stmt = stmt.where(
            sa.or_(
                _contains(AuditEvent.target_label, filters.target),
                AuditEvent.target_id == filters.target,
            )
        )
    return stmt.where(*within_days(filters.since, filters.until))


# What a page of the log shows of each event (all but the user agent), as plain rows;
# the sentences (app.services.audit.words) read these columns only.
SHOWN = (
    AuditEvent.id,
    AuditEvent.public_id,
    AuditEvent.created_at,
    AuditEvent.tenant_id,
    AuditEvent.org_id,
    AuditEvent.actor_type,
    AuditEvent.actor_id,
    AuditEvent.actor_label,
    AuditEvent.action,
    AuditEvent.target_type,
    AuditEvent.target_id,
    AuditEvent.target_label,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.ip,
)
PAGE_ORDER = (AuditEvent.created_at, AuditEvent.id)  # newest first: descending
PAGE_KEY_TYPES = (datetime, int)


def search_events(
    tenant: Tenant,
    *,
    org: Organization | None = None,
    filters: EventFilters | None = None,
    cursor: Cursor | None = None,
    per_page: int = 50,
) -> KeysetPage[sa.Row]:
    """One page of a tenant's (or one org's) events, newest first, by key (``cursor``):
    the thousandth page costs what the first does. One query, no total (counting a
    filtered log would cost more than the page)."""
    stmt = _scoped(tenant, org, filters or EventFilters(), *SHOWN)
    return keyset_page(
        stmt,
        PAGE_ORDER,
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.created_at, row.id),
        descending=True,
    )


def iter_event_batches(
    tenant: Tenant,
    *,
    org: Organization | None = None,
    filters: EventFilters | None = None,
    batch_size: int = EXPORT_BATCH,
) -> Iterator[list[AuditEvent]]:
    """Every matching event, newest first, in batches; keyset paging, so no batch rescans
    the ones before it and events written meanwhile neither repeat nor shift the rest."""
    stmt = _scoped(tenant, org, filters or EventFilters()).order_by(*NEWEST_FIRST)
    last: AuditEvent | None = None
    while True:
        batch_stmt = stmt
        if last is not None:
            batch_stmt = stmt.where(
                sa.or_(
                    AuditEvent.created_at < last.created_at,
                    sa.and_(AuditEvent.created_at == last.created_at, AuditEvent.id < last.id),
                )
            )
        batch = list(db.session.scalars(batch_stmt.limit(batch_size)))
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        last = batch[-1]


def orgs_of(tenant: Tenant, events: Iterable[AuditEvent]) -> dict[int, Organization]:
    """The orgs these events happened in (deleted ones included), by id; one query."""
    ids = {event.org_id for event in events if event.org_id is not None}
    if not ids:
        return {}
    return {
        org.id: org
        for org in db.session.scalars(
            sa.select(Organization).where(
                Organization.tenant_id == tenant.id, Organization.id.in_(ids)
            )
        )
    }


# --- showing one event ---------------------------------------------------------------

MAX_VALUE_LENGTH = 80


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = one_line(text)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def _as_dict(values: Any) -> dict[str, Any]:
    if values is None:
        return {}
    return values if isinstance(values, dict) else {"value": values}


@dataclass(frozen=True)
class Change:
    key: str
    old: str | None  # None: the key was not there before
    new: str | None  # None: the key is gone after


HIDDEN = "[hidden]"


def _shown(values: Any, hidden: frozenset[str]) -> Any:
    """The values with those under ``hidden`` keys replaced, for a reader not allowed
    to see them (private metadata, to someone who may not read it)."""
    if not hidden or not isinstance(values, dict):
        return values
    return {key: HIDDEN if key in hidden else value for key, value in values.items()}


def changes(event: AuditEvent, hidden: frozenset[str] = frozenset()) -> list[Change]:
    """The event's before → after, key by key, unchanged keys left out; plain text
    (one line, bounded), for the template to escape. Keys in ``hidden`` show no value."""
    before, after = _as_dict(event.before), _as_dict(event.after)
    shown_before, shown_after = _as_dict(_shown(before, hidden)), _as_dict(_shown(after, hidden))
    result = []
    for key in sorted({*before, *after}, key=str):
        if key in before and key in after and before[key] == after[key]:
            continue
        result.append(
            Change(
                key=_compact(key),
                old=_compact(shown_before[key]) if key in before else None,
                new=_compact(shown_after[key]) if key in after else None,
            )
        )
    return result


# --- CSV -----------------------------------------------------------------------------

CSV_HEADER = [
    "time_utc",
    "organization",
    "actor",
    "actor_type",
    "support",
    "action",
    "target_type",
    "target_id",
    "target",
    "before",
    "after",
    "ip",
    "summary",
]


def _json_cell(values: Any) -> str:
    if values is None:
        return ""
    return safe_cell(json.dumps(values, ensure_ascii=False, sort_keys=True, default=str))


def export_csv(
    tenant: Tenant,
    *,
    org: Organization | None = None,
    filters: EventFilters | None = None,
    hidden: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """The log as CSV text, a batch at a time, safe to open in a spreadsheet (no formulas);
    each row ends with the entry in words, as the page says it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield _flush(buffer)
    for batch in iter_event_batches(tenant, org=org, filters=filters):
        where = {org.id: org} if org is not None else orgs_of(tenant, batch)
        names = load_names(batch)
        for event in batch:
            event_org = where.get(event.org_id) if event.org_id is not None else None
            writer.writerow(
                [
                    event.created_at.isoformat(),
                    event_org.slug if event_org is not None else "",
                    safe_cell(event.actor_label),
                    event.actor_type,
                    "yes" if event.is_support else "no",
                    safe_cell(event.action),
                    safe_cell(event.target_type or ""),
                    safe_cell(event.target_id or ""),
                    safe_cell(event.target_label),
                    _json_cell(_shown(event.before, hidden)),
                    _json_cell(_shown(event.after, hidden)),
                    safe_cell(event.ip or ""),
                    safe_cell(describe_text(event, names)),
                ]
            )
        yield _flush(buffer)


def _flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def events_about(user: User, *, limit: int = 20) -> list[AuditEvent]:
    """The newest audit events whose target is this user, in their tenant."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == user.tenant_id, AuditEvent.target_id == user.public_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
