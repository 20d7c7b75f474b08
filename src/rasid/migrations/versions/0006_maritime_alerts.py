"""maritime: alerts with evidence, workflow and escalation links

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 14:09:13.215891
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import rasid.core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maritime_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("subtype", sa.String(length=40), nullable=False),
        sa.Column("mmsi", sa.BigInteger(), nullable=False),
        sa.Column("other_mmsi", sa.BigInteger(), nullable=True),
        sa.Column("start", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("zone", sa.String(length=100), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", rasid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", rasid.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", rasid.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "marking IN ('TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED')",
            name=op.f("ck_maritime_alert_marking"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'acknowledged', 'escalated', 'dismissed')",
            name=op.f("ck_maritime_alert_status"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisation.id"],
            name=op.f("fk_maritime_alert_owner_org_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["maritime_ingest_run.id"],
            name=op.f("fk_maritime_alert_run_id_maritime_ingest_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maritime_alert")),
        sa.UniqueConstraint("owner_org_id", "key", name="uq_maritime_alert_owner_key"),
    )
    with op.batch_alter_table("maritime_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maritime_alert_marking"), ["marking"], unique=False)
        batch_op.create_index(batch_op.f("ix_maritime_alert_mmsi"), ["mmsi"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_maritime_alert_other_mmsi"), ["other_mmsi"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_maritime_alert_owner_org_id"), ["owner_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_maritime_alert_start"), ["start"], unique=False)
        batch_op.create_index(batch_op.f("ix_maritime_alert_status"), ["status"], unique=False)
        batch_op.create_index("ix_maritime_alert_type_start", ["type", "start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("maritime_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_maritime_alert_type_start")
        batch_op.drop_index(batch_op.f("ix_maritime_alert_status"))
        batch_op.drop_index(batch_op.f("ix_maritime_alert_start"))
        batch_op.drop_index(batch_op.f("ix_maritime_alert_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_maritime_alert_other_mmsi"))
        batch_op.drop_index(batch_op.f("ix_maritime_alert_mmsi"))
        batch_op.drop_index(batch_op.f("ix_maritime_alert_marking"))

    op.drop_table("maritime_alert")
