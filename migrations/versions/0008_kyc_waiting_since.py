"""KYC queue at scale: users.kyc_waiting_since (issue 14) — filled in by the kyc work

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
