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


# --- vetting results -------------------------------------------------------------------------

VETTING = (
    "ref,national_id,unit,status,requested_on,decided_on,valid_months,notes\n"
    "P-1,N1,,approved,2026-01-05,2026-01-20,12,clean record\n"
    "U-1,,u1,approved,2026-01-05,2026-01-20,,\n"
    "P-2,N2,,pending,2026-02-01,,,\n"
)
VETTING_BAD = (
    "P-3,N9,,approved,2026-01-05,2026-01-20,,\n"  # row 5: nobody with N9
    "P-4,N2,,approved,2026/01/05,2026-02-30,,\n"  # row 6: two bad dates
    "P-5,N2,u1,denied,2026-01-05,2026-01-06,,\n"  # row 7: two subjects
    "P-6,N1,,maybe,2026-01-05,,,\n"  # row 8: no such status
    "P-7,N1,,approved,2026-01-05,,99,\n"  # row 9: no decision date, validity
    "P-1,N2,,approved,2026-01-05,2026-01-21,,\n"  # row 10: P-1 is about N1 (row 2)
    "P-8,N2,,denied,2026-03-05,2026-03-01,,\n"  # row 11: decided before requested
)


@pytest.fixture
def people(world: World, factory: sessionmaker[Session], unit: int) -> dict[str, int]:
    officer = world.actor("analyst")
    with factory.begin() as db:
        return {
            nid: service.create_person(db, officer, name_ar=name, national_id=nid, unit_id=unit).id
            for nid, name in (("N1", "علي"), ("N2", "سالم"))
        }


