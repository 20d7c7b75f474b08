"""Registry pages and the `rasid search` command, as a user drives them."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app as cli_app
from rasid.core.settings import Settings
from rasid.registry import service
from rasid.registry.schemas import EntityIn, NameIn
from tests.conftest import World, csrf_from, login


def _person(
    factory: sessionmaker[Session], world: World, who: str, *names: str, marking: str = "TLP:AMBER"
) -> int:
    with factory.begin() as db:
        entity, _ = service.create_entity(
            db,
            world.actor(who),
            EntityIn(kind="person", marking=marking, names=[NameIn(name=n) for n in names]),
        )
        return entity.id


def test_search_page_finds_across_scripts_and_highlights(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    pid = _person(factory, world, "analyst", "محمد عبدالله الحوثي")
    login(client, "analyst2")
    page = client.get("/registry/search", params={"q": "Muhammad Abdallah Al Huthi"})
    assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text
    assert f'data-id="{pid}"' in page.text and "<mark>محمد</mark>" in page.text
    assert "تطابق 3 من 3 أجزاء من الاسم" in page.text  # the reason, in the page language


def test_pages_hide_what_the_marking_hides(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    pid = _person(factory, world, "analyst", "محمد عبدالله الحوثي", marking="TLP:AMBER+STRICT")
    login(client, "partner")
    assert client.get(f"/registry/entities/{pid}").status_code == 404
    assert (
        f'data-id="{pid}"'
        not in client.get("/registry/search", params={"q": "Mohammed al-Houthi"}).text
    )
    assert f'data-id="{pid}"' not in client.get("/registry/entities").text
    assert client.get(f"/api/v1/graph/{pid}").status_code == 404


def test_entity_form_shows_likely_duplicates_before_saving(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    pid = _person(factory, world, "analyst", "محمد عبدالله الحوثي")
    login(client, "analyst2")
    form = client.get("/registry/entities/new?kind=person")
    data = {
        "csrf_token": csrf_from(form.text),
        "kind": "person",
        "name_latin": "Mohammed Abdullah al-Houthi",
        "marking": "TLP:AMBER",
    }
    first = client.post("/registry/entities", data=data, follow_redirects=False)
    assert (
        first.status_code == 200
        and 'id="duplicate-candidates"' in first.text
        and f"#{pid}" in first.text
    )
    confirmed = client.post(
        "/registry/entities", data=data | {"confirm_new": "1"}, follow_redirects=False
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"].startswith(
        "/registry/entities/"
    )


def test_incident_form_errors_name_the_field_and_keep_the_input(
    world: World, client: TestClient
) -> None:
    login(client, "analyst")
    form = client.get("/registry/incidents/new")
    bad = client.post(
        "/registry/incidents",
        data={
            "csrf_token": csrf_from(form.text),
            "title": "هجوم على نقطة",
            "event_date": "2024-02-01",
            "governorate_code": "YE-SD",
            "lat": "95",
            "lon": "43.7",
        },
    )
    assert bad.status_code == 422 and "خط العرض" in bad.text and "هجوم على نقطة" in bad.text
    good = client.post(
        "/registry/incidents",
        data={
            "csrf_token": csrf_from(form.text),
            "title": "هجوم على نقطة",
            "event_date": "2024-02-01",
            "governorate_code": "YE-SD",
            "lat": "16.94",
            "lon": "43.76",
            "source_0_description": "بلاغ",
            "source_0_reliability": "B",
            "source_0_credibility": "2",
            "marking": "TLP:GREEN",
        },
        follow_redirects=True,
    )
    assert good.status_code == 200 and "هجوم على نقطة" in good.text and ">B2<" in good.text
    assert "incident-geojson" in good.text
    listing = client.get("/registry/incidents", params={"governorate": "YE-SD"})
    assert "هجوم على نقطة" in listing.text
    geo = client.get("/api/v1/incidents.geojson", params={"governorate": "YE-SD"}).json()
    assert geo["features"][0]["geometry"]["coordinates"] == [43.76, 16.94]


def test_viewer_cannot_open_the_forms(world: World, client: TestClient) -> None:
    login(client, "observer")
    assert client.get("/registry/incidents/new").status_code == 403
    assert client.get("/registry/entities/new").status_code == 403


def test_duplicates_page_merges_and_undoes(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    a = _person(factory, world, "analyst", "محمد عبدالله الحوثي")
    b = _person(factory, world, "analyst2", "Mohammed Abdullah al-Houthi")
    login(client, "analyst")
    page = client.get("/registry/duplicates")
    client.post("/registry/duplicates/scan", data={"csrf_token": csrf_from(page.text)})
    page = client.get("/registry/duplicates")
    assert (
        f'href="/registry/entities/{a}"' in page.text
        and f'href="/registry/entities/{b}"' in page.text
    )
    merged = client.post(
        "/registry/merges",
        data={"csrf_token": csrf_from(page.text), "survivor_id": a, "duplicate_id": b},
        follow_redirects=True,
    )
    assert "Mohammed Abdullah al-Houthi" in merged.text
    old = client.get(f"/registry/entities/{b}", follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"].startswith(f"/registry/entities/{a}")
    undo = re.search(r'action="(/registry/merges/\d+/undo)"', merged.text)
    assert undo
    client.post(undo.group(1), data={"csrf_token": csrf_from(merged.text)})
    assert client.get(f"/registry/entities/{b}", follow_redirects=False).status_code == 200


def test_search_command_json_and_stdin(
    world: World, factory: sessionmaker[Session], cli_env: Settings
) -> None:
    pid = _person(factory, world, "analyst", "محمد عبدالله الحوثي", "Mohammed al-Houthi")
    runner = CliRunner()
    one = runner.invoke(cli_app, ["search", "Mohamed Abd Allah", "--as", "analyst", "--json"])
    assert one.exit_code == 0, one.stderr
    data = json.loads(one.stdout)
    assert data["query"] == "Mohamed Abd Allah" and data["results"][0]["id"] == pid
    assert set(data["results"][0]) == {"id", "type", "names", "score", "reason"}
    assert set(data["results"][0]["names"]) == {"محمد عبدالله الحوثي", "Mohammed al-Houthi"}
    many = runner.invoke(
        cli_app,
        ["search", "-", "--as", "partner", "--json", "--type", "person"],
        input="Mohammed Abdullah al-Houthi\nمحمد الحوثي\n",
    )
    lines = [json.loads(line) for line in many.stdout.splitlines()]
    assert [x["query"] for x in lines] == ["Mohammed Abdullah al-Houthi", "محمد الحوثي"]
    assert all(x["results"] == [] for x in lines)  # the partner may not see the AMBER record
    bad = runner.invoke(cli_app, ["search", "x", "--as", "analyst", "--type", "spaceship"])
    assert bad.exit_code == 1 and "spaceship" in bad.stderr


def test_places_are_found_in_both_languages_and_spellings(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "analyst")
    for query in ("Sa'dah", "Saada", "صعدة"):
        page = client.get("/registry/search", params={"q": query})
        assert 'id="gazetteer-places"' in page.text and "صعدة" in page.text, query
    picker = client.get("/registry/gazetteer/pick", params={"q": "Hodeidah"})
    assert 'data-kind="governorate"' in picker.text and 'data-gov="YE-HU"' in picker.text
    assert client.get("/api/v1/gazetteer", params={"q": "Saada"}).json()[0]["id"] == "YE-SD"
    form = client.get("/registry/entities/new?kind=place")
    made = client.post(
        "/registry/entities",
        data={
            "csrf_token": csrf_from(form.text),
            "kind": "place",
            "name_ar": "سوق الطلح",
            "name_latin": "Souq al-Talh",
            "gazetteer_kind": "governorate",
            "gazetteer_id": "YE-SD",
            "confirm_new": "1",
        },
        follow_redirects=True,
    )
    assert made.status_code == 200 and "صعدة" in made.text
    bad = client.post(
        "/registry/entities",
        data={
            "csrf_token": csrf_from(form.text),
            "kind": "place",
            "name_ar": "مكان",
            "gazetteer_kind": "district",
            "gazetteer_id": "no-such-district",
            "confirm_new": "1",
        },
    )
    assert bad.status_code == 422 and "no-such-district" in bad.text


def test_export_from_the_incident_list_respects_markings_and_is_audited(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    from datetime import date

    from sqlalchemy import select

    from rasid.audit.models import AuditEntry
    from rasid.registry.schemas import IncidentIn

    with factory.begin() as db:
        for marking, title in (
            ("TLP:GREEN", "حادثة خضراء"),
            ("TLP:AMBER+STRICT", "حادثة مقيدة"),
            ("TLP:RED", "حادثة حمراء"),
        ):
            service.create_incident(
                db,
                world.actor("analyst"),
                IncidentIn(
                    title=title,
                    event_date=date(2024, 1, 2),
                    marking=marking,
                    lat=15.3,
                    lon=44.2,
                    recipients=["analyst"] if marking == "TLP:RED" else [],
                ),
            )
    login(client, "analyst")
    geo = client.get("/registry/export", params={"kind": "incidents", "format": "geojson"})
    titles = {f["properties"]["title"] for f in json.loads(geo.content)["features"]}
    assert titles == {"حادثة خضراء", "حادثة مقيدة"}  # RED never leaves the server
    assert geo.headers["x-red-withheld"] == "1"
    login(client, "watch")
    csv_text = client.get(
        "/registry/export", params={"kind": "incidents", "format": "csv"}
    ).content.decode("utf-8-sig")
    assert "حادثة خضراء" in csv_text and "حادثة مقيدة" not in csv_text
    with factory() as db:
        exports = db.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [e.username for e in exports] == ["analyst", "watch"]


def test_screening_page_shows_candidates_the_user_may_see(
    world: World, client: TestClient, factory: sessionmaker[Session]
) -> None:
    known = _person(factory, world, "analyst", "محمد عبدالله الحوثي")
    login(client, "analyst2")
    page = client.get("/registry/screen")
    upload = (
        "list.csv",
        b"name,dob\nMohammed Abdullah al-Houthi,\nJohn Smith,\n",
        "text/csv",
    )
    result = client.post(
        "/registry/screen",
        data={"csrf_token": csrf_from(page.text), "output": "page"},
        files={"file": upload},
    )
    assert result.status_code == 200 and f'href="/registry/entities/{known}"' in result.text
    assert result.text.count('data-row="') == 2
    login(client, "partner")
    page = client.get("/registry/screen")
    hidden = client.post(
        "/registry/screen",
        data={"csrf_token": csrf_from(page.text), "output": "page"},
        files={"file": upload},
    )
    assert f'href="/registry/entities/{known}"' not in hidden.text
    csv_out = client.post(
        "/registry/screen",
        data={"csrf_token": csrf_from(page.text), "output": "csv"},
        files={"file": upload},
    )
    assert csv_out.headers["content-type"].startswith(
        "text/csv"
    ) and "match_1_id" in csv_out.content.decode("utf-8-sig")


def test_source_documents_are_checked_stored_outside_the_database_and_read_with_access(
    world: World, client: TestClient, factory: sessionmaker[Session], settings: Settings
) -> None:
    from sqlalchemy import select

    from rasid.audit.models import AuditEntry

    login(client, "analyst")
    form = client.get("/registry/incidents/new")
    fields = {
        "csrf_token": csrf_from(form.text),
        "title": "بلاغ مع وثيقة",
        "event_date": "2024-02-01",
        "source_0_description": "تقرير الشرطة",
        "source_0_reliability": "B",
        "source_0_credibility": "2",
        "marking": "TLP:AMBER",
    }
    fake = client.post(
        "/registry/incidents",
        data=fields,
        files={"source_0_file": ("report.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert fake.status_code == 422 and "report.pdf" in fake.text
    pdf = b"%PDF-1.4\n% a tiny document\n"
    made = client.post(
        "/registry/incidents",
        data=fields,
        files={"source_0_file": ("تقرير.pdf", pdf, "application/pdf")},
        follow_redirects=True,
    )
    assert made.status_code == 200 and "تقرير.pdf" in made.text
    link = re.search(r'href="(/registry/incidents/(\d+)/sources/\d+/attachment)"', made.text)
    assert link
    stored = list((settings.data_dir / "attachments").rglob("*"))
    assert any(
        p.is_file() and p.read_bytes() == pdf for p in stored
    )  # on disk, not in the database
    download = client.get(link.group(1))
    assert download.content == pdf and download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    # an edit that keeps the source keeps its document
    edit = client.get(f"/registry/incidents/{link.group(2)}/edit")
    client.post(
        f"/registry/incidents/{link.group(2)}",
        data=fields
        | {"csrf_token": csrf_from(edit.text), "title": "بلاغ مع وثيقة (معدل)", "version": "1"},
    )
    again = re.search(
        r'href="(/registry/incidents/\d+/sources/\d+/attachment)"',
        client.get(f"/registry/incidents/{link.group(2)}").text,
    )
    assert again and client.get(again.group(1)).content == pdf
    login(client, "partner")  # AMBER, not released: no document either
    assert client.get(link.group(1)).status_code == 404
    with factory() as db:
        reads = db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "registry_incident_source")
        ).all()
        assert [r.username for r in reads] == [
            "analyst",
            "analyst",
        ]  # the partner's try was refused
