"""indexes for 1,000,000 users (issue 18)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 19:00:00

* event_outbox: mail_uid, mail_due_at, mail_claimed_until — mail leaves the request path:
  a background deliverer claims each pending mail (services/delivery/mail.py).
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mail_uid', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mail_due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('mail_claimed_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('event_outbox', schema=None) as batch_op:
        batch_op.drop_column('mail_claimed_until')
        batch_op.drop_column('mail_due_at')
        batch_op.drop_column('mail_uid')
