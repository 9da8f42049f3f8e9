"""a cache stamp on each tenant: replaced by every change to what processes keep of it

Revision ID: f2b8d4c6a1e3
Revises: e5a1c3b7d920
Create Date: 2026-12-03 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b8d4c6a1e3'
down_revision = 'e5a1c3b7d920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('cache_stamp', sa.String(length=40), server_default='', nullable=False)
        )
    # Distinct from the start: a stamp is only ever compared for equality.
    op.execute('UPDATE tenants SET cache_stamp = public_id')


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('cache_stamp')
