"""Shared column types and mixins for the models."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Always UTC, always timezone-aware in Python, whatever the database keeps.

    SQLite has no time zones and hands back naive values; PostgreSQL keeps timestamptz.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.models.base.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


POSTGRESQL_ONLY = "postgresql_only"


def postgresql_only(index: sa.Index) -> sa.Index:
    """An index that exists on PostgreSQL alone (create_all skips it elsewhere, and
    ``in_schema_of`` tells Alembic's comparison the same)."""
    index.info[POSTGRESQL_ONLY] = True
    return index.ddl_if(dialect="postgresql")


def in_schema_of(dialect_name: str):
    """Alembic's ``include_object`` for this dialect: leaves out the other dialect's indexes."""

    def include(obj, _name, type_, reflected, _compare_to) -> bool:
        if type_ != "index" or reflected:
            return True
        return dialect_name == "postgresql" or not obj.info.get(POSTGRESQL_ONLY)

    return include
