"""per-document KYC decisions (issue 14)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:00:00

documents gain their own review state (pending | approved | rejected | retry | expired),
the reason code and note of the last decision, who decided and when; document_decisions
keeps one row per decision (history, reviewer metrics). Existing documents take the
state of the label that covered them (`document` for identity documents, `address` for
proofs of address): verified → approved, rejected → rejected, anything else → pending.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_state', sa.String(length=16), nullable=False,
                                      server_default='pending'))
        batch_op.add_column(sa.Column('review_reason', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', BIGINT, nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_documents_reviewed_by_id_users'), 'users',
                                    ['reviewed_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_documents_review_queue', ['review_state', 'user_id', 'created_at'], unique=False)

    op.create_table(
        'document_decisions',
        sa.Column('id', BIGINT, nullable=False),
        sa.Column('document_id', BIGINT, nullable=False),
        sa.Column('user_id', BIGINT, nullable=False),
        sa.Column('reviewer_id', BIGINT, nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('internal_note', sa.Text(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_document_decisions_document_id_documents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_decisions_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'],
                                name=op.f('fk_document_decisions_reviewer_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_decisions')),
    )
    with op.batch_alter_table('document_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_decisions_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_decisions_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_document_decisions_reviewer_created', ['reviewer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_document_decisions_created_at', ['created_at'], unique=False)

    backfill(op.get_bind())


def backfill(conn) -> None:
    """Each existing document takes the state of the private label that covers it."""
    for state, value in (('approved', 'verified'), ('rejected', 'rejected')):
        for key, address in (('document', False), ('address', True)):
            kind = "documents.doc_type = 'Address'" if address else "documents.doc_type <> 'Address'"
            conn.execute(sa.text(
                f"UPDATE documents SET review_state = :state WHERE {kind} AND user_id IN ("
                "SELECT user_id FROM labels WHERE labels.key = :key AND labels.scope = 'private' "
                "AND labels.value = :value)"), {"state": state, "key": key, "value": value})


def downgrade():
    with op.batch_alter_table('document_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_document_decisions_created_at')
        batch_op.drop_index('ix_document_decisions_reviewer_created')
        batch_op.drop_index(batch_op.f('ix_document_decisions_user_id'))
        batch_op.drop_index(batch_op.f('ix_document_decisions_document_id'))
    op.drop_table('document_decisions')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_review_queue')
        batch_op.drop_constraint(batch_op.f('fk_documents_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('review_note')
        batch_op.drop_column('review_reason')
        batch_op.drop_column('review_state')
