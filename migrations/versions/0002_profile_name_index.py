"""profiles: first_name_index / last_name_index (search by name over the encrypted columns)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:25:00

The names are encrypted at rest; the admin users search (`q`) finds them through a CRC32
index of the case-folded name (barong.models.base.name_key), like Barong's phone and
document number indexes. The upgrade fills it for the existing profiles (decrypting them
with the app's key).
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_name_index', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('last_name_index', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_profiles_first_name_index'), ['first_name_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_profiles_last_name_index'), ['last_name_index'], unique=False)
    backfill(op.get_bind())


def backfill(conn, chunk: int = 5000) -> int:
    """Index the names of profiles not indexed yet; returns how many rows were updated."""
    from barong.models.base import name_key
    from barong.security.crypto import crc32_index, decrypt

    profiles = sa.table('profiles', sa.column('id'), sa.column('first_name_encrypted'),
                        sa.column('last_name_encrypted'), sa.column('first_name_index'),
                        sa.column('last_name_index'))
    done, last_id = 0, 0
    while True:
        rows = conn.execute(sa.select(profiles.c.id, profiles.c.first_name_encrypted, profiles.c.last_name_encrypted)
                            .where(profiles.c.id > last_id).order_by(profiles.c.id).limit(chunk)).all()
        if not rows:
            return done
        for pid, first, last in rows:
            if first or last:
                f, l_ = name_key(decrypt(first)) if first else None, name_key(decrypt(last)) if last else None
                conn.execute(profiles.update().where(profiles.c.id == pid).values(
                    first_name_index=crc32_index(f) if f else None, last_name_index=crc32_index(l_) if l_ else None))
                done += 1
        last_id = rows[-1][0]


def downgrade():
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profiles_last_name_index'))
        batch_op.drop_index(batch_op.f('ix_profiles_first_name_index'))
        batch_op.drop_column('last_name_index')
        batch_op.drop_column('first_name_index')
