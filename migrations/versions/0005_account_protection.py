"""known networks, API key allow-lists and expiry, lockout (issue 15)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:00:00

* `known_networks`: the networks (or countries) a user approved for logins;
* `users.temporary_locks`, `users.security_cooldown_until`: the lockout that learns and
  the security-change cooldown;
* `apikeys.allowed_ips`, `expires_at`, `last_used_at`, `last_used_ip`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'known_networks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('value', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_known_networks_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_known_networks')),
        sa.UniqueConstraint('user_id', 'kind', 'value', name='uq_known_networks_user_kind_value'),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('temporary_locks', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('security_cooldown_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('apikeys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_ips', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_used_ip', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('apikeys', schema=None) as batch_op:
        batch_op.drop_column('last_used_ip')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('allowed_ips')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('security_cooldown_until')
        batch_op.drop_column('temporary_locks')
    op.drop_table('known_networks')
