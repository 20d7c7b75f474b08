"""The session roster as XLSX: the CSV's columns, Arabic kept, a header row, right-to-left
for a session taught in Arabic, text never run as a formula; and `rasid training roster
--format xlsx`."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.errors import NotFound
from rasid.core.settings import Settings
from rasid.training import reports, service
from tests.conftest import World

TODAY = date.today()


@pytest.fixture
def sessions(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    officer = world.actor("analyst")
    start = TODAY - timedelta(days=30)
    with factory.begin() as db:
        unit = service.create_unit(db, officer, code="u1", name_ar="الوحدة الأولى")
        service.record_vetting(db, officer, ref="U-1", unit_id=unit.id, status="approved",
                               requested_on=start, decided_on=start)  # fmt: skip
        course = service.create_course(db, officer, title_ar="التحقيق البحري")
        out: dict[str, int] = {}
        for lang, offset in (("ar", 10), ("en", 20)):
            out[lang] = service.create_session(
                db, officer, course_id=course.id, start_date=TODAY + timedelta(days=offset),
                end_date=TODAY + timedelta(days=offset + 2), capacity=5, language=lang,
            ).id  # fmt: skip
        for i, (name, latin) in enumerate((("علي صالح", "Ali Saleh"), ("=HYPERLINK(1)", ""))):
            person = service.create_person(db, officer, name_ar=name, name_latin=latin,
                                           national_id=f"NID-{i}", unit_id=unit.id)  # fmt: skip
            service.record_vetting(db, officer, ref=f"P-{i}", person_id=person.id,
                                   status="approved", requested_on=start, decided_on=start)  # fmt: skip
            service.enrol(db, officer, out["ar"], person.id)
    return out


def _sheet(data: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(BytesIO(data)).active


def test_roster_xlsx_reads_back_as_the_csv(
    world: World, factory: sessionmaker[Session], sessions: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    with factory() as db:
        sheet = _sheet(reports.roster_xlsx(db, officer, sessions["ar"]))
        csv_lines = reports.roster_csv(db, officer, sessions["ar"]).splitlines()
        english = _sheet(reports.roster_xlsx(db, officer, sessions["en"]))
    rows = [[("" if v is None else str(v)) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == reports.ROSTER_COLUMNS and sheet["A1"].font.b
    assert len(rows) == len(csv_lines) == 3
    assert rows[1][4:6] == ["علي صالح", "Ali Saleh"] and rows[1][9] == "P-0"
    assert ",".join(rows[1]) == csv_lines[1]
    assert sheet["E3"].value == "=HYPERLINK(1)" and sheet["E3"].data_type == "s"  # not a formula
    assert sheet.sheet_view.rightToLeft and sheet.freeze_panes == "A2"
    assert not english.sheet_view.rightToLeft and english.max_row == 1  # header only
    with factory() as db, pytest.raises(NotFound):
        reports.roster_xlsx(db, world.actor("partner"), sessions["ar"])


def test_cli_roster_format(
    world: World, cli_env: Settings, factory: sessionmaker[Session], sessions: dict[str, int],
    tmp_path: Path,
) -> None:  # fmt: skip
    runner = CliRunner()
    out = tmp_path / "roster.xlsx"
    base = ["training", "roster", str(sessions["ar"]), "--out", str(out), "--as", "analyst"]
    result = runner.invoke(app, [*base, "--format", "xlsx"])
    assert result.exit_code == 0, result.stderr
    assert "(2 trainees)" in result.stdout and _sheet(out.read_bytes()).max_row == 3
    default = tmp_path / "roster.csv"
    csv_run = runner.invoke(
        app, ["training", "roster", str(sessions["ar"]), "--out", str(default), "--as", "analyst"]
    )
    assert csv_run.exit_code == 0 and default.read_bytes().startswith(b"\xef\xbb\xbfsession_id,")
    bad = runner.invoke(app, [*base, "--format", "pdf"])
    assert bad.exit_code == 1 and "--format" in bad.stderr and "xlsx" in bad.stderr
    with factory() as db:
        formats = [
            e.detail for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "export"))
        ]
    assert any('"format":"xlsx"' in (d or "") for d in formats)
    assert any('"format":"csv"' in (d or "") for d in formats)
