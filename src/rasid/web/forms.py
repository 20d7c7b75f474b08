"""Reading the values of a submitted form: errors name the field, as the services' do."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasid.core.errors import ValidationFailed


def text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def day(form: Any, name: str, *, required: bool = False) -> date | None:
    value = text(form, name)
    if not value:
        if required:
            raise ValidationFailed("This field is required.", field=name)
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(
            "%(value)s is not a date (YYYY-MM-DD).", field=name, value=value
        ) from exc


def required_day(form: Any, name: str) -> date:
    value = day(form, name, required=True)
    assert value is not None
    return value


def whole(form: Any, name: str, *, required: bool = False) -> int | None:
    value = text(form, name).lstrip("#")
    if not value:
        if required:
            raise ValidationFailed("This field is required.", field=name)
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed("%(value)s is not a whole number.", field=name, value=value) from exc


def required_whole(form: Any, name: str) -> int:
    value = whole(form, name, required=True)
    assert value is not None
    return value


def number(form: Any, name: str) -> float | None:
    value = text(form, name).replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise ValidationFailed("%(value)s is not a number.", field=name, value=value) from exc
