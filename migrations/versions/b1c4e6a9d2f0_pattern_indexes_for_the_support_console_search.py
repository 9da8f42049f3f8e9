"""pattern indexes for the support console search

Revision ID: b1c4e6a9d2f0
Revises: 29919de4369a
Create Date: 2026-11-22 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1c4e6a9d2f0'
down_revision = '29919de4369a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_users_email_pattern', 'users', ['email'],
        postgresql_ops={'email': 'text_pattern_ops'},
    )
    # text_pattern_ops makes LIKE 'x%' indexable on PostgreSQL under any collation.
    ops = ' text_pattern_ops' if op.get_bind().dialect.name == 'postgresql' else ''
    op.create_index('ix_users_lower_name_pattern', 'users', [sa.text(f'lower(name){ops}')])
    op.create_index(
        'ix_organizations_lower_name_pattern', 'organizations', [sa.text(f'lower(name){ops}')]
    )


def downgrade():
    op.drop_index('ix_organizations_lower_name_pattern', table_name='organizations')
    op.drop_index('ix_users_lower_name_pattern', table_name='users')
    op.drop_index('ix_users_email_pattern', table_name='users')
