#!/usr/bin/env python3
"""Fill empty Arabic translations from a JSON file of {msgid: translation} (plural: a list).

    .venv/bin/python scripts/po_fill.py translations.json

Used when a batch of new interface strings is translated at once; prints what is still
missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "rasid"
    / "translations"
    / "ar"
    / "LC_MESSAGES"
    / "messages.po"
)


def main() -> None:
    table = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="ar")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        done = all(message.string) if isinstance(message.string, tuple) else bool(message.string)
        if not done and key in table:
            value = table[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else value
            done = True
        if not done:
            missing.append(key)
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    print("still missing:", len(missing))
    for key in missing:
        print(" ", repr(key))


if __name__ == "__main__":
    main()
