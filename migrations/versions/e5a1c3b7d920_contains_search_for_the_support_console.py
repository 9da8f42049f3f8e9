"""contains-search for the support console: trigram indexes on organization and tenant
names (and tenant slugs) on PostgreSQL; the prefix indexes it no longer reads are dropped

Revision ID: e5a1c3b7d920
Revises: c7e2a9f4b610
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a1c3b7d920'
down_revision = 'c7e2a9f4b610'
branch_labels = None
depends_on = None


def upgrade():
    # The search matches anywhere in a name or address now (LIKE '%x%'): a
    # text_pattern_ops index only ever answered LIKE 'x%'.
    op.drop_index('ix_organizations_lower_name_pattern', table_name='organizations')
    op.drop_index('ix_users_lower_name_pattern', table_name='users')
    op.drop_index('ix_users_email_pattern', table_name='users')
    # Users' names and addresses have trigram indexes already (4a7c2e9d1b35); SQLite has
    # no such index.
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_index(
        'ix_organizations_lower_name_trigram', 'organizations',
        [sa.text('lower(name) gin_trgm_ops')], postgresql_using='gin',
    )
    op.create_index(
        'ix_tenants_lower_name_trigram', 'tenants',
        [sa.text('lower(name) gin_trgm_ops')], postgresql_using='gin',
    )
    op.create_index(
        'ix_tenants_slug_trigram', 'tenants', ['slug'],
        postgresql_using='gin', postgresql_ops={'slug': 'gin_trgm_ops'},
    )


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.drop_index('ix_tenants_slug_trigram', table_name='tenants')
        op.drop_index('ix_tenants_lower_name_trigram', table_name='tenants')
        op.drop_index('ix_organizations_lower_name_trigram', table_name='organizations')
    op.create_index(
        'ix_users_email_pattern', 'users', ['email'],
        postgresql_ops={'email': 'text_pattern_ops'},
    )
    ops = ' text_pattern_ops' if postgresql else ''
    op.create_index('ix_users_lower_name_pattern', 'users', [sa.text(f'lower(name){ops}')])
    op.create_index(
        'ix_organizations_lower_name_pattern', 'organizations', [sa.text(f'lower(name){ops}')]
    )
