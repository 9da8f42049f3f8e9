"""Engine tweaks that the database drivers need to behave like the code expects."""

from __future__ import annotations

import sqlalchemy as sa


def configure_engine(engine: sa.Engine) -> None:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


def _configure_sqlite(engine: sa.Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs and ignores foreign keys;
    # take over BEGIN ourselves (the documented SQLAlchemy recipe) and turn FKs on.
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")
