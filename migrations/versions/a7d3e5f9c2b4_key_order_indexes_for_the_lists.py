"""key order indexes for the lists: invitations, the audit logs, a level of the org tree

Revision ID: a7d3e5f9c2b4
Revises: f2b8d4c6a1e3
Create Date: 2026-12-03 17:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d3e5f9c2b4'
down_revision = 'f2b8d4c6a1e3'
branch_labels = None
depends_on = None


def upgrade():
    # Lists page by key in these orders (the id breaking ties): with the id in the index
    # a page after a key starts at its place instead of walking every row before it.
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_invitations_org_id_created_at_id', ['org_id', 'created_at', 'id'], unique=False
        )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_tenant_id_created_at')
        batch_op.drop_index('ix_audit_events_org_id_created_at')
        batch_op.create_index(
            'ix_audit_events_tenant_id_created_at_id',
            ['tenant_id', 'created_at', 'id'],
            unique=False,
        )
        batch_op.create_index(
            'ix_audit_events_org_id_tenant_id_created_at_id',
            ['org_id', 'tenant_id', 'created_at', 'id'],
            unique=False,
        )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index('ix_organizations_tenant_id_parent_id_name')
        batch_op.create_index(
            'ix_organizations_tenant_id_parent_id_name_id',
            ['tenant_id', 'parent_id', 'name', 'id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index('ix_organizations_tenant_id_parent_id_name_id')
        batch_op.create_index(
            'ix_organizations_tenant_id_parent_id_name',
            ['tenant_id', 'parent_id', 'name'],
            unique=False,
        )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_org_id_tenant_id_created_at_id')
        batch_op.drop_index('ix_audit_events_tenant_id_created_at_id')
        batch_op.create_index(
            'ix_audit_events_org_id_created_at', ['org_id', 'created_at'], unique=False
        )
        batch_op.create_index(
            'ix_audit_events_tenant_id_created_at', ['tenant_id', 'created_at'], unique=False
        )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invitations_org_id_created_at_id')
