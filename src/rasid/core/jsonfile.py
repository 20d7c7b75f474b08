"""Reading a JSON file with an error that names the file, line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasid.core.errors import ValidationFailed


def read_json(path: Path, label: str | None = None) -> Any:
    """The parsed file; ``label`` is how errors name it (default: the path)."""
    source = label or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ValidationFailed("%(file)s does not exist.", field="path", file=source) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "%(file)s cannot be read as UTF-8 text.", field="path", file=source
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            "%(file)s is not valid JSON (line %(line)s, column %(column)s).",
            field="path",
            file=source,
            line=exc.lineno,
            column=exc.colno,
        ) from exc
