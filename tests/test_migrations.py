"""`db upgrade` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models.base import in_schema_of
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    import psycopg
    from psycopg import sql

    url = sa.make_url(TEST_DATABASE_URL)
    name = f"tenantry_migrations_{uuid.uuid4().hex[:12]}"
    server = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _schema_differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                "include_object": in_schema_of(connection.dialect.name),
            },
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_on_empty_database_matches_the_models(empty_database_url):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade()
    assert _schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_database_url):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = sa.inspect(db.engine).get_table_names()
        assert set(tables) <= {"alembic_version"}
        upgrade()
    assert _schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


# The contains-searches' trigram indexes (member search, the support console's search).
TRIGRAM_INDEXES = {
    "users": {"ix_users_email_trigram", "ix_users_lower_name_trigram"},
    "organizations": {"ix_organizations_lower_name_trigram"},
    "tenants": {"ix_tenants_lower_name_trigram", "ix_tenants_slug_trigram"},
}


def test_trigram_indexes_exist_on_postgresql_only(empty_database_url):
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url}
    )
    with app.app_context():
        upgrade()
        inspector = sa.inspect(db.engine)
        names = {
            table: {index["name"] for index in inspector.get_indexes(table)}
            for table in TRIGRAM_INDEXES
        }
        db.engine.dispose()
    for table, trigram in TRIGRAM_INDEXES.items():
        assert trigram <= names[table] if ON_POSTGRES else not trigram & names[table], table
    assert "ix_users_tenant_id_name_id_email" in names["users"]
    # The prefix indexes of the earlier starts-with search are gone: nothing reads them.
    assert not {"ix_users_email_pattern", "ix_users_lower_name_pattern"} & names["users"]
    assert "ix_organizations_lower_name_pattern" not in names["organizations"]
