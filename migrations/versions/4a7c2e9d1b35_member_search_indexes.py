"""member search indexes: name order with the id tiebreak, and trigrams on PostgreSQL

Revision ID: 4a7c2e9d1b35
Revises: db1fc8f44f36
Create Date: 2026-12-01 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a7c2e9d1b35'
down_revision = 'db1fc8f44f36'
branch_labels = None
depends_on = None


def upgrade():
    # Member lists sort by (name, id): with id in the index a filtered walk stops at a
    # page instead of finishing every run of equal names.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_tenant_id_name_email')
        batch_op.create_index(
            'ix_users_tenant_id_name_id_email', ['tenant_id', 'name', 'id', 'email'], unique=False
        )
    # Contains-searches (LIKE '%x%') on addresses and names; SQLite has no such index.
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_index(
        'ix_users_email_trigram', 'users', ['email'],
        postgresql_using='gin', postgresql_ops={'email': 'gin_trgm_ops'},
    )
    op.create_index(
        'ix_users_lower_name_trigram', 'users', [sa.text('lower(name) gin_trgm_ops')],
        postgresql_using='gin',
    )


def downgrade():
    # The extension stays: something else in the database may use it.
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_users_lower_name_trigram', table_name='users')
        op.drop_index('ix_users_email_trigram', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_tenant_id_name_id_email')
        batch_op.create_index(
            'ix_users_tenant_id_name_email', ['tenant_id', 'name', 'email'], unique=False
        )
