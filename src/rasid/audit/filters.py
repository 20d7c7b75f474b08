"""Turning query-string values into an audit filter, shared by the page and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rasid.audit.service import AuditFilter
from rasid.core.dates import LOCAL_TZ
from rasid.core.errors import ValidationFailed


def _day(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            "%(value)s is not a date (YYYY-MM-DD).", field=field, value=value
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)  # dates typed by users are local (Asia/Aden)
    return parsed.astimezone(UTC)


def build_filter(
    *,
    user: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    outcome: str | None = None,
) -> AuditFilter:
    until = _day(date_to, "date_to")
    if until is not None and date_to and len(date_to) == 10:
        until += timedelta(days=1)  # a whole day: "to 2026-11-30" includes that day
    return AuditFilter(
        username=user or None,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
        since=_day(date_from, "date_from"),
        until=until,
        outcome=outcome or None,
    )
