"""Every interface string is translated into Arabic, with the same placeholders."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from rasid.core import dates, i18n

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "src" / "rasid" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_catalogue_template_is_up_to_date(tmp_path: Path) -> None:
    """Fails when a new interface string was added without running `make i18n`."""
    out = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    env = os.environ | {"POT": str(out), "NO_UPDATE": "1", "PYBABEL": str(pybabel)}
    subprocess.run(["sh", str(ROOT / "scripts" / "i18n_extract.sh")], check=True, env=env)
    fresh = {m.id for m in read_po(out.open("rb")) if m.id}
    with (CATALOGUES / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        arabic = {m.id for m in read_po(fh) if m.id}
    assert fresh - arabic == set(), "run `make i18n` and translate the new strings"


def test_every_message_has_an_arabic_translation_with_the_same_placeholders() -> None:
    with (CATALOGUES / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="ar")
    missing, mismatched = [], []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(ids[0])
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            if set(PLACEHOLDER.findall(s)) - wanted:
                mismatched.append(ids[0])
    assert missing == [] and mismatched == []


def test_language_switch_changes_the_catalogue() -> None:
    i18n.set_language("ar")
    assert i18n.gettext("Dashboard") == "لوحة المتابعة"
    i18n.set_language("en")
    assert i18n.gettext("Dashboard") == "Dashboard"
    i18n.set_language("xx")  # unknown: falls back to Arabic
    assert i18n.get_language() == "ar"


def test_dates_show_gregorian_hijri_and_aden_time() -> None:
    moment = datetime(2026, 11, 30, 21, 30, tzinfo=UTC)  # 00:30 the next day in Aden
    assert (
        dates.format_datetime(moment, "en")
        == "1 December 2026 (21 Jumada al-Akhirah 1448 AH) 00:30"
    )
    assert "جمادى الآخرة 1448 هـ" in dates.format_datetime(moment, "ar")
    element = str(dates.time_element(moment, "en"))
    assert (
        'datetime="2026-11-30T21:30:00Z"' in element
        and 'title="2026-11-30 21:30:00 UTC"' in element
    )
