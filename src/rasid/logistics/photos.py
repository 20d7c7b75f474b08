"""Photos taken at an end-use check visit, one serial each: the evidence behind a result
(the empty rack of a missing serial, the damage of a damaged one).

The bytes are kept by :mod:`rasid.registry.attachments` (the same checks and the same
content-addressed store as incident source documents and report attachments, under
``<data dir>/attachments/``); the database keeps one :class:`CheckPhoto` row per photo. Only
PNG and JPEG images are taken, the type decided from the file's first bytes; anything else is
refused naming the ``photo`` field, and nothing is written.

A photo is read through its check, the protected record:

* **list and open**: whoever may see the check; everyone else gets "not found", as for the
  check itself. Opening a photo is an audited read.
* **add**: a user with the write permission who may see the check, for a serial the check
  recorded a result for, or, while the check is still scheduled, a serial the checked unit
  holds (held or missing). Any other serial is refused naming ``serial``. Audited
  (``create`` on ``logistics_check_photo``, with the serial, file name, type, size and
  SHA-256).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Forbidden, NotFound, ValidationFailed
from rasid.logistics.models import CheckLine, CheckPhoto, EndUseCheck, Item
from rasid.registry import attachments as store
from rasid.registry.attachments import Upload

FIELD = "photo"
OBJECT_TYPE = "logistics_check_photo"
MAX_BYTES = store.MAX_BYTES
IMAGE_TYPES: dict[str, str] = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_HELD = ("held", "missing")  # the serials a scheduled check expects (as service.unit_items)


@dataclass(frozen=True)
class PhotoRow:
    photo: CheckPhoto
    serial: str


def storage(data_dir: Path) -> Path:
    """Where the bytes are kept: the attachments store under the data directory."""
    return data_dir / "attachments"


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(
            "Your roles do not allow this action (%(permission)s).", permission=permission
        )


def _check(db: Session, actor: Actor, check_id: int) -> EndUseCheck:
    check: EndUseCheck = access.get_visible(db, actor, EndUseCheck, check_id, audit_read=False)
    return check


def _item_for(db: Session, actor: Actor, check: EndUseCheck, serial: str) -> Item:
    """The item of ``serial`` that ``check`` concerns (refused naming ``serial``)."""
    key = serial.strip().upper()
    if not key:
        raise ValidationFailed("This field is required.", field="serial")
    item: Item | None = db.scalar(
        access.visible(actor, Item)
        .join(CheckLine, CheckLine.item_id == Item.id)
        .where(CheckLine.check_id == check.id, Item.serial == key)
        .order_by(Item.id)
        .limit(1)
    )
    if item is None and check.status == "scheduled":
        item = db.scalar(
            access.visible(actor, Item)
            .where(
                Item.custodian_unit_id == check.unit_id,
                Item.status.in_(_HELD),
                Item.serial == key,
            )
            .order_by(Item.id)
            .limit(1)
        )
    if item is None:
        raise ValidationFailed(
            "Serial %(serial)s is not part of this check.", field="serial", serial=key
        )
    return item


def _image(upload: Upload) -> Upload:
    """``upload`` named for the ``photo`` field, refused unless a PNG or JPEG image."""
    named = Upload(upload.index, upload.filename, upload.content, field=FIELD)
    name = os.path.basename(upload.filename.replace("\\", "/")).strip()
    if name and os.path.splitext(name)[1].lower() not in IMAGE_TYPES:
        raise ValidationFailed(
            "%(name)s: only PNG and JPEG photos can be added.", field=FIELD, name=name
        )
    store.check(named)  # name, size, and the first bytes agreeing with the extension
    return named


def snapshot(row: CheckPhoto, serial: str) -> dict[str, Any]:
    return {
        "check_id": row.check_id,
        "item_id": row.item_id,
        "serial": serial,
        "name": row.name,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
    }


def add_photo(
    db: Session, actor: Actor, check_id: int, serial: str, upload: Upload, directory: Path
) -> CheckPhoto:
    """Check and store a photo of ``serial`` taken at the check (audited). Everything is
    checked before the bytes are written: a refusal leaves no row and no file."""
    _require(actor, "write")
    check = _check(db, actor, check_id)
    item = _item_for(db, actor, check, serial)
    named = _image(upload)
    stored = store.store(directory, named)
    row = CheckPhoto(
        check_id=check.id,
        item_id=item.id,
        name=stored.name,
        path=stored.path,
        media_type=stored.media_type,
        sha256=stored.sha256,
        size=stored.size,
        uploaded_by=actor.user_id,
        uploaded_at=utcnow(),
    )
    db.add(row)
    db.flush()
    audit.record_change(db, actor, "create", OBJECT_TYPE, row.id, None, snapshot(row, item.serial))
    return row


def photos(db: Session, actor: Actor, check_id: int) -> list[PhotoRow]:
    """The photos of a visible check, by serial then in the order they were added."""
    _require(actor, "read")
    check = _check(db, actor, check_id)
    rows = db.execute(
        select(CheckPhoto, Item.serial)
        .join(Item, Item.id == CheckPhoto.item_id)
        .where(CheckPhoto.check_id == check.id)
        .order_by(Item.serial, CheckPhoto.id)
    ).all()
    return [PhotoRow(photo, serial) for photo, serial in rows]


def photo_row(db: Session, row: CheckPhoto) -> PhotoRow:
    """``row`` with its serial (for a photo just added)."""
    item = db.get(Item, row.item_id)
    return PhotoRow(row, item.serial if item is not None else "")


def _not_found(photo_id: int) -> NotFound:
    return NotFound("No %(type)s with id %(id)s.", type=OBJECT_TYPE, id=photo_id)


def open_photo(db: Session, actor: Actor, photo_id: int, directory: Path) -> tuple[Path, str, str]:
    """(where the bytes are, media type, original name) of a photo, for a user who may see
    its check (an audited read; "not found" whether the photo is missing or its check
    hidden)."""
    _require(actor, "read")
    row = db.get(CheckPhoto, photo_id)
    if row is None:
        raise _not_found(photo_id)
    try:
        check = _check(db, actor, row.check_id)
    except NotFound as exc:
        error = _not_found(photo_id)
        error.audit = exc.audit  # the refusal is audited, as for the check itself
        raise error from None
    path = store.open_path(directory, row.path)
    audit.record(
        db,
        actor,
        "read",
        object_type=OBJECT_TYPE,
        object_id=row.id,
        detail={"check": check.id, "file": row.name, "marking": check.marking},
    )
    return path, row.media_type, row.name


def item_photos(db: Session, actor: Actor, item_id: int) -> list[PhotoRow]:
    """The photos of a visible item taken at the checks the actor may see, the newest first."""
    _require(actor, "read")
    item: Item = access.get_visible(db, actor, Item, item_id, audit_read=False)
    rows = db.scalars(
        select(CheckPhoto)
        .where(
            CheckPhoto.item_id == item.id,
            CheckPhoto.check_id.in_(
                select(EndUseCheck.id).where(access.visible_filter(actor, EndUseCheck))
            ),
        )
        .order_by(CheckPhoto.id.desc())
    )
    return [PhotoRow(row, item.serial) for row in rows]
