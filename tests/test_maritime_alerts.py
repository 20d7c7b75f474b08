"""Maritime alerts: idempotent store, filters, access, workflow, escalation to a registry
incident and an intel draft, audit, API and CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.actor import system_actor
from rasid.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.intel import service as intel
from rasid.maritime import alerts
from rasid.maritime.events import AlertEvent, EvidenceFix
from rasid.maritime.models import MaritimeAlert
from rasid.registry import service as registry
from rasid.registry.models import Entity
from rasid.registry.schemas import EntityIn, IdentifierIn, NameIn
from tests.conftest import World

T0 = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
HOUR = 3600.0
SKIFF, TANKER, DHOW, CARRIER = 473112233, 636012345, 422998877, 538007766


def fast_approach(start: float = T0 + 5 * HOUR) -> AlertEvent:
    return AlertEvent(
        type="fast_approach",
        mmsi=SKIFF,
        other_mmsi=TANKER,
        start=start,
        end=start + 600,
        lat=12.61,
        lon=43.32,
        severity="critical",
        zone="bab-el-mandeb-tss",
        parameters={"cpa_nm": 1.0, "window_min": 15, "relative_speed_kn": 15},
        measures={"cpa_nm": 0.21, "relative_speed_kn": 24.5},
        evidence=[
            EvidenceFix(start - 120, SKIFF, 12.55, 43.30, 22.0, 10.0),
            EvidenceFix(start, SKIFF, 12.60, 43.31, 23.0, 12.0),
            EvidenceFix(start, TANKER, 12.62, 43.33, 11.5, 340.0),
        ],
    )


def gap() -> AlertEvent:
    return AlertEvent(
        type="ais_gap",
        subtype="suspected_disabling",
        mmsi=DHOW,
        start=T0 + 1 * HOUR,
        end=T0 + 14 * HOUR,
        lat=13.9,
        lon=42.7,
        severity="high",
        measures={"gap_h": 13.0},
        evidence=[EvidenceFix(T0 + HOUR, DHOW, 13.9, 42.7, 6.1, 180.0)],
    )


def encounter() -> AlertEvent:
    return AlertEvent(
        type="encounter",
        mmsi=DHOW,
        other_mmsi=CARRIER,
        start=T0 + 20 * HOUR,
        end=T0 + 23 * HOUR,
        lat=14.2,
        lon=42.1,
        severity="high",
    )


def loitering() -> AlertEvent:
    return AlertEvent(
        type="loitering", mmsi=CARRIER, start=T0 + 30 * HOUR, end=T0 + 35 * HOUR, lat=15.0, lon=41.9
    )


def store(
    factory: sessionmaker[Session],
    world: World,
    events: list[AlertEvent],
    marking: str = "TLP:GREEN",
    username: str = "watch",
) -> int:
    with factory.begin() as db:
        return alerts.store(db, world.actor(username), events, marking=marking)


def alert_id(factory: sessionmaker[Session], event: AlertEvent) -> int:
    with factory() as db:
        found = db.scalar(select(MaritimeAlert.id).where(MaritimeAlert.key == event.key))
        assert found is not None
        return found


def audit_actions(factory: sessionmaker[Session], object_id: int) -> list[str]:
    with factory() as db:
        rows = db.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "maritime_alert", AuditEntry.object_id == str(object_id)
            )
            .order_by(AuditEntry.seq)
        ).all()
        return [f"{r.action}:{r.outcome}" for r in rows if r.action != "read"]


def token(factory: sessionmaker[Session], world: World, username: str) -> dict[str, str]:
    with factory.begin() as db:
        plaintext = identity.create_token(db, world.actor("admin"), username).plaintext
    return {"Authorization": f"Bearer {plaintext}"}


# --- store and filters -----------------------------------------------------------------------


def test_store_is_idempotent_and_keeps_the_evidence(
    world: World, factory: sessionmaker[Session]
) -> None:
    events = [fast_approach(), gap(), encounter(), loitering(), fast_approach()]
    assert store(factory, world, events) == 4  # the repeat in the same batch counts once
    assert store(factory, world, [gap(), fast_approach(), encounter()]) == 0
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(MaritimeAlert)) == 4
        row = db.scalar(select(MaritimeAlert).where(MaritimeAlert.type == "fast_approach"))
        assert row is not None
        assert (row.owner_org_id, row.marking, row.status) == (
            identity.get_org(db, "coastguard").id,
            "TLP:GREEN",
            "new",
        )
        assert row.start == datetime.fromtimestamp(T0 + 5 * HOUR, UTC)
        assert row.start.tzinfo is not None
        assert alerts.evidence_of(row)[2] == fast_approach().evidence[2].as_dict()
        assert alerts.measures_of(row) == {"cpa_nm": 0.21, "relative_speed_kn": 24.5}
        assert alerts.parameters_of(row)["cpa_nm"] == 1.0
    assert audit_actions(factory, alert_id(factory, gap())) == ["create:ok"]
    with factory.begin() as db:  # a key stored meanwhile by another worker is skipped
        org = identity.get_org(db, "coastguard").id
        assert alerts._insert_new(db, [alerts._row(gap(), org, "TLP:GREEN", None)]) == {}
    # another organisation storing the same event owns its own alert
    assert store(factory, world, [gap()], username="analyst") == 1


def test_store_refuses_bad_input(world: World, factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        with pytest.raises(ValidationFailed) as bad_type:
            alerts.store(db, world.actor("watch"), [AlertEvent("piracy", 1, T0, T0, 12, 43)])
        assert bad_type.value.field == "type"
        with pytest.raises(ValidationFailed) as red:
            alerts.store(db, world.actor("watch"), [gap()], marking="TLP:RED")
        assert red.value.field == "marking"
        with pytest.raises(Forbidden):
            alerts.store(db, world.actor("observer"), [gap()])  # a viewer cannot write
        with pytest.raises(ValidationFailed) as no_org:
            alerts.store(db, system_actor(), [gap()])
        assert no_org.value.field == "owner_org"
    with factory.begin() as db:  # the system pipeline names the owner
        org = identity.get_org(db, "coastguard").id
        assert alerts.store(db, system_actor(), [gap()], owner_org_id=org) == 1


def test_filters(world: World, factory: sessionmaker[Session]) -> None:
    store(factory, world, [fast_approach(), gap(), encounter(), loitering()])
    watch = world.actor("watch")
    with factory() as db:

        def types(**kw: object) -> list[str]:
            return [a.type for a in alerts.list_alerts(db, watch, **kw)]  # type: ignore[arg-type]

        assert types() == ["loitering", "encounter", "fast_approach", "ais_gap"]  # newest first
        assert types(type="encounter") == ["encounter"]
        since = datetime.fromtimestamp(T0 + 5 * HOUR, UTC)
        until = datetime.fromtimestamp(T0 + 20 * HOUR, UTC)
        assert types(since=since, until=until) == ["encounter", "fast_approach"]
        assert types(mmsi=DHOW) == ["encounter", "ais_gap"]
        assert types(mmsi=CARRIER) == ["loitering", "encounter"]  # either vessel
        assert types(status="dismissed") == []
        assert types(limit=1) == ["loitering"]
        assert alerts.count_alerts(db, watch, mmsi=DHOW) == 2
        for kw, name in (
            ({"type": "piracy"}, "type"),
            ({"status": "closed"}, "status"),
            ({"since": datetime(2026, 1, 15)}, "since"),
            ({"since": until, "until": since}, "until"),
        ):
            with pytest.raises(ValidationFailed) as err:
                alerts.list_alerts(db, watch, **kw)  # type: ignore[arg-type]
            assert err.value.field == name


# --- access ----------------------------------------------------------------------------------


def test_amber_alerts_stay_with_the_owner(
    world: World, factory: sessionmaker[Session], client: TestClient, cli_env: Settings
) -> None:
    store(factory, world, [fast_approach(), gap()], marking="TLP:AMBER")
    store(factory, world, [encounter()], marking="TLP:GREEN")
    amber = alert_id(factory, gap())
    green = alert_id(factory, encounter())
    with factory() as db:
        assert alerts.count_alerts(db, world.actor("watch")) == 3
        analyst = world.actor("analyst")
        assert [a.id for a in alerts.list_alerts(db, analyst)] == [green]
        assert alerts.count_alerts(db, analyst) == 1
        assert alerts.count_alerts(db, analyst, mmsi=DHOW) == 1
        with pytest.raises(NotFound):
            alerts.get_alert(db, analyst, amber)
        assert alerts.get_alert(db, analyst, green).type == "encounter"
        partner = world.actor("partner")  # GREEN reaches the community, here and abroad
        assert [a.id for a in alerts.list_alerts(db, partner)] == [green]
        observer = world.actor("observer")  # an organisation outside the community
        assert alerts.list_alerts(db, observer) == []
        assert alerts.count_alerts(db, observer) == 0
    with factory.begin() as db, pytest.raises(NotFound):
        alerts.escalate(db, world.actor("analyst"), amber)

    auth = token(factory, world, "analyst")
    listed = client.get("/api/v1/maritime/alerts", headers=auth)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()] == [green]
    assert listed.headers["X-Total-Count"] == "1"
    assert client.get(f"/api/v1/maritime/alerts/{amber}", headers=auth).status_code == 404
    assert (
        client.post(f"/api/v1/maritime/alerts/{amber}/acknowledge", headers=auth).status_code == 404
    )
    assert "access.refused:refused" in audit_actions(factory, amber)

    runner = CliRunner()
    result = runner.invoke(app, ["maritime", "alerts", "--json", "--as", "analyst"])
    assert result.exit_code == 0, result.output
    assert [a["id"] for a in json.loads(result.stdout)] == [green]
    owner = runner.invoke(app, ["maritime", "alerts", "--json", "--as", "watch"])
    assert len(json.loads(owner.stdout)) == 3


# --- workflow --------------------------------------------------------------------------------


def test_workflow_transitions_and_audit(world: World, factory: sessionmaker[Session]) -> None:
    store(factory, world, [gap(), encounter(), loitering()])
    first, second, third = (alert_id(factory, e) for e in (gap(), encounter(), loitering()))
    watch = world.actor("watch")
    with factory.begin() as db:
        acked = alerts.acknowledge(db, watch, first)
        assert (acked.status, acked.acknowledged_by) == ("acknowledged", watch.user_id)
        assert acked.acknowledged_at is not None
    with factory.begin() as db:
        with pytest.raises(Conflict):
            alerts.acknowledge(db, watch, first)
        for blank in ("", "   "):
            with pytest.raises(ValidationFailed) as err:
                alerts.dismiss(db, watch, first, blank)
            assert err.value.field == "reason"
        # other organisations and read-only roles cannot work the alert
        with pytest.raises(Forbidden):
            alerts.acknowledge(db, world.actor("analyst"), first)
        with pytest.raises(Forbidden):
            alerts.dismiss(db, world.actor("auditor"), first, "no")
    with factory.begin() as db:
        done = alerts.dismiss(db, watch, first, "  Fishing dhow, known to the coast guard. ")
        assert (done.status, done.status_reason) == (
            "dismissed",
            "Fishing dhow, known to the coast guard.",
        )
        assert done.decided_by == watch.user_id
    with factory.begin() as db:
        # straight from new to dismissed is allowed; final states stay final
        assert alerts.dismiss(db, watch, second, "Duplicate report").status == "dismissed"
    with factory.begin() as db:
        for call in (
            lambda: alerts.acknowledge(db, watch, first),
            lambda: alerts.dismiss(db, watch, first, "again"),
            lambda: alerts.escalate(db, watch, first),
        ):
            with pytest.raises(Conflict) as conflict:
                call()
            assert conflict.value.status == 409
    with factory.begin() as db:
        assert alerts.escalate(db, watch, third).status == "escalated"
    with factory.begin() as db, pytest.raises(Conflict):
        alerts.dismiss(db, watch, third, "changed my mind")
    assert audit_actions(factory, first) == ["create:ok", "acknowledge:ok", "dismiss:ok"]
    assert audit_actions(factory, third) == ["create:ok", "escalate:ok"]
    with factory() as db:
        entry = db.scalar(
            select(AuditEntry).where(
                AuditEntry.object_type == "maritime_alert",
                AuditEntry.object_id == str(first),
                AuditEntry.action == "dismiss",
            )
        )
        assert entry is not None and entry.before is not None and entry.after is not None
        assert json.loads(entry.before)["status"] == "acknowledged"
        assert json.loads(entry.after)["status"] == "dismissed"


# --- escalation ------------------------------------------------------------------------------


def test_escalation_creates_incident_vessels_and_draft(
    world: World, factory: sessionmaker[Session]
) -> None:
    watch = world.actor("watch")
    with factory.begin() as db:  # the tanker is already on record
        tanker, _ = registry.create_entity(
            db,
            watch,
            EntityIn(
                kind="vessel",
                names=[NameIn(name="SEA PRIDE", name_type="as_written")],
                identifiers=[IdentifierIn(kind="mmsi", value=str(TANKER))],
                marking="TLP:GREEN",
            ),
        )
    store(factory, world, [fast_approach()])
    aid = alert_id(factory, fast_approach())
    with factory.begin() as db:
        done = alerts.escalate(db, watch, aid, draft_report=True)
        assert done.status == "escalated" and done.incident_id and done.report_id
        incident_id, report_id = done.incident_id, done.report_id
    with factory() as db:
        incident = registry.get_incident(db, watch, incident_id)
        assert incident.marking == "TLP:GREEN"
        assert (incident.lat, incident.lon) == (12.61, 43.32)
        assert incident.event_date.isoformat() == "2026-01-15"
        assert incident.event_time == "08:00"  # 05:00 UTC in Asia/Aden
        assert str(SKIFF) in incident.title and str(TANKER) in incident.title
        assert incident.narrative_en and incident.narrative_ar
        assert "اقتراب سريع" in incident.narrative_ar
        roles = {i.entity_id: i.role for i in incident.involvements}
        assert roles[tanker.id] == "target"  # the existing record, not a new one
        skiff_id = registry.find_by_identifiers(
            db,
            watch,
            EntityIn(kind="vessel", identifiers=[IdentifierIn(kind="mmsi", value=str(SKIFF))]),
        )
        assert skiff_id is not None and roles[skiff_id] == "suspect"
        assert db.scalar(select(func.count()).select_from(Entity)) == 2
        report = intel.get_report(db, watch, report_id)
        assert report.status == "draft" and report.marking == "TLP:GREEN"
        assert {(o.kind, o.normalised) for o in report.observables} == {
            ("mmsi", str(SKIFF)),
            ("mmsi", str(TANKER)),
        }
        assert [(lk.object_type, lk.object_id) for lk in report.links] == [
            ("registry_incident", incident_id)
        ]
        # the owner reads the incident through the registry; an outsider does not
        assert registry.count_incidents(db, watch) == 1
        assert registry.count_incidents(db, world.actor("observer")) == 0
    assert audit_actions(factory, aid) == ["create:ok", "escalate:ok"]


def test_escalation_is_all_or_nothing(world: World, factory: sessionmaker[Session]) -> None:
    # an alert dated after today: the registry refuses the incident after the vessels
    # were created, and none of it may stay
    future = datetime.now(UTC).timestamp() + 3 * 86400
    event = fast_approach(start=future)
    store(factory, world, [event], marking="TLP:AMBER")
    aid = alert_id(factory, event)
    with factory.begin() as db:
        with pytest.raises(ValidationFailed) as err:
            alerts.escalate(db, world.actor("watch"), aid, draft_report=True)
        assert err.value.field == "event_date"
        # the caller's own unit of work is still usable and holds nothing of the escalation
        assert db.scalar(select(func.count()).select_from(Entity)) == 0
        assert alerts.get_alert(db, world.actor("watch"), aid).status == "new"
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Entity)) == 0
        row = db.get(MaritimeAlert, aid)
        assert row is not None and (row.status, row.incident_id) == ("new", None)
    assert audit_actions(factory, aid) == ["create:ok"]


# --- API -------------------------------------------------------------------------------------


def test_api_list_get_and_workflow(
    world: World, factory: sessionmaker[Session], client: TestClient
) -> None:
    store(factory, world, [fast_approach(), gap(), encounter()])
    auth = token(factory, world, "watch")
    listed = client.get(
        "/api/v1/maritime/alerts",
        params={"type": "fast_approach", "since": "2026-01-15T00:00:00Z"},
        headers=auth,
    )
    assert listed.status_code == 200, listed.text
    [row] = listed.json()
    assert set(row) == {
        "id",
        "type",
        "subtype",
        "mmsi",
        "other_mmsi",
        "start",
        "end",
        "lat",
        "lon",
        "severity",
        "zone",
        "status",
    }
    assert (row["mmsi"], row["other_mmsi"], row["start"], row["status"]) == (
        SKIFF,
        TANKER,
        "2026-01-15T05:00:00Z",
        "new",
    )
    by_mmsi = client.get("/api/v1/maritime/alerts", params={"mmsi": DHOW}, headers=auth).json()
    assert {a["type"] for a in by_mmsi} == {"ais_gap", "encounter"}
    one = client.get(f"/api/v1/maritime/alerts/{row['id']}", headers=auth).json()
    assert one["evidence"][0] == fast_approach().evidence[0].as_dict()
    assert one["parameters"]["cpa_nm"] == 1.0 and one["measures"]["cpa_nm"] == 0.21
    assert (one["marking"], one["owner_org"], one["key"]) == (
        "TLP:GREEN",
        "coastguard",
        fast_approach().key,
    )

    for params, name in (
        ({"since": "garbage"}, "since"),
        ({"until": "2026-01-15T00:00:00"}, "until"),
        ({"type": "unknown"}, "type"),
        ({"status": "closed"}, "status"),
        ({"mmsi": "abc"}, "mmsi"),
    ):
        bad = client.get("/api/v1/maritime/alerts", params=params, headers=auth)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["error"]["field"] == name
    assert client.get("/api/v1/maritime/alerts").status_code == 401

    gap_id = alert_id(factory, gap())
    base = f"/api/v1/maritime/alerts/{gap_id}"
    acked = client.post(f"{base}/acknowledge", headers=auth)
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "watch"
    assert client.post(f"{base}/acknowledge", headers=auth).status_code == 409
    empty = client.post(f"{base}/dismiss", json={"reason": " "}, headers=auth)
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "reason"
    missing = client.post(f"{base}/dismiss", json={}, headers=auth)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "reason"
    dismissed = client.post(f"{base}/dismiss", json={"reason": "Known dhow"}, headers=auth)
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["status_reason"] == "Known dhow"

    escalated = client.post(
        f"/api/v1/maritime/alerts/{row['id']}/escalate", json={"draft_report": True}, headers=auth
    )
    assert escalated.status_code == 200, escalated.text
    body = escalated.json()
    assert body["status"] == "escalated" and body["incident_id"] and body["report_id"]
    incident = client.get(f"/api/v1/incidents/{body['incident_id']}", headers=auth)
    assert incident.status_code == 200
    assert {i["role"] for i in incident.json()["involvements"]} == {"suspect", "target"}
    enc = alert_id(factory, encounter())
    plain = client.post(f"/api/v1/maritime/alerts/{enc}/escalate", headers=auth)
    assert plain.status_code == 200 and plain.json()["report_id"] is None
    # a liaison officer of another organisation sees the GREEN alert but cannot work it
    partner = token(factory, world, "partner")
    assert client.get(f"/api/v1/maritime/alerts/{enc}", headers=partner).status_code == 200
    assert client.post(f"{base}/acknowledge", headers=partner).status_code == 403


# --- CLI -------------------------------------------------------------------------------------


def test_cli_json_and_bad_options(
    world: World, factory: sessionmaker[Session], cli_env: Settings
) -> None:
    store(factory, world, [fast_approach(), gap(), encounter()])
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "maritime",
            "alerts",
            "--json",
            "--type",
            "fast_approach",
            "--since",
            "2026-01-15T00:00:00Z",
            "--until",
            "2026-01-16T00:00:00+00:00",
            "--as",
            "watch",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {
            "id": alert_id(factory, fast_approach()),
            "type": "fast_approach",
            "mmsi": SKIFF,
            "other_mmsi": TANKER,
            "start": "2026-01-15T05:00:00Z",
            "end": "2026-01-15T05:10:00Z",
            "lat": 12.61,
            "lon": 43.32,
            "severity": "critical",
            "zone": "bab-el-mandeb-tss",
        }
    ]
    every = json.loads(runner.invoke(app, ["maritime", "alerts", "--json"]).stdout)
    assert len(every) == 3  # the local system account sees every alert
    later = runner.invoke(app, ["maritime", "alerts", "--json", "--since", "2026-01-15T10:00Z"])
    assert [r["type"] for r in json.loads(later.stdout)] == ["encounter"]
    table = runner.invoke(app, ["maritime", "alerts", "--as", "watch"])
    assert table.exit_code == 0 and str(SKIFF) in table.stdout and "3 alerts" in table.stdout

    for args, words in (
        (["--since", "yesterday"], "--since"),
        (["--until", "2026-01-15T00:00:00"], "--until"),
        (["--type", "piracy"], "--type"),
        (["--as", "nobody"], "nobody"),
    ):
        bad = runner.invoke(app, ["maritime", "alerts", "--json", *args])
        assert bad.exit_code != 0, args
        assert words in bad.output and "Traceback" not in bad.output
        assert len(bad.output.strip().splitlines()) == 1, bad.output
