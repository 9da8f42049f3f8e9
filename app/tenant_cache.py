"""Per-tenant data that rarely changes, kept in process between requests.

Every tenant row carries a ``cache_stamp``: a random token that each change to what is
cached here replaces, in the same transaction as the change (``_stamp_changes`` below
sees every flush: the tenant's own columns — settings, suspension, name — its custom
roles). A request reads the stamp with the tenant lookup it makes
anyway (app/web/scope.py: ``first_read``), and uses what this process holds only under
that very stamp. So a change
committed by any instance is seen by the next request on every instance: the database is
the shared invalidation signal, at no extra round trip and with no window of staleness.
Random stamps (not counters) cannot repeat after a rollback or a recreated database.

Held per tenant: its columns (merged into the request's session without SQL, so
``user.tenant`` and the services see an ordinary attached ``Tenant``) and its role
catalog (``app.policy.role_catalog``). Nothing about users or memberships is cached:
they are read fresh on every request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, g, has_app_context

from app.extensions import db
from app.models import CustomRole, Tenant
from app.models.tenant import new_cache_stamp

_CACHED_WITH_TENANT = (CustomRole,)  # rows whose change changes the tenant's cache
MAX_TENANTS = 5_000  # per process; past it the longest-held entry makes room


@dataclass
class CachedTenant:
    stamp: str
    snapshot: Tenant  # detached, never attached: each request merges a copy
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. the role catalog


class TenantCache:
    """One app's cached tenants, by id (each app has its own: tests build many)."""

    def __init__(self) -> None:
        self._entries: dict[int, CachedTenant] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: int, stamp: str) -> CachedTenant | None:
        entry = self._entries.get(tenant_id)
        return entry if entry is not None and entry.stamp == stamp else None

    def put(self, tenant: Tenant) -> CachedTenant:
        entry = CachedTenant(tenant.cache_stamp, _detached_copy(tenant))
        with self._lock:
            self._entries.pop(tenant.id, None)
            if len(self._entries) >= MAX_TENANTS:
                del self._entries[next(iter(self._entries))]
            self._entries[tenant.id] = entry
        return entry

    def forget(self, tenant_id: int) -> None:
        with self._lock:
            self._entries.pop(tenant_id, None)

    def tenant_ids(self) -> set[int]:
        with self._lock:
            return set(self._entries)


def _detached_copy(tenant: Tenant) -> Tenant:
    columns = so.class_mapper(Tenant).column_attrs
    copy = Tenant(**{column.key: getattr(tenant, column.key) for column in columns})
    so.make_transient_to_detached(copy)
    return copy


def _cache() -> TenantCache:
    return current_app.extensions.setdefault("tenantry.tenant_cache", TenantCache())


def _verified() -> dict[int, CachedTenant]:
    """The cache entries whose stamp this request has checked against the database."""
    if "verified_tenants" not in g:
        g.verified_tenants = {}
    return g.verified_tenants


def attached_tenant(tenant_id: int, stamp: str) -> Tenant:
    """The tenant in this request's session, from the cache when ``stamp`` (just read from
    the database) is what the cache holds; loaded and cached otherwise."""
    session = db.session
    present = session.identity_map.get(so.util.identity_key(Tenant, tenant_id))
    if present is not None:
        return present
    cache = _cache()
    entry = cache.get(tenant_id, stamp)
    if entry is not None:
        tenant = session.merge(entry.snapshot, load=False)
    else:
        tenant = session.get_one(Tenant, tenant_id)
        entry = cache.put(tenant) if tenant.cache_stamp == stamp else None
    if entry is not None:
        _verified()[tenant_id] = entry
    return tenant


def loaded(tenant: Tenant) -> None:
    """A tenant this request has just read whole from the database (an API key's, a
    token's): what is kept with it under its stamp serves this request too."""
    cache = _cache()
    entry = cache.get(tenant.id, tenant.cache_stamp) or cache.put(tenant)
    _verified()[tenant.id] = entry


def cached(tenant_id: int, name: str) -> Any | None:
    """Something kept with a tenant whose stamp this request checked, else None."""
    if not has_app_context():
        return None
    entry = g.get("verified_tenants", {}).get(tenant_id)
    return entry.extras.get(name) if entry is not None else None


def keep(tenant_id: int, name: str, value: Any) -> None:
    """Keep ``value`` with the tenant, if this request checked its stamp (else it may be
    stale for the cache entry, and is simply not kept)."""
    if not has_app_context():
        return
    entry = g.get("verified_tenants", {}).get(tenant_id)
    if entry is not None:
        entry.extras[name] = value


def forget(tenant_ids: set[int]) -> None:
    """Drop this process's copy of these tenants (their stamps change as the change is
    flushed; until then this request must not read the old copy either)."""
    if not has_app_context():
        return
    cache = _cache()
    verified = g.get("verified_tenants", {})
    for tenant_id in tenant_ids:
        cache.forget(tenant_id)
        verified.pop(tenant_id, None)


@sa.event.listens_for(so.Session, "before_flush")
def _stamp_changes(session: so.Session, _context, _instances) -> None:
    """Give each tenant whose cached data this flush changes a new stamp, in the same
    transaction, and drop this process's copy at once (the rest of this request then
    reads fresh too)."""
    changed: set[int] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Tenant):
            if instance in session.new or not session.is_modified(instance):
                continue
            instance.cache_stamp = new_cache_stamp()
            changed.add(instance.id)
        elif isinstance(instance, _CACHED_WITH_TENANT) and instance.tenant_id is not None:
            changed.add(instance.tenant_id)
    if not changed:
        return
    for tenant_id in changed:
        tenant = session.identity_map.get(so.util.identity_key(Tenant, tenant_id))
        if tenant is not None:
            tenant.cache_stamp = new_cache_stamp()
        else:  # Core, on the flush's connection: no ORM events, no autoflush
            stamp = new_cache_stamp()
            session.connection().execute(
                sa.update(Tenant).where(Tenant.id == tenant_id).values(cache_stamp=stamp)
            )
    forget(changed)


@sa.event.listens_for(so.Session, "do_orm_execute")
def _stamp_bulk_changes(state: so.ORMExecuteState) -> None:
    """The same for UPDATE and DELETE statements run on those models directly."""
    if not (state.is_update or state.is_delete):
        return
    entity = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if entity is Tenant and state.is_update:
        state.statement = state.statement.values(cache_stamp=new_cache_stamp())
        forget(_cache().tenant_ids())
    elif entity in _CACHED_WITH_TENANT:
        raise RuntimeError(
            f"Change {entity.__name__} rows through the session (or give their tenant a new "
            "cache_stamp yourself): a bulk statement would leave cached copies stale."
        )
