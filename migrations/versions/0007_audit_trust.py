"""audit chain: activities.chain_seq / prev_hash / row_hash, audit_chain_heads,
audit_verifications; signed webhooks: webhook_endpoints, webhook_deliveries; four-eyes:
approval_requests (issue 17)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:00:00

The upgrade links the rows that exist, actor by actor in id order, so `flask audit
verify` passes right after it (barong.services.audit.chain).
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
FIELDS = ("id", "user_id", "category", "target_uid", "user_ip", "user_ip_country", "user_agent",
          "topic", "action", "result", "data", "created_at")


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ux_activities_chain', ['user_id', 'chain_seq'], unique=True)
    op.create_table(
        'audit_chain_heads',
        sa.Column('chain_key', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('seal', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('chain_key', name=op.f('pk_audit_chain_heads')),
    )
    op.create_table(
        'audit_verifications',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('rows', sa.BigInteger(), nullable=False),
        sa.Column('chains', sa.BigInteger(), nullable=False),
        sa.Column('first_broken_id', sa.BigInteger(), nullable=True),
        sa.Column('problem', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_verifications')),
    )
    with op.batch_alter_table('audit_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_verifications_created_at'), ['created_at'], unique=False)
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('secret_encrypted', sa.String(length=1024), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('endpoint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('outbox_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=1024), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outbox_id'], ['event_outbox.id'],
                                name=op.f('fk_webhook_deliveries_outbox_id_event_outbox'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('endpoint_id', 'outbox_id', name='uq_webhook_deliveries_endpoint_event'),
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_outbox_id'), ['outbox_id'], unique=False)
    op.create_table(
        'approval_requests',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('target_uid', sa.String(length=32), nullable=True),
        sa.Column('requested_by', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=32), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.String(length=255), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests')),
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index('ix_approval_requests_state_created', ['state', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_requests_target_uid'), ['target_uid'], unique=False)
    link_existing(op.get_bind())


def link_existing(bind):
    """Chain the rows already stored (same canonical form as barong.services.audit.chain)."""
    acts = sa.table('activities', *[sa.column(c) for c in FIELDS + ('chain_seq', 'prev_hash', 'row_hash')])
    heads = sa.table('audit_chain_heads', sa.column('chain_key'), sa.column('seq'), sa.column('last_hash'),
                     sa.column('seal'), sa.column('updated_at'))
    state: dict[str, tuple[int, str]] = {}
    rows = bind.execute(sa.select(*[acts.c[c] for c in FIELDS]).order_by(acts.c.id)).mappings().all()
    for row in rows:
        key = str(row["user_id"] or 0)
        seq, prev = state.get(key, (0, GENESIS))
        doc = dict(row)
        created = doc["created_at"]
        if isinstance(created, str):
            from datetime import datetime
            created = datetime.fromisoformat(created)
        doc["created_at"] = created.replace(microsecond=0).isoformat(timespec="seconds") if created else None
        doc["chain_seq"], doc["prev_hash"] = seq + 1, prev
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"),
                                           ensure_ascii=False).encode()).hexdigest()
        bind.execute(acts.update().where(acts.c.id == row["id"])
                     .values(chain_seq=seq + 1, prev_hash=prev, row_hash=digest))
        state[key] = (seq + 1, digest)
    if state:
        from datetime import datetime, timezone

        from barong.security.crypto import keyed_hash  # the app's secret: run by `flask db upgrade`
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        bind.execute(heads.insert(), [{"chain_key": k, "seq": s, "last_hash": h, "updated_at": now,
                                       "seal": keyed_hash(f"audit-chain-head:{k}:{s}:{h}")}
                                      for k, (s, h) in state.items()])


def downgrade():
    op.drop_table('approval_requests')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
    with op.batch_alter_table('audit_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_verifications_created_at'))
    op.drop_table('audit_verifications')
    op.drop_table('audit_chain_heads')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ux_activities_chain')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
