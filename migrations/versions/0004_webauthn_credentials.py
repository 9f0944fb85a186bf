"""passkeys / security keys (issue 15)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 19:00:00

Reserved in order so parallel work keeps one linear history; a no-op until filled.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
