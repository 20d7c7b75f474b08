"""maritime: navigation security advisories drafted from incidents

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import rasid.core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maritime_advisory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("event_at", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("port_id", sa.String(length=60), nullable=False),
        sa.Column("distance_nm", sa.Float(), nullable=False),
        sa.Column("bearing_deg", sa.Float(), nullable=False),
        sa.Column("title_ar", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("what_ar", sa.Text(), nullable=False),
        sa.Column("what_en", sa.Text(), nullable=False),
        sa.Column("advice_ar", sa.Text(), nullable=False),
        sa.Column("advice_en", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issued_at", rasid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "marking IN ('TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED')",
            name=op.f("ck_maritime_advisory_marking"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'issued')", name=op.f("ck_maritime_advisory_status")
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisation.id"],
            name=op.f("fk_maritime_advisory_owner_org_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maritime_advisory")),
        sa.UniqueConstraint("ref", name=op.f("uq_maritime_advisory_ref")),
    )
    with op.batch_alter_table("maritime_advisory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maritime_advisory_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_maritime_advisory_marking"), ["marking"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_maritime_advisory_owner_org_id"), ["owner_org_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("maritime_advisory")
