"""Report attachments: who may add, list, download and remove them; size and type checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.intel import files, service
from rasid.intel.models import ReportAttachment
from rasid.registry.attachments import MAX_BYTES, Upload
from tests.conftest import World, csrf_from, login
from tests.test_intel import add_liaison, agreement, new_report, report_in

PDF = b"%PDF-1.4\n% a tiny test document\n%%EOF\n"
TEXT = "ملاحظات المصدر: قارب شوهد فجراً.\n".encode()


def _upload(name: str, content: bytes) -> Upload:
    return Upload(0, name, content, field="file")


def _storage(settings: Settings) -> Path:
    return settings.data_dir / "attachments"


def _release(factory: sessionmaker[Session], world: World, rid: int) -> None:
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
        service.release_report(db, world.actor("liaison"), rid, ["partner"])


def test_attach_list_download_and_remove(
    world: World, factory: sessionmaker[Session], settings: Settings
) -> None:
    add_liaison(factory)
    agreement(factory, world)
    storage = _storage(settings)
    rid = new_report(factory, world, report_in())
    with factory.begin() as db:
        row = files.add_attachment(
            db, world.actor("analyst"), rid, _upload("source.pdf", PDF), storage
        )
        att_id = row.id
        assert (row.filename, row.content_type, row.size) == (
            "source.pdf",
            "application/pdf",
            len(PDF),
        )
        extra = files.add_attachment(
            db, world.actor("analyst2"), rid, _upload("ملاحظات.txt", TEXT), storage
        )
        extra_id = extra.id
    # the bytes live outside the database, under the data directory
    with factory() as db:
        stored = db.get(ReportAttachment, att_id)
        assert stored is not None and (storage / stored.path).read_bytes() == PDF
    # only the owner organisation writes; a reader of another organisation sees nothing yet
    with factory.begin() as db:
        with pytest.raises(NotFound):
            files.add_attachment(db, world.actor("partner"), rid, _upload("x.pdf", PDF), storage)
        with pytest.raises(Forbidden):
            files.add_attachment(db, world.actor("auditor"), rid, _upload("x.pdf", PDF), storage)
    for user in ("partner", "watch", "observer"):
        with factory() as db:
            with pytest.raises(NotFound):
                files.list_attachments(db, world.actor(user), rid)
            with pytest.raises(NotFound):
                files.open_attachment(db, world.actor(user), rid, att_id, storage)
    # removal from a draft, audited
    with factory.begin() as db:
        files.delete_attachment(db, world.actor("analyst"), rid, extra_id)
    with factory() as db:
        assert [a.filename for a in files.list_attachments(db, world.actor("analyst"), rid)] == [
            "source.pdf"
        ]
    # attaching to an approved report sends it back to draft, like an edit
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
    with factory.begin() as db:
        files.add_attachment(db, world.actor("analyst"), rid, _upload("more.txt", TEXT), storage)
    with factory() as db:
        report = service.get_report(db, world.actor("analyst"), rid)
        assert (report.status, report.approved_by) == ("draft", None)
    with factory.begin() as db:
        service.approve_report(db, world.actor("liaison"), rid)
    with factory.begin() as db, pytest.raises(Conflict, match="only from a draft"):
        files.delete_attachment(db, world.actor("analyst"), rid, att_id)
    with factory.begin() as db:
        service.release_report(db, world.actor("liaison"), rid, ["partner"])
    # released: nothing more is attached or removed; the partner now lists and downloads
    with factory.begin() as db:
        with pytest.raises(Conflict):
            files.add_attachment(db, world.actor("analyst"), rid, _upload("late.pdf", PDF), storage)
        with pytest.raises(Conflict):
            files.delete_attachment(db, world.actor("analyst"), rid, att_id)
    with factory.begin() as db:
        seen = files.list_attachments(db, world.actor("partner"), rid)
        assert [a.filename for a in seen] == ["source.pdf", "more.txt"]
        row, path = files.open_attachment(db, world.actor("partner"), rid, att_id, storage)
        assert path.read_bytes() == PDF
        with pytest.raises(NotFound):  # an attachment of another report is not found here
            files.open_attachment(db, world.actor("partner"), rid + 1000, att_id, storage)
    with factory() as db:
        with pytest.raises(NotFound):
            files.list_attachments(db, world.actor("watch"), rid)
        actions = [
            (e.action, e.object_type)
            for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if e.action in ("attach", "detach")
            or (e.action == "read" and e.object_type == "intel_report_attachment")
        ]
    assert actions == [
        ("attach", "intel_report"),
        ("attach", "intel_report"),
        ("detach", "intel_report"),
        ("attach", "intel_report"),
        ("read", "intel_report_attachment"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.pdf", b"%PDF-" + b"0" * MAX_BYTES, "big.pdf is larger than 10 MB."),
        ("tool.exe", b"MZ\x90\x00", "only PDF, PNG, JPEG"),
        ("fake.pdf", b"<html>not a pdf</html>", "fake.pdf is not really a pdf file."),
        ("empty.txt", b"", "empty.txt is empty."),
        ("latin.txt", b"\xff\xfe caf\xe9", "latin.txt is not UTF-8 text."),
    ],
)
def test_oversize_and_wrong_type_are_refused_naming_the_field(
    world: World,
    factory: sessionmaker[Session],
    settings: Settings,
    name: str,
    content: bytes,
    message: str,
) -> None:
    rid = new_report(factory, world, report_in())
    with factory.begin() as db, pytest.raises(ValidationFailed) as refused:
        files.add_attachment(
            db, world.actor("analyst"), rid, _upload(name, content), _storage(settings)
        )
    assert refused.value.field == "file"
    assert message in refused.value.message
    with factory() as db:
        assert db.scalars(select(ReportAttachment)).all() == []


def test_attachment_api(
    world: World, factory: sessionmaker[Session], client: TestClient, settings: Settings
) -> None:
    add_liaison(factory)
    agreement(factory, world)
    with factory.begin() as db:
        tokens = {
            u: identity.create_token(db, world.actor("admin"), u).plaintext
            for u in ("analyst", "partner", "watch")
        }
    auth = {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    rid = new_report(factory, world, report_in())
    url = f"/api/v1/intel/reports/{rid}/attachments"
    made = client.post(
        url, headers=auth["analyst"], files={"file": ("source.pdf", PDF, "application/pdf")}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["filename"], body["size"], body["uploaded_by"]) == (
        "source.pdf",
        len(PDF),
        "analyst",
    )
    wrong = client.post(
        url, headers=auth["analyst"], files={"file": ("image.png", PDF, "image/png")}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["field"] == "file"
    assert wrong.json()["error"]["message"] == "image.png is not really a png file."
    big = client.post(
        url,
        headers=auth["analyst"],
        files={"file": ("big.txt", b"a" * (MAX_BYTES + 1), "text/plain")},
    )
    assert big.status_code == 422 and big.json()["error"]["field"] == "file"
    assert "larger than 10 MB" in big.json()["error"]["message"]
    missing = client.post(url, headers=auth["analyst"], data={"other": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"

    listed = client.get(url, headers=auth["analyst"])
    assert [a["filename"] for a in listed.json()] == ["source.pdf"]
    got = client.get(body["url"], headers=auth["analyst"])
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert "attachment" in got.headers["content-disposition"]
    # not released yet: the partner gets 404 on the list and the file
    assert client.get(url, headers=auth["partner"]).status_code == 404
    assert client.get(body["url"], headers=auth["partner"]).status_code == 404
    assert (
        client.post(
            url, headers=auth["partner"], files={"file": ("x.pdf", PDF, "application/pdf")}
        ).status_code
        == 404
    )
    _release(factory, world, rid)
    assert client.get(url, headers=auth["partner"]).status_code == 200
    assert client.get(body["url"], headers=auth["partner"]).content == PDF
    # released to the partner only: the coast guard still gets 404
    assert client.get(url, headers=auth["watch"]).status_code == 404
    assert client.get(body["url"], headers=auth["watch"]).status_code == 404
    assert client.delete(body["url"], headers=auth["analyst"]).status_code == 409
    with factory() as db:
        details = [
            json.loads(e.detail or "{}")
            for e in db.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "read",
                    AuditEntry.object_type == "intel_report_attachment",
                )
            )
        ]
    assert len(details) == 2 and details[0]["file"] == "source.pdf"


def test_attachments_on_the_report_page(
    world: World, factory: sessionmaker[Session], client: TestClient
) -> None:
    add_liaison(factory)
    agreement(factory, world)
    rid = new_report(factory, world, report_in())
    login(client, "analyst")
    page = client.get(f"/intel/reports/{rid}")
    assert 'id="attach-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    token = csrf_from(page.text)
    done = client.post(
        f"/intel/reports/{rid}/attachments",
        data={"csrf_token": token},
        files={"file": ("ملاحظات.txt", TEXT, "text/plain")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    wrong = client.post(
        f"/intel/reports/{rid}/attachments",
        data={"csrf_token": token},
        files={"file": ("tool.exe", b"MZ", "application/octet-stream")},
    )
    assert wrong.status_code == 422
    assert 'id="attach-error"' in wrong.text and 'aria-invalid="true"' in wrong.text
    page = client.get(f"/intel/reports/{rid}")
    link = re.search(rf'href="(/intel/reports/{rid}/attachments/\d+)"[^>]*>ملاحظات.txt<', page.text)
    assert link, page.text
    assert client.get(link.group(1)).content == TEXT
    _release(factory, world, rid)
    page = client.get(f"/intel/reports/{rid}")
    assert 'id="attach-form"' not in page.text and "ملاحظات.txt" in page.text
    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    login(client, "partner")
    assert "ملاحظات.txt" in client.get(f"/intel/reports/{rid}").text
    assert client.get(link.group(1)).content == TEXT
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    login(client, "watch")
    assert client.get(link.group(1)).status_code == 404
