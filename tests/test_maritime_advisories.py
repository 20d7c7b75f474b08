"""Navigation security advisories: drafted from an incident (position from the nearest
port, no vessel named), edited, issued, exported as text and PDF in both languages; who may
see drafts; audit."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.errors import Conflict, NotFound, ValidationFailed
from rasid.core.settings import Settings
from rasid.maritime import advisories
from rasid.registry import service as registry
from rasid.registry.schemas import EntityIn, IdentifierIn, IncidentIn, InvolvementIn, NameIn
from tests.conftest import World, login, page_csrf


@pytest.fixture
def incident_id(world: World, factory: sessionmaker[Session]) -> int:
    """The watch records a skiff approach about 24 NM west-southwest of Al Hudaydah, naming
    the ship."""
    watch = world.actor("watch")
    with factory.begin() as db:
        ship, _ = registry.create_entity(
            db,
            watch,
            EntityIn(
                kind="vessel",
                marking="TLP:GREEN",
                names=[NameIn(name="AL NOOR STAR", name_type="latin")],
                identifiers=[IdentifierIn(kind="mmsi", value="447123456")],
            ),
        )
        incident, _ = registry.create_incident(
            db,
            watch,
            IncidentIn(
                title="Skiff approach on AL NOOR STAR",
                event_date=date(2026, 1, 15),
                event_time="14:30",
                lat=14.60,
                lon=42.60,
                marking="TLP:GREEN",
                narrative_en="Two skiffs approached AL NOOR STAR (MMSI 447123456) at speed; "
                "the master altered course and the skiffs withdrew.",
                narrative_ar="اقترب زورقان سريعان من السفينة AL NOOR STAR (447123456) ثم انسحبا.",
                involvements=[InvolvementIn(entity_id=ship.id, role="target")],
            ),
        )
        return incident.id


def test_draft_gives_the_position_from_the_nearest_port_and_names_no_vessel(
    world: World, factory: sessionmaker[Session], incident_id: int
) -> None:
    with factory.begin() as db:
        a = advisories.draft_from_incident(db, world.actor("watch"), incident_id)
        assert a.ref == "RASID-ADV-2026-0001" and a.status == "draft"
        assert a.port_id == "al-hudaydah"
        assert 20 < a.distance_nm < 30 and 225 <= a.bearing_deg <= 315  # west of the port
        assert a.event_at.isoformat().startswith("2026-01-15T11:30")  # 14:30 Aden = 11:30 UTC
        en, ar = advisories.as_text(a, "en"), advisories.as_text(a, "ar")
    for text in (en, ar):
        assert "AL NOOR" not in text and "447123456" not in text
    assert re.search(r"\d+ NM (southwest|west-southwest) of Al Hudaydah", en)
    assert "ميلاً بحرياً" in ar and "الحديدة" in ar
    assert "Advice to mariners:" in en and "إرشادات للملاحين:" in ar
    assert "11:30" not in en and "1130 UTC" in en


def test_lifecycle_visibility_and_audit(
    world: World, factory: sessionmaker[Session], incident_id: int
) -> None:
    with factory.begin() as db:
        aid = advisories.draft_from_incident(db, world.actor("watch"), incident_id).id
    with factory.begin() as db, pytest.raises(NotFound):  # a draft stays in its organisation
        advisories.get_advisory(db, world.actor("analyst"), aid)
    with factory.begin() as db:
        edited = advisories.update(
            db, world.actor("watch"), aid, {"advice_en": "Keep clear of the area by 30 NM."}
        )
        assert "30 NM" in advisories.as_text(edited, "en")
        with pytest.raises(ValidationFailed) as empty:
            advisories.update(db, world.actor("watch"), aid, {"what_en": " "})
        assert empty.value.field == "what_en"
    with factory.begin() as db, pytest.raises(ValidationFailed) as amber:
        advisories.issue(db, world.actor("watch"), aid, "TLP:AMBER")
    assert amber.value.field == "marking"
    with factory.begin() as db:
        advisories.issue(db, world.actor("watch"), aid)
    with factory.begin() as db:
        for who in ("analyst", "observer"):  # TLP:CLEAR once issued: everyone
            assert advisories.get_advisory(db, world.actor(who), aid).status == "issued"
        with pytest.raises(Conflict):
            advisories.update(db, world.actor("watch"), aid, {"advice_en": "x"})
        actions = [
            e.action
            for e in db.scalars(
                select(AuditEntry).where(AuditEntry.object_type == "maritime_advisory")
            )
        ]
        assert actions == ["create", "update", "issue"]


def test_incident_without_coordinates_is_refused(
    world: World, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as db:
        incident, _ = registry.create_incident(
            db,
            world.actor("watch"),
            IncidentIn(title="Report", event_date=date(2026, 1, 2), marking="TLP:GREEN"),
        )
        with pytest.raises(ValidationFailed) as refused:
            advisories.draft_from_incident(db, world.actor("watch"), incident.id)
        assert refused.value.field == "incident_id"


def test_pages_and_exports(
    world: World, client: TestClient, incident_id: int, factory: sessionmaker[Session]
) -> None:
    login(client, "watch")
    csrf = page_csrf(client, "/maritime/advisories")
    bad = client.post("/maritime/advisories", data={"csrf_token": csrf, "incident_id": "x"})
    assert bad.status_code == 422 and 'id="form-error"' in bad.text
    made = client.post(
        "/maritime/advisories",
        data={"csrf_token": csrf, "incident_id": str(incident_id)},
        follow_redirects=True,
    )
    assert (
        made.status_code == 200
        and 'id="text-ar"' in made.text
        and 'id="advisory-edit"' in made.text
    )
    aid = int(str(made.url).rstrip("/").rsplit("/", 1)[1])
    text = client.get(f"/maritime/advisories/{aid}/export", params={"format": "txt", "lang": "ar"})
    assert text.headers["content-type"].startswith("text/plain")
    assert "RASID-ADV-2026-0001" in text.text and "تحذير أمني ملاحي" in text.text
    pdf = client.get(f"/maritime/advisories/{aid}/export", params={"format": "pdf", "lang": "ar"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    issued = client.post(
        f"/maritime/advisories/{aid}/issue",
        data={"csrf_token": csrf, "marking": "TLP:CLEAR"},
        follow_redirects=True,
    )
    assert issued.status_code == 200 and 'id="advisory-edit"' not in issued.text
    again = client.post(
        f"/maritime/advisories/{aid}/edit", data={"csrf_token": csrf, "advice_en": "x"}
    )
    assert again.status_code == 409
    with factory() as db:
        exports = db.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "maritime_advisory", AuditEntry.action == "export"
            )
        ).all()
        assert len(exports) == 2


def test_cli_draft_issue_export(
    world: World, cli_env: Settings, incident_id: int, tmp_path: Path
) -> None:
    runner = CliRunner()
    drafted = runner.invoke(
        app, ["maritime", "advisory", "draft", str(incident_id), "--as", "watch"]
    )
    assert drafted.exit_code == 0, drafted.stderr
    aid = re.search(r"advisory (\d+) drafted", drafted.stdout).group(1)  # type: ignore[union-attr]
    assert "NAVIGATION SECURITY ADVISORY" in drafted.stdout
    issued = runner.invoke(app, ["maritime", "advisory", "issue", aid, "--as", "watch"])
    assert issued.exit_code == 0 and "issued" in issued.stdout
    ar = runner.invoke(
        app, ["maritime", "advisory", "export", aid, "--lang", "ar", "--as", "analyst"]
    )
    assert ar.exit_code == 0 and "تحذير أمني ملاحي" in ar.stdout
    out = tmp_path / "adv.pdf"
    pdf = runner.invoke(
        app,
        [
            "maritime",
            "advisory",
            "export",
            aid,
            "--format",
            "pdf",
            "--out",
            str(out),
            "--as",
            "watch",
        ],
    )
    assert pdf.exit_code == 0, pdf.stderr
    assert out.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(app, ["maritime", "advisory", "export", "999", "--as", "watch"])
    assert missing.exit_code == 1


def test_bearing_and_compass() -> None:
    nm, bearing = advisories.distance_bearing(12.0, 45.0, 12.0, 46.0)
    assert 58 < nm < 59 and 89 < bearing < 91
    assert advisories.COMPASS_EN[advisories.compass_index(bearing)] == "east"
    assert advisories.COMPASS_EN[advisories.compass_index(250.0)] == "west-southwest"
