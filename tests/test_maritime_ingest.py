"""`rasid maritime ingest`: vessels, identity history, quarantine, Parquet positions, audit,
idempotence, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.actor import Actor
from rasid.core.errors import Forbidden
from rasid.core.settings import Settings
from rasid.maritime import positions, service, simulate
from rasid.maritime.models import IngestRun, Quarantine, Vessel, VesselIdentity

CORPUS = Path(__file__).parent / "data" / "ais" / "gpsd-sample.aivdm"


@pytest.fixture(scope="module")
def sim_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    folder = tmp_path_factory.mktemp("sim")
    out, truth = folder / "day.nmea", folder / "truth.json"
    simulate.write(out, "red-sea-day", 12, seed=7, rate=0.05, vessels=6, truth=truth)
    return out, json.loads(truth.read_text())


def _ingest(
    factory: sessionmaker[Session], actor: Actor, paths: list[Path], data_dir: Path
) -> service.Summary:
    with factory.begin() as db:
        return service.ingest(db, actor, paths, data_dir)


def test_ingest_twice_adds_no_duplicate(
    factory: sessionmaker[Session],
    system: Actor,
    settings: Settings,
    sim_file: tuple[Path, list[dict[str, object]]],
    tmp_path: Path,
) -> None:
    path, truth = sim_file
    noisy = tmp_path / "noisy.nmea.gz"
    bad = [b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4B", b"\x00\x01garbage"]
    noisy.write_bytes(gzip.compress(path.read_bytes() + b"\n".join(bad) + b"\n"))
    first = _ingest(factory, system, [path, noisy], settings.data_dir)
    assert first.received == first.decoded + first.quarantined + first.pending
    assert first.quarantine_reasons == {"bad_checksum": 1, "binary_garbage": 1}
    stored, distinct = positions.count(settings.data_dir)
    # two different files holding the same fixes: both stored, queries count them once
    assert stored == first.positions and distinct == first.positions // 2
    with factory() as db:
        vessels = db.scalar(select(func.count()).select_from(Vessel))
        identities = db.scalar(select(func.count()).select_from(VesselIdentity))
        assert db.scalar(select(func.count()).select_from(Quarantine)) == 2
    second = _ingest(factory, system, [noisy], settings.data_dir)
    assert second.quarantined == 2
    assert positions.count(settings.data_dir) == (stored, distinct)
    with factory() as db:
        assert db.scalar(select(func.count()).select_from(Vessel)) == vessels == first.vessels
        assert db.scalar(select(func.count()).select_from(VesselIdentity)) == identities
        assert db.scalar(select(func.count()).select_from(Quarantine)) == 2
        assert db.scalar(select(func.count()).select_from(IngestRun)) == 3
        audits = db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "maritime_ingest_run")
        ).all()
        assert len(audits) == 2 and all(a.action == "import" for a in audits)
        # the identity change at sea is in the history, with the new name
        (planted,) = [t for t in truth if t["type"] == "identity"]
        vessel = db.scalar(select(Vessel).where(Vessel.mmsi == planted["mmsi"]))
        assert vessel is not None and vessel.name.startswith("NEW ")
        names = db.scalars(
            select(VesselIdentity.new_value)
            .where(VesselIdentity.vessel_id == vessel.id, VesselIdentity.field == "name")
            .order_by(VesselIdentity.observed_at)
        ).all()
        assert len(names) == 2 and names[1] == vessel.name
        assert vessel.flag and vessel.fix_at is not None and vessel.ais_class == "A"


def test_track_query_and_vessel_state(
    factory: sessionmaker[Session],
    system: Actor,
    settings: Settings,
    sim_file: tuple[Path, list[dict[str, object]]],
) -> None:
    path, truth = sim_file
    _ingest(factory, system, [path], settings.data_dir)
    (skiff,) = [t for t in truth if t["type"] == "fast_approach"]
    mmsi = int(str(skiff["other_mmsi"]))
    start = datetime(2026, 1, 15, tzinfo=UTC)
    rows = positions.track(settings.data_dir, mmsi, start, datetime(2026, 1, 16, tzinfo=UTC))
    assert len(rows) > 5
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert {r["mmsi"] for r in rows} == {mmsi}
    with factory() as db:
        vessel = db.scalar(select(Vessel).where(Vessel.mmsi == mmsi))
        assert vessel is not None
        assert vessel.fix_at == rows[-1]["time"]
        assert (vessel.lat, vessel.lon) == (rows[-1]["lat"], rows[-1]["lon"])


def test_ingest_needs_write_permission(
    factory: sessionmaker[Session], settings: Settings, sim_file: tuple[Path, object]
) -> None:
    viewer = Actor(user_id=99, username="v", org_id=None, roles=frozenset({"viewer"}), via="cli")
    with pytest.raises(Forbidden), factory.begin() as db:
        service.ingest(db, viewer, [sim_file[0]], settings.data_dir)


def test_cli_ingest_json_summary_and_simulate(cli_env: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    out, truth = tmp_path / "fa.nmea", tmp_path / "fa.json"
    result = runner.invoke(
        app,
        [
            "maritime",
            "simulate",
            "--scenario",
            "fast-approach",
            "--hours",
            "2",
            "--out",
            str(out),
            "--truth",
            str(truth),
            "--seed",
            "3",
            "--rate",
            "0.1",
            "--vessels",
            "4",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert [t["type"] for t in json.loads(truth.read_text())] == ["fast_approach"]
    result = runner.invoke(app, ["maritime", "ingest", str(out), str(CORPUS), "--json-summary"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {
        "received",
        "decoded",
        "quarantined",
        "pending",
        "quarantine_reasons",
        "positions",
        "vessels",
        "alerts",
    }
    assert summary["received"] == summary["decoded"] + summary["quarantined"] + summary["pending"]
    assert summary["alerts"] == 0 and summary["positions"] > 0
    # the GPSD corpus has no timestamps: its position reports are quarantined as such
    assert summary["quarantine_reasons"]["no_timestamp"] > 0
    result = runner.invoke(app, ["maritime", "ingest", str(tmp_path / "missing.nmea")])
    assert result.exit_code == 1 and "missing.nmea" in result.stderr
    result = runner.invoke(app, ["maritime", "simulate", "--scenario", "nope", "--out", str(out)])
    assert result.exit_code == 1


def test_cli_ingest_raises_the_detectors_alerts_once(
    world: object, cli_env: Settings, tmp_path: Path
) -> None:
    """File replay: the ingest runs the detectors and stores their alerts for the watch."""
    from rasid.maritime import nmea
    from rasid.maritime.detectors import detect

    out, truth_file = tmp_path / "day.nmea", tmp_path / "truth.json"
    simulate.write(out, "red-sea-day", 20, seed=7, rate=0.25, vessels=8, truth=truth_file)
    decoder = nmea.Decoder(require_time=True)
    for i, line in enumerate(out.read_bytes().splitlines(), 1):
        decoder.feed(line, i)
    decoder.flush()
    fixes, messages, _ = decoder.take()
    expected = {ev.key for ev in detect(sorted([*fixes, *messages], key=lambda x: x.line_no))}
    runner = CliRunner()
    first = runner.invoke(app, ["maritime", "ingest", str(out), "--json-summary", "--as", "watch"])
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["alerts"] == len(expected) > 0
    listed = runner.invoke(app, ["maritime", "alerts", "--json", "--as", "watch"])
    rows = json.loads(listed.stdout)
    truth_types = {t["type"] for t in json.loads(truth_file.read_text())}
    assert len(rows) == len(expected) and truth_types <= {r["type"] for r in rows}
    again = runner.invoke(app, ["maritime", "ingest", str(out), "--json-summary", "--as", "watch"])
    assert json.loads(again.stdout)["alerts"] == 0
    relisted = runner.invoke(app, ["maritime", "alerts", "--json", "--as", "watch"])
    assert len(json.loads(relisted.stdout)) == len(expected)
    # GREEN by default: the observer mission (outside the community) sees none of them
    hidden = runner.invoke(app, ["maritime", "alerts", "--json", "--as", "observer"])
    assert json.loads(hidden.stdout) == []


def test_ingest_without_any_organisation_counts_alerts_it_cannot_store(
    cli_env: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "fa.nmea"
    simulate.write(out, "fast-approach", 2, seed=3, rate=0.5, vessels=4)
    result = CliRunner().invoke(app, ["maritime", "ingest", str(out), "--json-summary"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["alerts"] == 0 and summary["alerts_not_stored"] >= 1
    assert "not stored" in result.stderr or "لم تُحفظ" in result.stderr


def test_decoded_csv_in_the_noaa_and_dma_layouts(
    world: object, cli_env: Settings, factory: sessionmaker[Session]
) -> None:
    data = Path(__file__).parent / "data" / "ais"
    runner = CliRunner()
    noaa = runner.invoke(
        app,
        ["maritime", "ingest", str(data / "noaa-sample.csv"), "--json-summary", "--as", "watch"],
    )
    assert noaa.exit_code == 0, noaa.stderr
    s = json.loads(noaa.stdout)
    assert (s["received"], s["decoded"], s["quarantined"], s["pending"]) == (7, 4, 3, 0)
    assert s["quarantine_reasons"] == {"impossible_value": 1, "malformed": 2}
    assert (s["positions"], s["vessels"]) == (4, 2)
    dma = runner.invoke(
        app,
        ["maritime", "ingest", str(data / "dma-sample.csv"), "--json-summary", "--as", "watch"],
    )
    s = json.loads(dma.stdout)
    assert (s["received"], s["decoded"], s["quarantined"]) == (5, 3, 2)
    assert s["quarantine_reasons"] == {"malformed": 1, "unsupported_type": 1}
    with factory() as db:
        tug = db.scalar(select(Vessel).where(Vessel.mmsi == 367596940))
        tanker = db.scalar(select(Vessel).where(Vessel.mmsi == 219000431))
        yacht = db.scalar(select(Vessel).where(Vessel.mmsi == 338127456))
        assert tug is not None and tanker is not None and yacht is not None
        assert (tug.name, tug.call_sign, tug.imo, tug.ship_type) == (
            "ENDURANCE",
            "WDH5826",
            9229221,
            31,
        )
        assert (tanker.name, tanker.ship_type, tanker.destination) == (
            "ARCTIC SUNRISE",
            80,
            "COPENHAGEN",
        )
        assert (yacht.name, yacht.ais_class, yacht.ship_type) == ("SEA FOX", "B", 37)
        reasons = {
            (q.line_no, q.reason): q.detail
            for q in db.scalars(select(Quarantine).where(Quarantine.source.like("%noaa%")))
        }
        assert "LAT 95.0" in reasons[(6, "impossible_value")]
        assert "BaseDateTime" in reasons[(7, "malformed")]
        assert "columns" in reasons[(8, "malformed")]
