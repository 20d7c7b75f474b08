"""Files attached to records (an incident's sources, a report's attachments): size-limited,
type-checked, stored outside the database.

Files are stored under ``<data dir>/attachments/`` by the SHA-256 of their content (the same
document attached twice is stored once); the database keeps the original name, the checked
media type and the stored name. The type is decided from the file's first bytes, not from
what the browser claims, and must agree with the name's extension.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rasid.core.errors import NotFound, ValidationFailed

MAX_BYTES = 10 * 1024 * 1024

# extension → (media type, magic prefixes; None = text, checked as UTF-8)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".txt": ("text/plain; charset=utf-8", None),
    ".csv": ("text/csv; charset=utf-8", None),
}


@dataclass(frozen=True)
class Upload:
    """A file a user sent for source number ``index`` of an incident, or for ``field``."""

    index: int
    filename: str
    content: bytes
    field: str = ""  # the form field errors name; default ``sources.<index>.attachment``


@dataclass(frozen=True)
class Stored:
    name: str  # the original file name, as the user will see it
    path: str  # stored name, relative to the attachments directory
    media_type: str
    sha256: str = ""
    size: int = 0


def check(upload: Upload) -> str:
    """The media type of an acceptable upload, or a clear error naming the source."""
    field = upload.field or f"sources.{upload.index}.attachment"
    name = os.path.basename(upload.filename.replace("\\", "/")).strip()
    if not name:
        raise ValidationFailed("The attached file has no name.", field=field)
    if len(upload.content) > MAX_BYTES:
        raise ValidationFailed(
            "%(name)s is larger than %(limit)s MB.",
            field=field,
            name=name,
            limit=MAX_BYTES // (1024 * 1024),
        )
    if not upload.content:
        raise ValidationFailed("%(name)s is empty.", field=field, name=name)
    ext = os.path.splitext(name)[1].lower()
    if ext not in ALLOWED:
        raise ValidationFailed(
            "%(name)s: only PDF, PNG, JPEG, DOCX, XLSX, TXT and CSV files can be attached.",
            field=field,
            name=name,
        )
    media_type, magic = ALLOWED[ext]
    if magic is None:
        try:
            upload.content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed("%(name)s is not UTF-8 text.", field=field, name=name) from exc
    elif not upload.content.startswith(magic):
        raise ValidationFailed(
            "%(name)s is not really a %(ext)s file.", field=field, name=name, ext=ext[1:]
        )
    return media_type


def store(directory: Path, upload: Upload) -> Stored:
    media_type = check(upload)
    digest = hashlib.sha256(upload.content).hexdigest()
    relative = f"{digest[:2]}/{digest}"
    target = directory / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(upload.content)
        os.replace(tmp, target)
    name = os.path.basename(upload.filename.replace("\\", "/")).strip()[:200]
    return Stored(
        name=name,
        path=relative,
        media_type=media_type,
        sha256=digest,
        size=len(upload.content),
    )


def open_path(directory: Path, relative: str) -> Path:
    path = (directory / relative).resolve()
    if directory.resolve() not in path.parents or not path.is_file():
        raise NotFound("The attached file is missing from the store.")
    return path
