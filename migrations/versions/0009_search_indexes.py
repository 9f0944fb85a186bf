"""User search at 1,000,000 users (issue 18) — filled in by the search work

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
