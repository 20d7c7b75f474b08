"""Photos of a check visit, per serial, on the page and through the API: a PNG of a missing
serial is listed and served back byte for byte; a text file named .png, a PDF or a serial the
check does not concern is refused naming the field, with nothing stored; another organisation
sees neither the photos nor the image; every upload and every view is audited."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.logistics import service
from rasid.logistics.models import CheckPhoto, Item
from rasid.training import service as training
from tests.conftest import World, csrf_from, login, page_csrf

TODAY = date.today()
API = "/api/v1/logistics"


def _png() -> bytes:
    """A real 1×1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xc0\x20\x20")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
TEXT = b"Not an image at all, only a note typed on the phone.\n"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def visit(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    """Three radios held by Aden (one more still with the donor); a check done (R-001
    present, R-002 missing, R-003 left without a result) and a check still scheduled."""
    officer = world.actor("analyst")
    with factory.begin() as db:
        aden = training.create_unit(db, officer, code="aden", name_ar="قطاع عدن",
                                    name_en="Aden Sector")  # fmt: skip
        radios = service.add_type(db, officer, name_ar="جهاز لاسلكي", name_en="VHF radio")
        service.add_items(db, officer, radios.id, ["R-001", "R-002", "R-003", "R-100"])
        handover = service.issue_handover(db, officer, ref="HO-1", to_unit_id=aden.id,
                                          serials=["R-001", "R-002", "R-003"])  # fmt: skip
        service.accept_handover(db, world.actor("analyst2"), handover.id)
        done = service.schedule_check(db, officer, unit_id=aden.id, kind="initial",
                                      scheduled_for=TODAY)  # fmt: skip
        service.record_check(db, officer, done.id, {"R-001": ("present", ""),
                             "R-002": ("missing", "not in the armoury")}, TODAY)  # fmt: skip
        scheduled = service.schedule_check(db, officer, unit_id=aden.id, kind="routine",
                                           scheduled_for=TODAY + timedelta(days=7))  # fmt: skip
        r002 = db.scalar(select(Item.id).where(Item.serial == "R-002"))
        assert r002 is not None
        return {"aden": aden.id, "done": done.id, "scheduled": scheduled.id, "r002": r002}


def _files(settings: Settings) -> set[str]:
    root = settings.data_dir / "attachments"
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def _photo_count(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return int(db.scalar(select(func.count()).select_from(CheckPhoto)) or 0)


def _entries(factory: sessionmaker[Session], object_type: str) -> list[AuditEntry]:
    with factory() as db:
        return list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == object_type)
                .order_by(AuditEntry.seq)
            )
        )


def _upload(client: TestClient, url: str, csrf: str, serial: str, name: str, content: bytes,
            media_type: str = "image/png") -> Any:  # fmt: skip
    return client.post(url, data={"csrf_token": csrf, "serial": serial},
                       files={"photo": (name, content, media_type)}, follow_redirects=False)  # fmt: skip


def _logout(client: TestClient) -> None:
    client.post("/logout", data={"csrf_token": page_csrf(client, "/")})


def test_a_photo_of_a_missing_serial_on_the_check_page(
    client: TestClient, world: World, factory: sessionmaker[Session], settings: Settings,
    visit: dict[str, int],
) -> None:  # fmt: skip
    login(client, "analyst")
    check = f"/logistics/checks/{visit['done']}"
    page = client.get(check).text
    assert 'id="check-lines"' in page and '<tr data-serial="R-002" data-result="missing"' in page
    assert f'action="{check}/photos" enctype="multipart/form-data"' in page
    csrf = csrf_from(page)

    sent = _upload(client, f"{check}/photos", csrf, "r-002", "armoury.png", PNG)
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"{check}#photos-{visit['r002']}"
    page = client.get(check).text
    row = re.search(r'<tr data-serial="R-002".*?</tr>', page, re.S)
    assert row and "armoury.png" in row.group(0)
    link = re.search(r'href="(/logistics/photos/(\d+))"', row.group(0))
    assert link
    served = client.get(link.group(1))
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("inline")
    digest = hashlib.sha256(PNG).hexdigest()
    assert _files(settings) == {f"{digest[:2]}/{digest}"}  # stored by SHA-256, outside the DB
    item = client.get(f"/logistics/items/{visit['r002']}").text  # the item shows it too
    assert 'id="item-photos"' in item and link.group(1) in item

    # Refused, naming the field, and nothing stored: no row, no file.
    before = _files(settings)
    for name, content in (("notes.png", TEXT), ("report.pdf", PDF), ("notes.txt", TEXT)):
        refused = _upload(client, f"{check}/photos", csrf, "R-002", name, content)
        assert refused.status_code == 422 and name in refused.text, name
        assert (
            'id="photo-{}" accept="image/png,image/jpeg" required aria-invalid="true"'.format(
                visit["r002"]
            )
            in refused.text
        )
    for serial in ("R-003", "R-100", "R-404"):  # left without a result; with the donor; unknown
        refused = _upload(client, f"{check}/photos", csrf, serial, "armoury.png", PNG)
        assert refused.status_code == 422 and serial in refused.text, serial
    nothing = client.post(f"{check}/photos", data={"csrf_token": csrf, "serial": "R-002"},
                          follow_redirects=False)  # fmt: skip
    assert nothing.status_code == 422
    assert _photo_count(factory) == 1 and _files(settings) == before

    created = _entries(factory, "logistics_check_photo")
    assert [e.action for e in created] == ["create", "read"]  # the upload, the image served
    assert '"serial":"R-002"' in (created[0].after or "") and digest in (created[0].after or "")
    assert created[1].object_id == link.group(2) and created[1].username == "analyst"

    # Another organisation: not found, whether the check, its photos or the image.
    _logout(client)
    login(client, "partner")
    assert client.get(check).status_code == 404
    assert client.get(link.group(1)).status_code == 404
    stranger = _upload(client, f"{check}/photos", page_csrf(client, "/"), "R-002", "x.png", PNG)
    assert stranger.status_code == 404
    assert _photo_count(factory) == 1
    refused_reads = [e for e in _entries(factory, "logistics_check") if e.username == "partner"]
    assert refused_reads and {e.outcome for e in refused_reads} == {"refused"}


