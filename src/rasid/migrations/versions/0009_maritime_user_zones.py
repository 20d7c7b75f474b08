"""maritime: zones added by users

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import rasid.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maritime_zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("watched", sa.Boolean(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisation.id"],
            name=op.f("fk_maritime_zone_owner_org_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maritime_zone")),
        sa.UniqueConstraint("zone_id", name=op.f("uq_maritime_zone_zone_id")),
    )
    with op.batch_alter_table("maritime_zone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maritime_zone_owner_org_id"), ["owner_org_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("maritime_zone")