def _cases(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from rasid.training.models import VettingCase

    with factory() as db:
        return [
            (c.ref, c.status) for c in db.scalars(select(VettingCase).order_by(VettingCase.ref))
        ]


def test_vetting_import_all_or_nothing_valid_only_and_dry_run(
    world: World, factory: sessionmaker[Session], people: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    table = parse_csv((VETTING + VETTING_BAD).encode(), "vetting.csv")
    with factory.begin() as db:
        report = imports.import_vetting(db, officer, table)
    assert (report.rows, report.valid, report.created) == (10, 3, 0)
    assert [(p.row, p.column) for p in report.problems] == [
        (5, "national_id"),
        (6, "requested_on"),
        (6, "decided_on"),
        (7, "national_id"),
        (8, "status"),
        (9, "decided_on"),
        (9, "valid_months"),
        (10, "ref"),
        (11, "decided_on"),
    ]
    messages = [str(p) for p in report.problems]
    assert "row 6, requested_on: '2026/01/05' is not a date; write it as YYYY-MM-DD" in messages
    assert "row 6, decided_on: 2026-02-30 is not a real date (no such day)" in messages
    assert "row 2" in report.problems[7].message  # the row that made P-1 about N1
    assert _cases(factory) == []  # all or nothing: nothing written
    with factory.begin() as db:
        dry = imports.import_vetting(
            db, officer, parse_csv(VETTING.encode(), "v.csv"), dry_run=True
        )
    assert (dry.valid, dry.created, dry.dry_run, dry.problems) == (3, 0, True, [])
    assert _cases(factory) == []
    with factory.begin() as db:
        kept = imports.import_vetting(db, officer, table, valid_only=True)
    assert (kept.created, kept.updated, len(kept.rejected_rows)) == (3, 0, 7)
    assert _cases(factory) == [("P-1", "approved"), ("P-2", "pending"), ("U-1", "approved")]
    rejects = imports.rejects_csv(table, kept).splitlines()
    assert rejects[0].startswith("row,problems,ref,national_id") and len(rejects) == 8
    assert rejects[1].startswith("5,national_id: no person with the national ID 'N9',P-3")
    # the same file again: P-1 and U-1 are the same decisions again, P-2 is decided now
    decided = (
        "ref,national_id,status,requested_on,decided_on\nP-2,N2,denied,2026-02-01,2026-02-10\n"
    )
    with factory.begin() as db:
        again = imports.import_vetting(db, officer, parse_csv(decided.encode(), "d.csv"))
    assert (again.created, again.updated) == (0, 1)
    assert ("P-2", "denied") in _cases(factory)
    with factory.begin() as db, pytest.raises(ValidationFailed) as no_subject:
        imports.import_vetting(
            db, officer, parse_csv(b"ref,status,requested_on\nX,pending,2026-01-01\n", "x.csv")
        )
    assert "national_id / unit" in no_subject.value.message


def test_vetting_import_xlsx_arabic_headers_flags_enrolments(
    world: World, factory: sessionmaker[Session], people: dict[str, int], unit: int
) -> None:
    from datetime import date, datetime, timedelta
    from io import BytesIO

    import openpyxl

    from rasid.registry.io import parse_xlsx
    from rasid.training.models import Enrolment

    officer = world.actor("analyst")
    today = date.today()
    with factory.begin() as db:
        for ref, unit_id, person_id in (("U-1", unit, None), ("P-1", None, people["N1"])):
            service.record_vetting(db, officer, ref=ref, status="approved", unit_id=unit_id,
                                   person_id=person_id, requested_on=today - timedelta(days=40),
                                   decided_on=today - timedelta(days=30))  # fmt: skip
        course = service.create_course(db, officer, title_ar="دورة", title_en="Course")
        session = service.create_session(
            db, officer, course_id=course.id, start_date=today + timedelta(days=10),
            end_date=today + timedelta(days=12), capacity=5,
        )  # fmt: skip
        enrolment = service.enrol(db, officer, session.id, people["N1"]).id
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["المرجع", "الرقم الوطني", "الحالة", "تاريخ الطلب", "تاريخ القرار", "ملاحظات"])
    sheet.append(["P-1", "N1", "موقوف", datetime(2026, 1, 5), today.isoformat(), "تقرير جديد"])
    sheet.append(["P-9", "N2", "قيد الدراسة", "2026-01-05", None, None])
    sheet.append(["P-10", "N2", "موافق", "5/1/2026", None, None])  # row 4: not ISO, no decision
    buffer = BytesIO()
    book.save(buffer)
    table = parse_xlsx(buffer.getvalue(), "vetting.xlsx")
    with factory.begin() as db:
        refused = imports.import_vetting(db, officer, table)
    assert [(p.row, p.column) for p in refused.problems] == [
        (4, "تاريخ الطلب"),
        (4, "تاريخ القرار"),
    ]
    with factory.begin() as db:
        report = imports.import_vetting(db, officer, table, valid_only=True)
    assert (report.created, report.updated) == (1, 1)
    with factory() as db:
        flagged = db.get(Enrolment, enrolment)
        assert flagged is not None and flagged.flagged
        assert "P-1 is now suspended" in flagged.flag_reason
    assert ("P-9", "pending") in _cases(factory)


def test_cli_import_vetting(
    world: World, cli_env: Settings, people: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "vetting.csv"
    path.write_text(VETTING + VETTING_BAD, encoding="utf-8")
    runner = CliRunner()
    base = ["training", "import-vetting", str(path), "--as", "analyst"]
    refused = runner.invoke(app, [*base, "--json"])
    assert refused.exit_code == 1 and json.loads(refused.stdout)["created"] == 0
    plain = runner.invoke(app, base)
    assert plain.exit_code == 1 and "row 5, national_id: no person" in plain.stderr
    dry = runner.invoke(app, [*base, "--dry-run", "--json"])
    assert json.loads(dry.stdout)["dry_run"] is True and json.loads(dry.stdout)["created"] == 0
    rejects = tmp_path / "rejects.csv"
    kept = runner.invoke(app, [*base, "--valid-only", "--rejects", str(rejects), "--json"])
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(kept.stdout)["created"] == 3
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 8


# --- enrolments -------------------------------------------------------------------------------

DENIED = (
    "Refused: the unit Unit 2 is denied in vetting case U-2; none of its members may be trained."
)
ENROL = "national_id,name\nNID-ali,Ali\nNID-salem,Salem\nNID-badr,Badr\n"


def _enrolled(factory: sessionmaker[Session], session_id: int) -> set[int]:
    from sqlalchemy import select

    from rasid.training.models import Enrolment

    with factory() as db:
        return set(
            db.scalars(
                select(Enrolment.person_id).where(
                    Enrolment.session_id == session_id, Enrolment.status != "withdrawn"
                )
            )
        )


def _import_refusals(factory: sessionmaker[Session]) -> list[dict[str, object]]:
    from sqlalchemy import select

    from rasid.audit.models import AuditEntry

    with factory() as db:
        rows = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "enrol", AuditEntry.outcome == "refused")
            .order_by(AuditEntry.seq)
        ).all()
        return [
            {"object_id": r.object_id, **json.loads(r.detail or "{}")}
            for r in rows
            if "import" in (r.detail or "")
        ]


