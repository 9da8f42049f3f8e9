"""verified email addresses, per-account sign-in throttling, API key permission sets
and subtrees, and view-as state kept on the server (and staff sign-in throttling)

Revision ID: c7e2a9f4b610
Revises: 4a7c2e9d1b35
Create Date: 2026-12-03 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e2a9f4b610'
down_revision = '4a7c2e9d1b35'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTERs, not a batch: recreating users on SQLite would lose its expression
    # indexes (lower(name)).
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'users', sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False)
    )
    op.add_column(
        'users', sa.Column('sign_in_blocked_until', sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        'staff_users',
        sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False),
    )
    op.add_column(
        'staff_users', sa.Column('sign_in_blocked_until', sa.DateTime(timezone=True), nullable=True)
    )
    # An address already proven stays proven: its holder accepted an emailed invitation
    # to it, or opened a password link sent to it. Every other account (open sign-up)
    # proves its address with a verification link at its next visit.
    op.execute(
        """
        UPDATE users SET email_verified_at = CURRENT_TIMESTAMP
        WHERE EXISTS (
            SELECT 1 FROM invitations
            WHERE invitations.accepted_user_id = users.id
              AND invitations.email = users.email
              AND invitations.status = 'accepted'
        ) OR EXISTS (
            SELECT 1 FROM password_reset_tokens
            WHERE password_reset_tokens.user_id = users.id
              AND password_reset_tokens.used_at IS NOT NULL
        )
        """
    )

    op.create_table('email_verification_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_verification_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_verification_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_verification_tokens_token_hash'))
    )
    with op.batch_alter_table('email_verification_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_verification_tokens_user_id'), ['user_id'], unique=False)

    # None is "full access": what every key made before permission sets could do.
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permissions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_keys_org_id'), ['org_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_api_keys_org_id_organizations'), 'organizations', ['org_id'], ['id'],
            ondelete='CASCADE',
        )

    op.create_table('view_as_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=40), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_view_as_sessions_staff_id_staff_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_view_as_sessions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_view_as_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_view_as_sessions')),
    sa.UniqueConstraint('public_id', name=op.f('uq_view_as_sessions_public_id'))
    )
    with op.batch_alter_table('view_as_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_view_as_sessions_staff_id_ended_at', ['staff_id', 'ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_view_as_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('view_as_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_view_as_sessions_user_id'))
        batch_op.drop_index('ix_view_as_sessions_staff_id_ended_at')
    op.drop_table('view_as_sessions')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_keys_org_id_organizations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_keys_org_id'))
        batch_op.drop_column('org_id')
        batch_op.drop_column('permissions')

    with op.batch_alter_table('email_verification_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_verification_tokens_user_id'))
    op.drop_table('email_verification_tokens')

    op.drop_column('staff_users', 'sign_in_blocked_until')
    op.drop_column('staff_users', 'failed_sign_ins')
    op.drop_column('users', 'sign_in_blocked_until')
    op.drop_column('users', 'failed_sign_ins')
    op.drop_column('users', 'email_verified_at')
