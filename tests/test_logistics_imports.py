"""Equipment-list import: all or nothing with every problem by row and column, --valid-only
with a rejects file, dry run, XLSX with Arabic headers, what another organisation may not
use, and the CLI."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app
from rasid.core.errors import ValidationFailed
from rasid.core.settings import Settings
from rasid.logistics import imports, service
from rasid.logistics.models import CustodyEvent, Item
from rasid.registry.io import parse_csv, parse_xlsx
from tests.conftest import World

GOOD = (
    "type,serial,donor,case_ref,site\n"
    "5820-01-555-1234,R-010,Embassy,FMF-1,Aden\n"
    "VHF radio,r-011,Embassy,FMF-1,Aden\n"
    "Patrol boat,B-1,Embassy,FMF-2,\n"
)
BAD = (
    "vhf radio,R-001,,,\n"  # row 5: exists already
    "VHF radio,R-010,,,\n"  # row 6: repeats row 2
    "Tank,T-1,,,\n"  # row 7: no such type
    ",X-1,,,\n"  # row 8: no type
    "VHF radio,,,,\n"  # row 9: no serial
    "Life vest,LV-1,,,\n"  # row 10: two types by that name
    "Patrol boat,B-2," + "x" * 201 + ",,\n"  # row 11: donor too long
)


@pytest.fixture
def kinds(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    officer = world.actor("analyst")
    with factory.begin() as db:
        radio = service.add_type(
            db, officer, name_ar="جهاز لاسلكي", name_en="VHF radio", part_number="5820-01-555-1234"
        )
        boat = service.add_type(db, officer, name_ar="قارب دورية", name_en="Patrol boat")
        service.add_type(db, officer, name_ar="سترة نجاة", name_en="Life vest", part_number="LV-A")
        service.add_type(db, officer, name_ar="سترة", name_en="Life vest", part_number="LV-B")
        service.add_items(db, officer, radio.id, ["R-001"])
        return {"radio": radio.id, "boat": boat.id}


def _serials(factory: sessionmaker[Session]) -> list[tuple[int, str, str, str, str]]:
    with factory() as db:
        return [
            (i.type_id, i.serial, i.donor, i.case_ref, i.site)
            for i in db.scalars(select(Item).order_by(Item.serial))
        ]


def test_all_or_nothing_valid_only_and_dry_run(
    world: World, factory: sessionmaker[Session], kinds: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    table = parse_csv((GOOD + BAD).encode(), "equipment.csv")
    before = _serials(factory)
    with factory.begin() as db:
        report = imports.import_equipment(db, officer, table)
    assert (report.rows, report.valid, report.created) == (10, 3, 0)
    assert [(p.row, p.column) for p in report.problems] == [
        (5, "serial"),
        (6, "serial"),
        (7, "type"),
        (8, "type"),
        (9, "serial"),
        (10, "type"),
        (11, "donor"),
    ]
    messages = [str(p) for p in report.problems]
    assert messages[0] == "row 5, serial: R-001 exists already for this type"
    assert messages[1] == "row 6, serial: R-010 repeats row 2"
    assert "matches 2 equipment types" in messages[5]
    assert _serials(factory) == before  # nothing written
    with factory.begin() as db:
        dry = imports.import_equipment(db, officer, parse_csv(GOOD.encode(), "e.csv"), dry_run=True)
    assert (dry.valid, dry.created, dry.problems) == (3, 0, [])
    assert _serials(factory) == before
    with factory.begin() as db:
        kept = imports.import_equipment(db, officer, table, valid_only=True)
    assert (kept.created, len(kept.rejected_rows)) == (3, 7)
    assert _serials(factory) == [
        (kinds["boat"], "B-1", "Embassy", "FMF-2", ""),
        (kinds["radio"], "R-001", "", "", ""),
        (kinds["radio"], "R-010", "Embassy", "FMF-1", "Aden"),
        (kinds["radio"], "R-011", "Embassy", "FMF-1", "Aden"),
    ]
    with factory() as db:  # registered through the service: each starts its custody chain
        assert db.scalar(select(func.count()).select_from(CustodyEvent)) == 4
    rejects = imports.rejects_csv(table, kept).splitlines()
    assert rejects[0] == "row,problems,type,serial,donor,case_ref,site" and len(rejects) == 8
    assert rejects[1] == "5,serial: R-001 exists already for this type,vhf radio,R-001,,,"
    with factory.begin() as db, pytest.raises(ValidationFailed) as missing:
        imports.import_equipment(db, officer, parse_csv(b"type,donor\nx,y\n", "bad.csv"))
    assert "serial" in missing.value.message and missing.value.field == "header"


def test_xlsx_with_arabic_headers_and_another_organisation(
    world: World, factory: sessionmaker[Session], kinds: dict[str, int]
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["النوع", "الرقم التسلسلي", "المانح", "الموقع"])
    sheet.append(["قارب دورية", "B-7", "السفارة", "عدن"])
    sheet.append(["LV-A", 1001, None, None])  # a number cell: the serial "1001"
    buffer = BytesIO()
    book.save(buffer)
    table = parse_xlsx(buffer.getvalue(), "equipment.xlsx")
    with factory.begin() as db:  # the partner sees none of the ministry's equipment types
        stranger = imports.import_equipment(db, world.actor("partner"), table)
    assert [(p.row, p.column) for p in stranger.problems] == [(2, "النوع"), (3, "النوع")]
    with factory.begin() as db:
        report = imports.import_equipment(db, world.actor("analyst"), table)
    assert report.created == 2 and report.problems == []
    assert (kinds["boat"], "B-7", "السفارة", "", "عدن") in _serials(factory)
    assert any(s[1] == "1001" for s in _serials(factory))


def test_cli_import_equipment(
    world: World, cli_env: Settings, kinds: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "equipment.csv"
    path.write_text(GOOD + BAD, encoding="utf-8")
    runner = CliRunner()
    base = ["logistics", "import-equipment", str(path), "--as", "analyst"]
    refused = runner.invoke(app, [*base, "--json"])
    assert refused.exit_code == 1 and json.loads(refused.stdout)["created"] == 0
    plain = runner.invoke(app, base)
    assert plain.exit_code == 1 and "row 7, type: no equipment type 'Tank'" in plain.stderr
    assert "10 rows, 3 valid, 0 created" in plain.stdout
    dry = runner.invoke(app, [*base, "--dry-run"])
    assert dry.exit_code == 1 and "(dry run)" in dry.stdout
    rejects = tmp_path / "rejects.csv"
    kept = runner.invoke(app, [*base, "--valid-only", "--rejects", str(rejects), "--json"])
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(kept.stdout)["created"] == 3
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 8
    figures = runner.invoke(app, ["logistics", "accountability", "--json", "--as", "analyst"])
    assert json.loads(figures.stdout)["serials_total"] == 4