def test_photos_before_the_visit_is_recorded(
    client: TestClient, world: World, factory: sessionmaker[Session], settings: Settings,
    visit: dict[str, int],
) -> None:  # fmt: skip
    login(client, "analyst")
    check = f"/logistics/checks/{visit['scheduled']}"
    page = client.get(check).text
    assert page.count('<tr data-serial="R-') == 3  # the visit's rows are unchanged
    assert 'id="check-record"' in page and 'id="check-photos"' in page
    assert page.count(f'action="{check}/photos"') == 3
    csrf = csrf_from(page)
    sent = _upload(client, f"{check}/photos", csrf, "R-001", "rack.jpg", JPEG, "image/jpeg")
    assert sent.status_code == 303, sent.text
    refused = _upload(client, f"{check}/photos", csrf, "R-100", "rack.jpg", JPEG, "image/jpeg")
    assert refused.status_code == 422 and "R-100" in refused.text  # not held by the unit
    page = client.get(check).text
    row = re.search(r'<tr data-photo-serial="R-001">.*?</tr>', page, re.S)
    assert row and "rack.jpg" in row.group(0)
    link = re.search(r'href="(/logistics/photos/\d+)"', row.group(0))
    assert link
    served = client.get(link.group(1))
    assert served.content == JPEG and served.headers["content-type"] == "image/jpeg"

    # The visit leaves R-001 without a result: its photo is still listed, apart.
    with factory.begin() as db:
        service.record_check(db, world.actor("analyst"), visit["scheduled"],
                             {"R-002": ("present", ""), "R-003": ("present", "")}, TODAY)  # fmt: skip
    page = client.get(check).text
    assert 'id="check-photos-other"' in page and link.group(1) in page
    late = _upload(client, f"{check}/photos", csrf, "R-001", "rack.jpg", JPEG, "image/jpeg")
    assert late.status_code == 422  # a done check takes photos of its recorded serials only
    assert _upload(client, f"{check}/photos", csrf, "R-003", "r3.png", PNG).status_code == 303
    assert _photo_count(factory) == 2


def _auth(world: World, factory: sessionmaker[Session], username: str) -> dict[str, str]:
    with factory.begin() as db:
        token = identity.create_token(db, world.actor("admin"), username).plaintext
    return {"Authorization": f"Bearer {token}"}


def test_photos_through_the_api(
    client: TestClient, world: World, factory: sessionmaker[Session], settings: Settings,
    visit: dict[str, int],
) -> None:  # fmt: skip
    officer = _auth(world, factory, "analyst")
    url = f"{API}/checks/{visit['done']}/photos"
    assert client.get(url, headers=officer).json() == []
    made = client.post(url, data={"serial": "R-002"},
                       files={"photo": ("armoury.png", PNG, "image/png")}, headers=officer)  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["serial"] == "R-002" and body["item_id"] == visit["r002"]
    assert body["media_type"] == "image/png" and body["size"] == len(PNG)
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest() and body["name"] == "armoury.png"
    assert client.get(url, headers=officer).json() == [body]
    served = client.get(body["url"], headers=officer)
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"].startswith("inline")

    before = _files(settings)
    refusals: list[tuple[dict[str, str], Any, str]] = [
        ({"serial": "R-002"}, {"photo": ("notes.png", TEXT, "image/png")}, "photo"),
        ({"serial": "R-002"}, {"photo": ("report.pdf", PDF, "application/pdf")}, "photo"),
        ({"serial": "R-002"}, None, "photo"),
        ({"serial": "R-003"}, {"photo": ("armoury.png", PNG, "image/png")}, "serial"),
        ({"serial": "R-404"}, {"photo": ("armoury.png", PNG, "image/png")}, "serial"),
        ({}, {"photo": ("armoury.png", PNG, "image/png")}, "serial"),
    ]
    for data, files, field in refusals:
        refused = client.post(url, data=data, files=files, headers=officer)
        assert refused.status_code == 422, (data, refused.text)
        assert refused.json()["error"]["field"] == field, (data, refused.text)
    assert _photo_count(factory) == 1 and _files(settings) == before

    partner = _auth(world, factory, "partner")  # may write, sees nothing of the check
    assert client.get(url, headers=partner).status_code == 404
    assert client.get(body["url"], headers=partner).status_code == 404
    stranger = client.post(url, data={"serial": "R-002"},
                           files={"photo": ("x.png", PNG, "image/png")}, headers=partner)  # fmt: skip
    assert stranger.status_code == 404
    viewer = client.post(url, data={"serial": "R-002"},
                         files={"photo": ("x.png", PNG, "image/png")},
                         headers=_auth(world, factory, "observer"))  # fmt: skip
    assert viewer.status_code == 403
    assert _photo_count(factory) == 1

    entries = _entries(factory, "logistics_check_photo")
    assert [(e.action, e.username) for e in entries] == [("create", "analyst"), ("read", "analyst")]
    assert entries[0].object_id == str(body["id"])
    with factory() as db:
        refused_writes = db.scalars(
            select(AuditEntry).where(
                AuditEntry.outcome == "refused", AuditEntry.username == "partner"
            )
        ).all()
        assert refused_writes  # the refusals are audited
