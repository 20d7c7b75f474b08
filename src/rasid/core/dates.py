"""Dates as users here read them: Gregorian and Hijri (Umm al-Qura), Asia/Aden time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from hijridate import Gregorian
from markupsafe import Markup, escape

LOCAL_TZ = ZoneInfo("Asia/Aden")
_BABEL_LOCALE = {"ar": "ar_YE", "en": "en_GB"}


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def hijri(value: date, language: str) -> str:
    """``12 Jumada al-Akhirah 1448 AH`` / ``١٢ جمادى الآخرة ١٤٤٨ هـ`` (Umm al-Qura)."""
    try:
        h = Gregorian(value.year, value.month, value.day).to_hijri()
    except OverflowError:
        return ""
    if language == "ar":
        return f"{h.day} {h.month_name('ar')} {h.year} هـ"
    return f"{h.day} {h.month_name('en')} {h.year} AH"


def format_date(value: date, language: str) -> str:
    gregorian = babel_format_date(
        value, format="d MMMM y", locale=_BABEL_LOCALE.get(language, "en_GB")
    )
    hijri_text = hijri(value, language)
    return f"{gregorian} ({hijri_text})" if hijri_text else gregorian


def format_datetime(value: datetime, language: str) -> str:
    local = to_local(value)
    time_part = babel_format_datetime(
        local, format="HH:mm", locale=_BABEL_LOCALE.get(language, "en_GB")
    )
    return f"{format_date(local.date(), language)} {time_part}"


def time_element(value: datetime | None, language: str) -> Markup:
    """``<time>`` showing local (Asia/Aden) Gregorian + Hijri, with UTC on hover."""
    if value is None:
        return Markup("—")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    utc = value.astimezone(UTC)
    iso = utc.isoformat(timespec="seconds").replace("+00:00", "Z")
    title = utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        escape(iso), escape(title), format_datetime(value, language)
    )
