"""KYC queue at scale: users.kyc_waiting_since (issue 14) — since when each user waits for a
KYC review, NULL when not waiting, with the index the queue reads it through

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 01:00:00

The backfill sets the column to what the queue computed from the documents and labels until
now (barong.services.verification.kyc_review.waiting_subquery): the oldest pending document's
upload, or — for a user without any document — the `document: pending/replaced` label's update.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE users SET kyc_waiting_since = COALESCE(
    (SELECT min(d.created_at) FROM documents d WHERE d.user_id = users.id AND d.review_state = 'pending'),
    (SELECT min(l.updated_at) FROM labels l
      WHERE l.user_id = users.id AND l.key = 'document' AND l.scope = 'private'
        AND l.value IN ('pending', 'replaced')
        AND NOT EXISTS (SELECT 1 FROM documents a WHERE a.user_id = users.id)))
WHERE users.id IN (SELECT user_id FROM documents WHERE review_state = 'pending')
   OR users.id IN (SELECT user_id FROM labels WHERE key = 'document' AND scope = 'private'
                                                AND value IN ('pending', 'replaced'))
"""


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kyc_waiting_since', sa.DateTime(), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_kyc_waiting', ['kyc_waiting_since', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_kyc_waiting')
        batch_op.drop_column('kyc_waiting_since')
