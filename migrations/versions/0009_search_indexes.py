"""User search at 1,000,000 users (issue 18): the indexes of admin/users' one box, its email
ordering and its level + country filter

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 01:00:00

* users.ix_users_email_lower_trgm: the `q` box's email part (`email_lower LIKE '%…%'`)
  through a pg_trgm GIN index on PostgreSQL (the extension is created first); SQLite gets
  the plain index the models declare there (it does not use it).
* profiles.ix_profiles_first_last_user / ix_profiles_last_first_user replace the single
  name indexes: the `q` box's name readings ("first", "last", "first last", "last first")
  become index-only scans.
* users.ix_users_email_id: order_by=email with its `id` tie-break.
* users.ix_users_level_id replaces ix_users_level: `level` with `country` semi-joins
  index-only id lists.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_level')
        batch_op.create_index('ix_users_level_id', ['level', 'id'], unique=False)
        batch_op.create_index('ix_users_email_id', ['email', 'id'], unique=False)
        batch_op.create_index('ix_users_email_lower_trgm', ['email_lower'], unique=False, postgresql_using='gin',
                              postgresql_ops={'email_lower': 'gin_trgm_ops'})
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_profiles_first_name_index')
        batch_op.drop_index('ix_profiles_last_name_index')
        batch_op.create_index('ix_profiles_first_last_user', ['first_name_index', 'last_name_index', 'user_id'],
                              unique=False)
        batch_op.create_index('ix_profiles_last_first_user', ['last_name_index', 'first_name_index', 'user_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_index('ix_profiles_last_first_user')
        batch_op.drop_index('ix_profiles_first_last_user')
        batch_op.create_index('ix_profiles_last_name_index', ['last_name_index'], unique=False)
        batch_op.create_index('ix_profiles_first_name_index', ['first_name_index'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_email_lower_trgm')
        batch_op.drop_index('ix_users_email_id')
        batch_op.drop_index('ix_users_level_id')
        batch_op.create_index('ix_users_level', ['level'], unique=False)
