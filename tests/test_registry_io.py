"""`rasid registry import | export | screen`: files in and out of the registry, on SQLite and
PostgreSQL, through the real command and the real service."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.settings import Settings
from rasid.identity.models import Organisation
from rasid.registry import gazetteer, service
from rasid.registry import io as registry_io
from rasid.registry import search as search_service
from rasid.registry.models import Entity, Incident
from rasid.registry.schemas import EntityIn, IdentifierIn, IncidentIn, NameIn
from tests.conftest import World

RUNNER = CliRunner()
ACLED_SAMPLE = Path(__file__).parent / "data" / "acled_yemen_sample.csv"
PERSONS_HEADER = ["name_ar", "name_latin", "aliases", "dob", "nationality", "identifiers"]
KML = "{http://www.opengis.net/kml/2.2}"


def rasid(*args: str | Path) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def count(factory: sessionmaker[Session], model: type[Entity] | type[Incident], **eq: str) -> int:
    with factory() as db:
        stmt = select(func.count()).select_from(model)
        for name, value in eq.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int(db.scalar(stmt) or 0)


def found(factory: sessionmaker[Session], world: World, username: str, query: str) -> list[int]:
    with factory.begin() as db:
        flt = search_service.SearchFilter(type="person")
        return [h.id for h in search_service.search(db, world.actor(username), query, flt)]


def org_id(factory: sessionmaker[Session], slug: str) -> int:
    with factory() as db:
        return int(db.scalar(select(Organisation.id).where(Organisation.slug == slug)) or 0)


# --- persons ------------------------------------------------------------------------------------

PERSON_ROWS = [
    [
        "محمد عبدالله الحوثي",
        "Mohammed Abdullah al-Houthi",
        "Abu Ali;أبو علي",
        "1985-03-12",
        "YE",
        "phone:+967777123456;passport:A1234567",
    ],
    ["علي صالح الأحمر", "", "", "1990-02-30", "YE", ""],  # row 3: no such day
    ["خالد عمر باعباد", "Khaled Omar Ba'abbad", "", "1979", "ye", "national_id:01010123456"],
    ["", "", "", "", "YE", ""],  # row 5: no name
    ["سالم أحمد", "Salem Ahmed", "", "1980-01-01", "Yemen", "phone:777 123 456"],  # row 6
    ["عمر ناصر", "Omar Nasser", "", "", "YE", "pasport:X1"],  # row 7: unknown kind
    ["عبدالرحمن يحيى", "Abdulrahman Yahya", "", "2090-05-05", "YE", ""],  # row 8: future
    ["سعيد مبارك", "Saeed Mubarak", "", "", "SA", "email:saeed@example.org"],
]
PERSON_ERRORS = {
    (3, "dob"),
    (5, "name_ar"),
    (6, "nationality"),
    (6, "identifiers"),
    (7, "identifiers"),
    (8, "dob"),
}


def test_persons_import_dry_run_all_or_nothing_and_valid_only(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "persons.csv", PERSONS_HEADER, PERSON_ROWS)
    # a dry run reports every bad row and column, and writes nothing
    code, out, err = rasid(
        "registry", "import", source, "--kind", "persons", "--as", "analyst", "--dry-run", "--json"
    )
    summary = json.loads(out)
    assert code == 1 and err.startswith("error: 5 rows of 8 have errors; dry run"), err
    assert {(e["row"], e["column"]) for e in summary["errors"]} == PERSON_ERRORS
    messages = {(e["row"], e["column"]): e["message"] for e in summary["errors"]}
    assert "not a real date" in messages[(3, "dob")]
    assert "also in row 2" in messages[(6, "identifiers")]
    assert "pasport" in messages[(7, "identifiers")]
    assert "future" in messages[(8, "dob")]  # found by the service itself, in a savepoint
    assert summary["valid"] == 3 and summary["imported"] == 0
    assert "row 6, nationality:" in err and "Traceback" not in err
    assert count(factory, Entity) == 0
    # the real import refuses the whole file
    code, _, err = rasid("registry", "import", source, "--kind", "persons", "--as", "analyst")
    assert code == 1 and "nothing was imported" in err and "row 8, dob" in err
    assert count(factory, Entity) == 0
    # --valid-only imports the good rows and hands the others back with reasons
    code, out, err = rasid(
        "registry", "import", source, "--kind", "persons", "--as", "analyst", "--valid-only"
    )
    assert code == 0, err
    assert "3 imported" in out and "5 rejected" in out
    rejects = read_csv(tmp_path / "persons.rejects.csv")
    assert [r["row"] for r in rejects] == ["3", "5", "6", "7", "8"]
    assert rejects[0]["name_ar"] == "علي صالح الأحمر" and "dob:" in rejects[0]["error"]
    assert list(rejects[0]) == [*PERSONS_HEADER, "row", "error"]
    moi = org_id(factory, "moi-ct")
    assert count(factory, Entity, kind="person", marking="TLP:AMBER") == 3
    with factory() as db:
        owners = set(db.scalars(select(Entity.owner_org_id)))
        houthi = db.scalar(select(Entity).where(Entity.label_ar == "محمد عبدالله الحوثي"))
        assert houthi is not None
        assert {n.name_type for n in houthi.names} == {"as_written", "latin", "alias"}
        assert {(i.kind, i.value) for i in houthi.identifiers} == {
            ("phone", "+967777123456"),
            ("passport", "A1234567"),
        }
        assert houthi.birth_date == date(1985, 3, 12) and houthi.birth_date_precision == "day"
        baabbad = db.scalar(select(Entity).where(Entity.label_ar == "خالد عمر باعباد"))
        assert baabbad is not None and baabbad.birth_date_precision == "year"
        assert baabbad.nationality == "YE"
    assert owners == {moi}
    # found from a Latin spelling by a colleague; invisible to the partner (TLP:AMBER)
    assert found(factory, world, "analyst2", "Muhammad Abdallah al-Huthi")[0] == houthi.id
    assert found(factory, world, "analyst2", "Khalid Umar Baabad")[0] == baabbad.id
    assert found(factory, world, "partner", "Muhammad Abdallah al-Huthi") == []
    # importing the same file again: the identifiers are now on record
    code, out, _ = rasid(
        "registry", "import", source, "--kind", "persons", "--as", "analyst", "--dry-run", "--json"
    )
    again = {(e["row"], e["column"]): e["message"] for e in json.loads(out)["errors"]}
    assert "already on record" in again[(2, "identifiers")]


def test_xlsx_persons_import_with_marking(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name AR", "Name Latin", "Date of birth", "Nationality", "Identifiers"])
    sheet.append(
        ["ناصر الوحيشي", "Nasir al-Wuhayshi", datetime(1976, 10, 1), "YE", "passport:B7654321"]
    )
    sheet.append([None, None, None, None, None])
    sheet.append(["فهد القصع", None, 1974, "YE", None])
    target = tmp_path / "persons.xlsx"
    workbook.save(target)
    code, out, err = rasid(
        "registry",
        "import",
        target,
        "--kind",
        "persons",
        "--as",
        "analyst",
        "--marking",
        "TLP:GREEN",
        "--json",
    )
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows"], summary["imported"], summary["warnings"]) == (2, 2, 0)
    assert count(factory, Entity, marking="TLP:GREEN") == 2
    with factory() as db:
        wuhayshi = db.scalar(select(Entity).where(Entity.label_latin == "Nasir al-Wuhayshi"))
        assert wuhayshi is not None and wuhayshi.birth_date == date(1976, 10, 1)
    # GREEN: the partner in the community finds it, the observer outside it does not
    assert found(factory, world, "partner", "Nasser al-Wahaishi")[0] == wuhayshi.id
    assert found(factory, world, "observer", "Nasser al-Wahaishi") == []


def test_bad_files_are_refused_with_one_clear_line(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # Windows-1256 (Arabic Windows) instead of UTF-8: named, with the first bad line
    legacy = write_csv(
        tmp_path / "legacy.csv",
        PERSONS_HEADER,
        [["", "Ali Saleh", "", "", "YE", ""], ["علي صالح", "", "", "", "YE", ""]],
        encoding="cp1256",
    )
    code, _, err = rasid("registry", "import", legacy, "--kind", "persons", "--as", "analyst")
    assert code == 1 and err.startswith("error: legacy.csv, line 3:"), err
    assert "Windows-1256" in err and "--encoding cp1256" in err and "Traceback" not in err
    code, out, err = rasid(
        "registry", "import", legacy, "--kind", "persons", "--as", "analyst", "--encoding", "cp1256"
    )
    assert code == 0 and "2 imported" in out, err
    with factory() as db:
        assert db.scalar(select(Entity.label_ar).where(Entity.label_ar != "")) == "علي صالح"
    # a missing required column refuses the file; an unknown column is a warning
    no_names = write_csv(tmp_path / "no-names.csv", ["full name", "dob"], [["x", "1980"]])
    code, _, err = rasid("registry", "import", no_names, "--kind", "persons", "--as", "analyst")
    assert code == 1 and "row 1: missing column(s): name_ar or name_latin" in err
    no_id = tmp_path / "acled-no-id.csv"
    no_id.write_text(
        ACLED_SAMPLE.read_text(encoding="utf-8").replace("event_id_cnty,", "event_id,", 1),
        encoding="utf-8",
    )
    code, _, err = rasid("registry", "import", no_id, "--kind", "acled", "--as", "analyst")
    assert code == 1 and "missing column(s): event_id_cnty" in err
    extra = write_csv(
        tmp_path / "extra.csv",
        [*PERSONS_HEADER, "shoe_size"],
        [["سالم", "", "", "", "", "", "44"], ["يحيى", "", "", "", "", "", "", "surplus"]],
    )
    code, out, err = rasid(
        "registry", "import", extra, "--kind", "persons", "--as", "analyst", "--dry-run", "--json"
    )
    summary = json.loads(out)
    assert code == 1
    assert summary["warning_details"][0] == {
        "row": 1,
        "column": "shoe_size",
        "message": "unknown column; its values are ignored",
    }
    assert (
        summary["errors"][0]["row"] == 3
        and "header names 7 columns" in (summary["errors"][0]["message"])
    )
    # no --as: records must belong to an organisation
    code, _, err = rasid("registry", "import", extra, "--kind", "persons")
    assert code == 1 and "use --as USERNAME" in err
    assert rasid("registry", "import", tmp_path / "none.csv", "--kind", "persons")[0] == 1


def test_incident_rows_name_bad_places_dates_and_warn_outside_yemen(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    header = ["title", "event_date", "sub_event_type", "governorate", "district", "latitude"]
    header += ["longitude", "fatalities", "source", "reliability", "credibility"]
    rows = [
        [
            "هجوم بعبوة ناسفة",
            "2024-03-02",
            "Remote explosive/landmine/IED",
            "Sa'dah",
            "Sahar",
            "16.94",
            "43.76",
            "2",
            "بلاغ الشرطة",
            "B",
            "2",
        ],
        ["Clash", "2024-02-30", "Armed clash", "Marib", "", "", "", "", "", "", ""],
        ["Raid", "2024-04-01", "", "Sadaaxq", "", "", "", "", "", "", ""],
        ["Boat landing", "2024-05-01", "", "YE-AD", "", "11.6", "43.1", "-1", "", "", ""],
        ["Landing", "2024-05", "", "Aden", "", "11.6", "43.1", "", "report", "", ""],
    ]
    source = write_csv(tmp_path / "incidents.csv", header, rows)
    code, out, _ = rasid(
        "registry",
        "import",
        source,
        "--kind",
        "incidents",
        "--as",
        "analyst",
        "--dry-run",
        "--json",
    )
    summary = json.loads(out)
    errors = {(e["row"], e["column"]): e["message"] for e in summary["errors"]}
    assert code == 1 and set(errors) == {(3, "event_date"), (4, "governorate"), (5, "fatalities")}
    assert "Did you mean" in errors[(4, "governorate")]
    assert summary["warning_details"] == [
        {
            "row": 6,
            "column": "latitude",
            "message": "The coordinates are outside Yemen but a Yemeni governorate is given.",
        }
    ]
    code, _, err = rasid(
        "registry", "import", source, "--kind", "incidents", "--as", "analyst", "--valid-only"
    )
    assert code == 0 and "warning: row 6, latitude" in err
    with factory() as db:
        first = db.scalar(select(Incident).where(Incident.title == "هجوم بعبوة ناسفة"))
        assert first is not None and first.governorate_code == "YE-SD"
        assert first.event_type == "Explosions/Remote violence"
        assert gazetteer.district(first.district_id).name_en == "Sahar"
        assert [(s.reliability, s.credibility) for s in first.sources] == [("B", 2)]
        landing = db.scalar(select(Incident).where(Incident.title == "Landing"))
        assert landing is not None and landing.date_precision == "month"
        assert [(s.reliability, s.credibility) for s in landing.sources] == [("F", 6)]


# --- ACLED --------------------------------------------------------------------------------------


def test_acled_import_is_idempotent_and_creates_each_group_once(
    cli_env: Settings, world: World, factory: sessionmaker[Session]
) -> None:
    code, out, err = rasid(
        "registry", "import", ACLED_SAMPLE, "--kind", "acled", "--as", "analyst", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["rows"], summary["imported"], summary["skipped"], summary["rejected"]) == (
        12,
        12,
        0,
        0,
    )
    assert summary["groups_created"] == 8 and summary["warnings"] == 0
    assert count(factory, Incident, marking="TLP:AMBER") == 12
    assert count(factory, Entity, kind="group") == 8
    with factory() as db:
        by_ref = {i.ref: i for i in db.scalars(select(Incident))}
        groups = {e.id: e.label for e in db.scalars(select(Entity).where(Entity.kind == "group"))}
        assert set(by_ref) == {f"YEM950{n:02d}" for n in range(1, 13)}
        assert {i.governorate_code for i in by_ref.values()} == {
            "YE-MA", "YE-HU", "YE-AB", "YE-TA", "YE-AD", "YE-SH",
            "YE-SD", "YE-SA", "YE-BA", "YE-HD", "YE-IB", "YE-DA",
        }  # fmt: skip
        clash = by_ref["YEM95001"]
        assert clash.title == "Armed clash in Harib" and clash.fatalities == 4
        assert (clash.lat, clash.lon, clash.geo_precision) == (14.933, 45.503, 2)
        assert clash.event_date == date(2024, 1, 14) and clash.narrative_en.startswith("On 14")
        assert gazetteer.district(clash.district_id).governorate_code == "YE-MA"
        assert sorted(i.role for i in clash.involvements) == ["perpetrator", "perpetrator"]
        assert [(s.reliability, s.credibility) for s in clash.sources] == [("C", 3)]
        assert "Al Masdar Online" in clash.sources[0].description
        strike = by_ref["YEM95002"]
        assert [(s.reliability, s.credibility) for s in strike.sources] == [("D", 3)]
        roles = {groups[i.entity_id]: i.role for i in strike.involvements}
        assert roles == {
            "Military Forces of the United States (2021-)": "perpetrator",
            "Military Forces of Yemen (2017-) Supreme Political Council": "target",
        }
        assert by_ref["YEM95004"].involvements == []  # unidentified gunmen, civilians
        arrests = by_ref["YEM95008"]
        assert [(groups[i.entity_id], i.role) for i in arrests.involvements] == [
            ("Police Forces of Yemen (2017-) Supreme Political Council", "perpetrator")
        ]
        spc = next(k for k, v in groups.items() if v.endswith("(2017-) Supreme Political Council"))
        moi = org_id(factory, "moi-ct")
        assert len(service.incidents_of_entity(db, world.actor("analyst"), spc)) == 5
        assert {i.owner_org_id for i in by_ref.values()} == {moi}
    # the same file again, by a colleague: nothing new
    code, out, _ = rasid(
        "registry", "import", ACLED_SAMPLE, "--kind", "acled", "--as", "analyst2", "--json"
    )
    again = json.loads(out)
    assert code == 0 and (again["imported"], again["skipped"], again["groups_created"]) == (
        0,
        12,
        0,
    )
    assert count(factory, Incident) == 12 and count(factory, Entity, kind="group") == 8


ACLED_ADMIN1 = {
    "Abyan": "YE-AB",
    "Aden": "YE-AD",
    "Al Bayda": "YE-BA",
    "Al Dhale'e": "YE-DA",
    "Al Hudaydah": "YE-HU",
    "Al Jawf": "YE-JA",
    "Al Maharah": "YE-MR",
    "Al Mahwit": "YE-MW",
    "Amanat al Asimah": "YE-SA",
    "Amran": "YE-AM",
    "Dhamar": "YE-DH",
    "Hadramawt": "YE-HD",
    "Hajjah": "YE-HJ",
    "Ibb": "YE-IB",
    "Lahj": "YE-LA",
    "Marib": "YE-MA",
    "Raymah": "YE-RA",
    "Sadah": "YE-SD",
    "Sanaa": "YE-SN",
    "Shabwah": "YE-SH",
    "Socotra": "YE-SU",
    "Taizz": "YE-TA",
}


def test_every_acled_governorate_name_maps(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    rows = []
    for n, (admin1, code) in enumerate(ACLED_ADMIN1.items(), start=1):
        seat = gazetteer.governorate(code)
        rows.append(
            [
                f"YEM8{n:04d}",
                "2023-06-01",
                "Strategic developments",
                "Other",
                "",
                admin1,
                "Town",
                str(seat.seat_lat),
                str(seat.seat_lon),
            ]
        )
    header = ["event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "admin1"]
    source = write_csv(
        tmp_path / "admin1.csv", [*header, "location", "latitude", "longitude"], rows
    )
    code, out, err = rasid("registry", "import", source, "--kind", "acled", "--as", "analyst")
    assert code == 0 and "22 imported" in out, err
    with factory() as db:
        got = {r[0]: r[1] for r in db.execute(select(Incident.ref, Incident.governorate_code))}
    assert sorted(got.values()) == sorted(ACLED_ADMIN1.values())
    assert len(set(got.values())) == 22


def test_acled_roles_follow_the_event_type() -> None:
    assert registry_io.acled_roles("Battles", "Armed clash") == ("perpetrator", "perpetrator")
    assert registry_io.acled_roles("Violence against civilians", "Attack")[1] == "victim"
    assert registry_io.acled_roles("Protests", "Peaceful protest") == (None, None)
    assert registry_io.acled_roles("Strategic developments", "Arrests")[1] == "arrested"
    assert not registry_io.acled_actor_is_group("Civilians (Yemen)", "7")
    assert not registry_io.acled_actor_is_group("Rioters (Yemen)", "Rioters")
    assert not registry_io.acled_actor_is_group("Unidentified Armed Group (Yemen)", "3")
    assert registry_io.acled_actor_is_group("Giants Brigades", "3")
    assert registry_io.acled_grade("New media-National") == ("D", 3)
    assert registry_io.acled_grade("International") == ("C", 3)


# --- screening ----------------------------------------------------------------------------------


def test_screening_lists_the_right_candidate_first_and_respects_access(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    def person(username: str, name_ar: str, latin: str = "", **extra: object) -> int:
        names = [NameIn(name=name_ar, name_type="as_written")]
        names += [NameIn(name=latin, name_type="latin")] if latin else []
        with factory.begin() as db:
            data = EntityIn(kind="person", names=names, **extra)  # type: ignore[arg-type]
            return service.create_entity(db, world.actor(username), data)[0].id

    houthi = person(
        "analyst",
        "محمد عبدالله الحوثي",
        birth_date=date(1985, 3, 12),
        birth_date_precision="day",
        identifiers=[IdentifierIn(kind="phone", value="777123456")],
    )
    other = person("analyst", "محمد عبدالله العوذلي", birth_date=date(1990, 1, 1))
    hidden = person("watch", "قاسم الريمي", "Qasim al-Raymi")  # coastguard's, TLP:AMBER
    incoming = write_csv(
        tmp_path / "detainees.csv",
        ["Full Name", "DOB", "Nationality", "identifiers"],
        [
            ["Muhammad Abdallah al-Huthi", "1985-03-12", "YE", ""],
            ["Qasim al-Raymi", "", "", ""],
            ["", "", "", "phone:+967 777 123 456"],
            ["", "", "", ""],
            ["Mohamed Abd Allah", "1990", "", ""],
        ],
    )
    results = tmp_path / "results.csv"
    code, out, err = rasid(
        "registry", "screen", incoming, "--as", "analyst", "--out", results, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["rows"] == 4 and json.loads(out)["with_candidates"] == 3
    rows = read_csv(results)
    assert [r["row"] for r in rows] == ["2", "3", "4", "6"]
    first, hidden_row, by_phone, by_year = rows
    assert first["match_1_id"] == str(houthi) and float(first["match_1_score"]) >= 0.9
    assert (
        "Arabic" in first["match_1_reason"] and "date of birth matches" in first["match_1_reason"]
    )
    assert first["match_2_id"] == str(other)
    assert "year of birth differs" in first["match_2_reason"]
    assert hidden_row["candidates"] == "0" and hidden_row["match_1_id"] == ""
    assert str(hidden) not in {r["match_1_id"] for r in rows}
    assert by_phone["match_1_id"] == str(houthi) and by_phone["match_1_score"] == "1.0"
    assert "exact identifier (phone)" in by_phone["match_1_reason"]
    assert (
        by_year["match_1_id"] == str(other) and "year of birth matches" in by_year["match_1_reason"]
    )
    # the coast guard's own officer sees its record (names split over columns); XLSX out
    split = write_csv(tmp_path / "split.csv", ["Last name", "First name"], [["al-Raymi", "Qasim"]])
    xlsx = tmp_path / "results.xlsx"
    assert rasid("registry", "screen", split, "--as", "watch", "--out", xlsx)[0] == 0
    sheet = openpyxl.load_workbook(xlsx, read_only=True).worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:4] == ("Last name", "First name", "row", "candidates")
    assert table[1][table[0].index("match_1_id")] == hidden
    with factory() as db:
        screens = db.scalars(select(AuditEntry).where(AuditEntry.action == "screen")).all()
    assert [(e.username, json.loads(e.detail or "{}")["rows"]) for e in screens] == [
        ("analyst", 4),
        ("watch", 1),
    ]


# --- exports ------------------------------------------------------------------------------------


def test_exports_in_every_format_keep_arabic_and_are_audited(
    cli_env: Settings, world: World, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    assert rasid("registry", "import", ACLED_SAMPLE, "--kind", "acled", "--as", "analyst")[0] == 0
    analyst = world.actor("analyst")
    with factory.begin() as db:
        for title, lat, lon, marking, recipients in (
            ('هجوم <على> نقطة "تفتيش" & مركبة', 16.94, 43.76, "TLP:AMBER", []),
            ("بلاغ بدون موقع", None, None, "TLP:AMBER", []),
            ("سري للغاية", 15.35, 44.2, "TLP:RED", ["analyst2"]),
        ):
            service.create_incident(
                db,
                analyst,
                IncidentIn(
                    title=title,
                    event_date=date(2024, 7, 1),
                    governorate_code="YE-SD",
                    lat=lat,
                    lon=lon,
                    marking=marking,
                    recipients=recipients,
                ),
            )
        service.create_entity(
            db,
            analyst,
            EntityIn(
                kind="person",
                names=[
                    NameIn(name="محمد عبدالله الحوثي", name_type="as_written"),
                    NameIn(name="Mohammed al-Houthi", name_type="latin"),
                    NameIn(name="=HYPERLINK(1)", name_type="alias"),
                ],
                identifiers=[IdentifierIn(kind="phone", value="777123456")],
                birth_date=date(1985, 1, 1),
                birth_date_precision="year",
            ),
        )

    def export(kind: str, fmt: str, *extra: str) -> tuple[Path, dict[str, object]]:
        target = tmp_path / f"{kind}.{fmt}"
        code, out, err = rasid(
            "registry", "export", "--kind", kind, "--format", fmt, "--out", target,
            "--as", "analyst", "--json", *extra,
        )  # fmt: skip
        assert code == 0, err
        return target, json.loads(out)

    geo, summary = export("incidents", "geojson")
    assert (summary["count"], summary["left_out"], summary["red_withheld"]) == (14, 1, 1)
    collection = json.loads(geo.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 13
    feature = next(f for f in collection["features"] if f["properties"]["ref"] == "YEM95001")
    assert feature["geometry"] == {"type": "Point", "coordinates": [45.503, 14.933]}
    props = feature["properties"]
    assert (props["date"], props["type"], props["marking"]) == (
        "2024-01-14",
        "Battles",
        "TLP:AMBER",
    )
    assert "perpetrator" in str(props["involved"])
    kml, _ = export("incidents", "kml")
    root = ET.fromstring(kml.read_bytes())  # noqa: S314 - our own output
    placemarks = root.findall(f"{KML}Document/{KML}Placemark")
    assert len(placemarks) == 13
    assert 'هجوم <على> نقطة "تفتيش" & مركبة' in {p.findtext(f"{KML}name") for p in placemarks}
    assert "هجوم &lt;على&gt;".encode() in kml.read_bytes()  # UTF-8, escaped, not &#…;
    assert "هجوم".encode() in geo.read_bytes()
    table, summary = export("incidents", "csv", "--governorate", "Sadah")
    rows = read_csv(table)
    assert summary["count"] == 3 and list(rows[0]) == list(registry_io.INCIDENT_EXPORT_COLUMNS)
    assert {r["title"] for r in rows} >= {"بلاغ بدون موقع", 'هجوم <على> نقطة "تفتيش" & مركبة'}
    _, summary = export("incidents", "csv", "--from", "2024-06-01", "--to", "2024-06-30")
    assert summary["count"] == 1
    people, _ = export("persons", "csv")
    person = read_csv(people)[0]
    assert set(PERSONS_HEADER) <= set(person)  # the import's columns: re-importable
    assert (person["name_ar"], person["name_latin"], person["dob"]) == (
        "محمد عبدالله الحوثي",
        "Mohammed al-Houthi",
        "1985",
    )
    assert person["aliases"] == "'=HYPERLINK(1)" and person["identifiers"] == "phone:777123456"
    workbook, _ = export("persons", "xlsx")
    sheet = openpyxl.load_workbook(workbook).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == list(person)
    assert sheet.cell(2, header.index("name_ar") + 1).value == "محمد عبدالله الحوثي"
    alias = sheet.cell(2, header.index("aliases") + 1)
    assert alias.value == "=HYPERLINK(1)" and alias.data_type == "s"
    # the partner sees none of it (AMBER), and the export says so
    code, out, _ = rasid(
        "registry", "export", "--kind", "incidents", "--out", tmp_path / "p.geojson",
        "--as", "partner", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["count"] == 0
    code, _, err = rasid(
        "registry", "export", "--kind", "incidents", "--out", tmp_path / "r.csv",
        "--as", "analyst", "--marking", "red",
    )  # fmt: skip
    assert code == 1 and "never leave the server" in err
    with factory() as db:
        exports = db.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
    details = [json.loads(e.detail or "{}") for e in exports]
    assert [
        (e.username, d["format"], d["count"]) for e, d in zip(exports, details, strict=True)
    ] == [
        ("analyst", "geojson", 14),
        ("analyst", "kml", 14),
        ("analyst", "csv", 3),
        ("analyst", "csv", 1),
        ("analyst", "csv", 1),
        ("analyst", "xlsx", 1),
        ("partner", "geojson", 0),
    ]
    assert details[2]["filters"] == {"governorate": "YE-SD"}
