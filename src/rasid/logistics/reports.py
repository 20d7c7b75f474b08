"""The quarterly accountability report as a document (the figures and lists come from
:func:`rasid.logistics.service.accountability_report`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.logistics.service import AccountabilityReport


def record_export(db: Session, actor: Actor, report: AccountabilityReport, fmt: str) -> None:
    """Exporting the report is audited like any read of protected data leaving the system."""
    audit.record(
        db, actor, "export", object_type="logistics_accountability",
        detail={"year": report.year, "quarter": report.quarter, "format": fmt,
                **report.figures.as_dict()},
    )  # fmt: skip