def test_enrolment_import_all_or_nothing_valid_only_and_dry_run(
    world: World, factory: sessionmaker[Session], plan: dict[str, int]
) -> None:
    officer = world.actor("analyst")
    session_id = plan["clash"]  # five places
    table = parse_csv(ENROL.encode(), "enrol.csv")
    with factory.begin() as db:
        dry = imports.import_enrolments(db, officer, table, session_id, dry_run=True)
    assert (dry.rows, dry.valid, dry.created, dry.dry_run) == (3, 2, 0, True)
    assert _enrolled(factory, session_id) == set() and _import_refusals(factory) == []
    with factory.begin() as db:
        report = imports.import_enrolments(db, officer, table, session_id)
    assert (report.rows, report.valid, report.created) == (3, 2, 0)
    assert [(p.row, p.column, p.message) for p in report.problems] == [(4, "national_id", DENIED)]
    assert [(r.row, r.person_id, r.reason) for r in report.refusals] == [(4, plan["badr"], DENIED)]
    assert _enrolled(factory, session_id) == set()  # all or nothing
    with factory.begin() as db:  # the refusals in their own transaction
        assert imports.record_refusals(db, officer, report) == 1
    [audited] = _import_refusals(factory)
    assert audited["object_id"] == str(session_id) and audited["person_id"] == plan["badr"]
    assert audited["reason"] == DENIED and audited["source"] == "import" and audited["row"] == 4
    with factory.begin() as db:
        kept = imports.import_enrolments(db, officer, table, session_id, valid_only=True)
    assert (kept.created, len(kept.rejected_rows), kept.as_dict()["refused"]) == (2, 1, 1)
    assert _enrolled(factory, session_id) == {plan["ali"], plan["salem"]}
    rejects = imports.rejects_csv(table, kept).splitlines()
    assert rejects[0] == "row,problems,national_id,name"
    assert rejects[1] == f"4,national_id: {DENIED},NID-badr,Badr"
    with factory() as db:  # the same audit trail as enrolling one by one, and the import
        from sqlalchemy import select

        from rasid.audit.models import AuditEntry

        actions = [
            (a.action, a.object_type)
            for a in db.scalars(select(AuditEntry).where(AuditEntry.username == "analyst"))
        ]
    assert actions.count(("create", "training_enrolment")) == 2
    assert ("import", "training_enrolment") in actions
    with factory.begin() as db:  # the same file again: the two are enrolled already
        again = imports.import_enrolments(db, officer, table, session_id)
    assert [(p.row, p.message) for p in again.problems] == [
        (2, "Ali is already enrolled in this session."),
        (3, "Salem is already enrolled in this session."),
        (4, DENIED),
    ]
    with factory.begin() as db:  # ali is in the clashing session now
        other = imports.import_enrolments(
            db, officer, parse_csv(b"national_id\nNID-ali\n", "a.csv"), plan["session"]
        )
    assert other.problems[0].message == (
        f"Refused: Ali is enrolled in session {session_id} at the same time."
    )
    with factory.begin() as db, pytest.raises(ValidationFailed) as missing:
        imports.import_enrolments(db, officer, parse_csv(b"name\nAli\n", "x.csv"), session_id)
    assert "national_id" in missing.value.message


