"""Personnel import: all or nothing with every problem by row and column, --valid-only with
a rejects file, dry run, Arabic headers, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app
from rasid.core.errors import ValidationFailed
from rasid.core.settings import Settings
from rasid.registry.io import parse_csv
from rasid.training import imports, service
from tests.conftest import World

GOOD = "name_ar,national_id,unit,name_latin,rank\nعلي صالح,N1,u1,Ali Saleh,ملازم\nسالم أحمد,N2,u1,Salem Ahmed,رقيب\n"
MIXED = GOOD + "نور,N1,u1,Noor,\n,N4,u1,,\nهاني,N5,nowhere,Hani,\n"


@pytest.fixture
def unit(world: World, factory: sessionmaker[Session]) -> int:
    with factory.begin() as db:
        return service.create_unit(
            db, world.actor("analyst"), code="u1", name_ar="الوحدة", name_en="Unit 1"
        ).id


def test_all_or_nothing_lists_every_problem(
    world: World, factory: sessionmaker[Session], unit: int
) -> None:
    table = parse_csv(MIXED.encode(), "people.csv")
    with factory.begin() as db:
        report = imports.import_personnel(db, world.actor("analyst"), table)
    assert (report.rows, report.valid, report.created) == (5, 2, 0)
    assert [(p.row, p.column) for p in report.problems] == [
        (4, "national_id"),
        (5, "name_ar"),
        (6, "unit"),
    ]
    assert "repeats row 2" in report.problems[0].message
    with factory() as db:
        assert service.list_personnel(db, world.actor("analyst")) == []  # nothing written
    with factory.begin() as db:
        kept = imports.import_personnel(db, world.actor("analyst"), table, valid_only=True)
    assert kept.created == 2 and len(kept.rejected_rows) == 3
    rejects = imports.rejects_csv(table, kept)
    assert rejects.splitlines()[0].startswith("row,problems,name_ar") and "nowhere" in rejects
    with factory.begin() as db:
        again = imports.import_personnel(
            db, world.actor("analyst"), parse_csv(GOOD.encode(), "people.csv")
        )
    assert again.created == 0 and all("already registered" in p.message for p in again.problems)


def test_arabic_headers_dry_run_and_missing_columns(
    world: World, factory: sessionmaker[Session], unit: int
) -> None:
    arabic = "الاسم,الرقم الوطني,الوحدة\nعلي,N9,u1\n"
    with factory.begin() as db:
        dry = imports.import_personnel(
            db, world.actor("analyst"), parse_csv(arabic.encode(), "ar.csv"), dry_run=True
        )
        assert (dry.valid, dry.created, dry.dry_run) == (1, 0, True)
        with pytest.raises(ValidationFailed) as missing:
            imports.import_personnel(
                db, world.actor("analyst"), parse_csv(b"name,unit\nx,u1\n", "bad.csv")
            )
        assert "national_id" in missing.value.message


def test_cli_import_personnel(world: World, cli_env: Settings, unit: int, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(MIXED, encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(
        app, ["training", "import-personnel", str(path), "--json", "--as", "analyst"]
    )
    assert refused.exit_code == 1 and json.loads(refused.stdout)["created"] == 0
    rejects = tmp_path / "rejects.csv"
    kept = runner.invoke(
        app,
        [
            "training",
            "import-personnel",
            str(path),
            "--valid-only",
            "--rejects",
            str(rejects),
            "--json",
            "--as",
            "analyst",
        ],
    )
    assert kept.exit_code == 0, kept.stderr
    assert (
        json.loads(kept.stdout)["created"] == 2
        and len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 4
    )