def test_enrolment_import_xlsx_capacity_counts_the_file(
    world: World, factory: sessionmaker[Session], plan: dict[str, int]
) -> None:
    from datetime import date, timedelta
    from io import BytesIO

    import openpyxl

    from rasid.registry.io import parse_xlsx

    officer = world.actor("analyst")
    start = date.today() - timedelta(days=30)
    with factory.begin() as db:
        hani = service.create_person(
            db, officer, name_ar="هاني", name_latin="Hani", national_id="NID-hani",
            unit_id=plan["good"],
        )  # fmt: skip
        service.record_vetting(db, officer, ref="P-hani", person_id=hani.id, status="approved",
                               requested_on=start - timedelta(days=5), decided_on=start)  # fmt: skip
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["الرقم الوطني", "الاسم"])
    for nid, name in (("NID-ali", "علي"), ("NID-salem", "سالم"), ("NID-hani", "هاني"),
                      ("NID-noor", "نور"), ("NID-ali", "علي"), ("NID-nobody", "؟")):  # fmt: skip
        sheet.append([nid, name])
    buffer = BytesIO()
    book.save(buffer)
    table = parse_xlsx(buffer.getvalue(), "enrol.xlsx")
    session_id = plan["session"]  # two places
    with factory.begin() as db:
        report = imports.import_enrolments(db, officer, table, session_id)
    full = (
        "Refused: the session is full (2 places); rows above in this file take the 2 places left."
    )
    column = "الرقم الوطني"
    assert [(p.row, p.column, p.message) for p in report.problems] == [
        (4, column, full),
        (5, column, report.problems[1].message),
        (5, column, full),
        (6, column, "NID-ali repeats row 2"),
        (7, column, "no person with the national ID 'NID-nobody'"),
    ]
    assert report.problems[1].message.startswith("Refused: Noor has no approved vetting")
    assert [r.row for r in report.refusals] == [4, 5]  # not the file's own mistakes
    assert (report.valid, report.created) == (2, 0) and _enrolled(factory, session_id) == set()
    with factory.begin() as db:
        kept = imports.import_enrolments(db, officer, table, session_id, valid_only=True)
    assert kept.created == 2 and _enrolled(factory, session_id) == {plan["ali"], plan["salem"]}
    with factory.begin() as db:  # now full before the file: no "rows above"
        late = imports.import_enrolments(
            db, officer, parse_csv(b"national_id\nNID-hani\n", "h.csv"), session_id
        )
    assert [p.message for p in late.problems] == ["Refused: the session is full (2 places)."]


def test_cli_import_enrolments(
    world: World, cli_env: Settings, plan: dict[str, int], tmp_path: Path
) -> None:
    from rasid.core.cli_support import session_factory

    factory = session_factory()
    path = tmp_path / "enrol.csv"
    path.write_text(ENROL, encoding="utf-8")
    runner = CliRunner()
    base = ["training", "import-enrolments", str(plan["clash"]), str(path), "--as", "analyst"]
    dry = runner.invoke(app, [*base, "--dry-run", "--json"])
    assert dry.exit_code == 1 and json.loads(dry.stdout)["dry_run"] is True
    assert _import_refusals(factory) == []  # a dry run writes nothing, not even the refusal
    refused = runner.invoke(app, [*base, "--json"])
    assert refused.exit_code == 1, refused.stderr
    out = json.loads(refused.stdout)
    assert (out["created"], out["refused"]) == (0, 1)
    assert out["problems"] == [{"row": 4, "column": "national_id", "message": DENIED}]
    assert [r["person_id"] for r in _import_refusals(factory)] == [plan["badr"]]  # kept
    assert _enrolled(factory, plan["clash"]) == set()
    plain = runner.invoke(app, base)
    assert plain.exit_code == 1 and "row 4, national_id: Refused: the unit Unit 2" in plain.stderr
    rejects = tmp_path / "rejects.csv"
    kept = runner.invoke(app, [*base, "--valid-only", "--rejects", str(rejects), "--json"])
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(kept.stdout)["created"] == 2
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and DENIED in lines[1] and "NID-badr" in lines[1]
    assert _enrolled(factory, plan["clash"]) == {plan["ali"], plan["salem"]}
    assert len(_import_refusals(factory)) == 3  # each refused import audited once
    hidden = runner.invoke(
        app, ["training", "import-enrolments", str(plan["clash"]), str(path), "--as", "partner"]
    )
    assert hidden.exit_code == 1 and "No training_session" in hidden.stderr
