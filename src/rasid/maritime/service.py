"""File ingest: lines → decoder → Parquet positions, vessels, identity history, quarantine,
detectors → alerts.

Streaming: lines are read one at a time and handed on in batches, so memory grows with
the number of vessels, not with the file. One transaction per ``rasid maritime ingest``
(all files); positions reach their final Parquet place only when it commits. Ingesting
the same file again replaces its quarantine rows and Parquet parts (both keyed by the
file's SHA-256) and leaves vessels as they were, so it adds no duplicate.

The detectors (:class:`rasid.maritime.detectors.Engine`, the same engine the live feeds use)
see every fix and static report in the order the lines arrived; their events are stored as
alerts of the ingesting user's organisation when the run ends, keyed so that a second
ingest of the same file adds no duplicate alert.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import delete, func, insert, select
from sqlalchemy import update as update_
from sqlalchemy.orm import Session

from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Forbidden, ValidationFailed
from rasid.identity.models import Organisation
from rasid.maritime import alerts, csvin, nmea, userzones
from rasid.maritime.detectors import Engine
from rasid.maritime.events import AlertEvent
from rasid.maritime.mid import flag_of, mmsi_kind
from rasid.maritime.models import IngestRun, Quarantine, Vessel, VesselIdentity
from rasid.maritime.positions import PartitionWriter

BLOCK_BYTES = 1 << 20  # bytes read (and decoded, and handed over) at a time
IDENTITY_FIELDS = ("name", "call_sign", "imo", "ship_type")


@dataclass
class Summary:
    received: int = 0
    decoded: int = 0
    quarantined: int = 0
    pending: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    positions: int = 0
    vessels: int = 0
    alerts: int = 0
    alerts_not_stored: int = 0
    files: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "decoded": self.decoded,
            "quarantined": self.quarantined,
            "pending": self.pending,
            "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())),
            "positions": self.positions,
            "vessels": self.vessels,
            "alerts": self.alerts,
            **({"alerts_not_stored": self.alerts_not_stored} if self.alerts_not_stored else {}),
        }


def _when(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


def open_lines(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """(line stream, underlying file for progress): gzip is recognised by its magic bytes."""
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
        return stream, raw
    raw.seek(0)
    return raw, raw


def decoder_for(path: Path) -> nmea.Decoder | csvin.CsvDecoder:
    """NMEA, or decoded CSV in the NOAA or DMA layout (read from the first line)."""
    lines, underlying = open_lines(path)
    try:
        with lines:
            first = lines.readline(65536)
    finally:
        underlying.close()
    layout = csvin.sniff(first)
    return nmea.Decoder(require_time=True) if layout is None else csvin.CsvDecoder(layout)


@dataclass
class _VesselState:
    """What one ingest learned about one MMSI (applied to the database at the end)."""

    fix: nmea.Fix | None = None
    ais_class: str = ""
    identity: dict[str, Any] = field(default_factory=dict)  # latest static values
    identity_time: float | None = None
    changes: list[tuple[float | None, str, str, str, float | None, float | None]] = field(
        default_factory=list
    )
    loaded: bool = False


def _clean(text: Any) -> str:
    return str(text or "").replace("@", " ").strip()


def _static_fields(msg: nmea.Message) -> dict[str, Any]:
    f = msg.fields
    out: dict[str, Any] = {}
    part_a = msg.msg_type == 24 and f.get("partno") == 0
    part_b = msg.msg_type == 24 and f.get("partno") == 1
    if (msg.msg_type in (5, 19) or part_a) and _clean(f.get("shipname")):
        out["name"] = _clean(f.get("shipname"))
    if (msg.msg_type == 5 or part_b) and _clean(f.get("callsign")):
        out["call_sign"] = _clean(f.get("callsign"))
    if msg.msg_type == 5 and f.get("imo"):
        out["imo"] = int(f["imo"])
    if msg.msg_type in (5, 19) or part_b:
        if f.get("ship_type"):
            out["ship_type"] = int(f["ship_type"])
        bow, stern = f.get("to_bow") or 0, f.get("to_stern") or 0
        port, star = f.get("to_port") or 0, f.get("to_starboard") or 0
        if bow + stern:
            out["length_m"] = int(bow + stern)
        if port + star:
            out["beam_m"] = int(port + star)
    if msg.msg_type == 5:
        if f.get("draught"):
            out["draught_m"] = float(f["draught"])
        if _clean(f.get("destination")):
            out["destination"] = _clean(f.get("destination"))
    return out


def alert_owner(db: Session, actor: Actor, slug: str = "") -> int | None:
    """The organisation that owns the alerts of an ingest: the user's own; without ``--as``,
    ``RASID_MARITIME_ORG`` (``slug``), else the server's first organisation; None when the
    server has no organisation yet."""
    if actor.org_id is not None:
        return actor.org_id
    if slug:
        org_id = db.scalar(select(Organisation.id).where(Organisation.slug == slug))
        if org_id is None:
            raise ValidationFailed(
                "No organisation named %(slug)s.", field="RASID_MARITIME_ORG", slug=slug
            )
        return int(org_id)
    first = db.scalar(select(func.min(Organisation.id)))
    return None if first is None else int(first)


class Ingest:
    """One ingest run over several files, in the caller's transaction."""

    def __init__(
        self,
        db: Session,
        actor: Actor,
        data_dir: Path,
        progress: Callable[[int], None] | None = None,
        engine: Engine | None = None,
        alert_org: str = "",
    ) -> None:
        if not actor.can("write"):
            raise Forbidden(
                "Your roles do not allow this action (%(permission)s).", permission="write"
            )
        self.alert_owner = alert_owner(db, actor, alert_org)
        self.db = db
        self.actor = actor
        self.data_dir = data_dir
        self.progress = progress
        self.summary = Summary()
        self.vessels: dict[int, _VesselState] = {}
        self.writers: list[tuple[PartitionWriter, IngestRun]] = []
        self.runs: list[IngestRun] = []
        self.engine = engine if engine is not None else Engine(zones=userzones.zones_for(db))
        self.events: list[AlertEvent] = []

    # -- per file

    def ingest_file(self, path: Path) -> None:
        if not path.is_file():
            raise ValidationFailed("No such file: %(path)s", field="PATH", path=str(path))
        db = self.db
        run = IngestRun(source=str(path)[:500], user_id=self.actor.user_id)
        db.add(run)
        db.flush()
        self.runs.append(run)
        writer = PartitionWriter(self.data_dir)
        self.writers.append((writer, run))
        digest = hashlib.sha256()
        decoder = decoder_for(path)
        lines, underlying = open_lines(path)
        last_pos = 0
        line_no = 0  # lines fed so far
        try:
            with lines:
                rest = b""
                while chunk := lines.read(BLOCK_BYTES):
                    digest.update(chunk)
                    if rest:
                        chunk = rest + chunk
                    cut = chunk.rfind(b"\n") + 1
                    if not cut:  # no line end yet: a line longer than a block
                        rest = chunk
                        continue
                    rest = chunk[cut:]
                    line_no += decoder.feed_block(chunk[:cut], line_no + 1)
                    self._drain(decoder, writer, run, str(path))
                    if self.progress is not None:
                        pos = underlying.tell()
                        self.progress(pos - last_pos)
                        last_pos = pos
                if rest:
                    line_no += decoder.feed_block(rest, line_no + 1)
                decoder.flush()
                self._drain(decoder, writer, run, str(path))
        finally:
            underlying.close()
        if self.progress is not None:
            self.progress(path.stat().st_size - last_pos)
        self._close_run(run, writer, decoder.counts, digest.hexdigest())

    def ingest_lines(
        self,
        decoder: nmea.Decoder,
        lines: list[tuple[int, bytes]],
        source: str,
        *,
        refused: Sequence[tuple[int, bytes, str]] = (),
        end: bool = False,
    ) -> None:
        """One batch of a live feed, through the feed's own ``decoder`` (kept across batches,
        so a message split over two batches is reassembled, and its counts go on growing):
        this batch's counts are the difference. ``refused``: (line number, line, reason) of
        lines quarantined undecoded (a flooded buffer); ``end``: the feed ends here (parts
        still waiting become orphans)."""
        db = self.db
        before = decoder.counts.copy()
        run = IngestRun(source=source[:500], user_id=self.actor.user_id)
        db.add(run)
        db.flush()
        self.runs.append(run)
        writer = PartitionWriter(self.data_dir)
        self.writers.append((writer, run))
        digest = hashlib.sha256(f"{source}\n{run.id}\n".encode())
        for line_no, line, reason in refused:
            digest.update(line)
            decoder.refuse(line, line_no, reason)
        for line_no, line in lines:
            digest.update(line)
            decoder.feed(line, line_no)
        if end:
            decoder.flush()
        self._drain(decoder, writer, run, source)
        self._close_run(run, writer, decoder.counts.minus(before), digest.hexdigest())

    def _close_run(self, run: IngestRun, writer: PartitionWriter, c: nmea.Counts, sha: str) -> None:
        db = self.db
        run.source_sha256 = sha
        db.execute(update_(Quarantine).where(Quarantine.run_id == run.id).values(source_sha256=sha))
        db.execute(
            delete(Quarantine).where(Quarantine.source_sha256 == sha, Quarantine.run_id != run.id)
        )
        run.received, run.decoded, run.quarantined = c.received, c.decoded, c.quarantined
        run.pending, run.ignored, run.messages = c.pending, c.ignored, c.messages
        run.positions = writer.rows + writer.buffered
        run.reasons = json.dumps(dict(sorted(c.reasons.items())))
        run.finished_at = utcnow()
        s = self.summary
        s.files += 1
        s.received += c.received
        s.decoded += c.decoded
        s.quarantined += c.quarantined
        s.pending += c.pending
        for reason, n in c.reasons.items():
            s.quarantine_reasons[reason] = s.quarantine_reasons.get(reason, 0) + n
        s.positions += run.positions

    def _drain(
        self,
        decoder: nmea.Decoder | csvin.CsvDecoder,
        writer: PartitionWriter,
        run: IngestRun,
        source: str,
    ) -> None:
        fixes, messages, quarantined, columns = decoder.take_block()
        if fixes:
            writer.add(columns)
            vessels = self.vessels
            for fix in fixes:
                state = vessels.get(fix.mmsi)
                if state is None:
                    state = vessels[fix.mmsi] = _VesselState()
                    state.ais_class = "B" if fix.msg_type in (18, 19) else "A"
                    state.fix = fix
                    continue
                old = state.fix
                if old is None or (fix.time or 0) >= (old.time or 0):
                    state.fix = fix
                if not state.ais_class:
                    state.ais_class = "B" if fix.msg_type in (18, 19) else "A"
        for msg in messages:
            self._static(msg, run)
        self._detect(fixes, messages)
        if quarantined:
            self.db.execute(
                insert(Quarantine),
                [
                    {
                        "run_id": run.id,
                        "source": source[:500],
                        "line_no": q.line_no,
                        "reason": q.reason,
                        "detail": q.detail[:200],
                        "raw": q.raw,
                        "message_time": _when(q.time),
                    }
                    for q in quarantined
                ],
            )

    def _detect(self, fixes: list[nmea.Fix], messages: list[nmea.Message]) -> None:
        """Feed the detectors in arrival (line) order, as a live feed would."""
        self.events += self.engine.feed(fixes, messages)

    def _static(self, msg: nmea.Message, run: IngestRun) -> None:
        values = _static_fields(msg)
        state = self.vessels.get(msg.mmsi)
        if state is None:
            state = self.vessels[msg.mmsi] = _VesselState()
        if msg.msg_type in (5,):
            state.ais_class = state.ais_class or "A"
        elif msg.msg_type in (19, 24):
            state.ais_class = state.ais_class or "B"
        if not values:
            return
        if not state.loaded:
            self._load_identity(msg.mmsi, state)
        if (
            state.identity_time is not None
            and msg.time is not None
            and msg.time < state.identity_time
        ):
            return  # older than what we know: not a change
        fix = state.fix
        for key in IDENTITY_FIELDS:
            if key in values:
                old = state.identity.get(key)
                new = values[key]
                if old != new:
                    state.changes.append(
                        (
                            msg.time,
                            key,
                            "" if old is None else str(old),
                            str(new),
                            fix.lat if fix else None,
                            fix.lon if fix else None,
                        )
                    )
        state.identity.update(values)
        if msg.time is not None:
            state.identity_time = msg.time

    def _load_identity(self, mmsi: int, state: _VesselState) -> None:
        state.loaded = True
        row = self.db.scalar(select(Vessel).where(Vessel.mmsi == mmsi))
        if row is None:
            return
        state.identity = {
            "name": row.name or None,
            "call_sign": row.call_sign or None,
            "imo": row.imo,
            "ship_type": row.ship_type,
        }
        state.identity = {k: v for k, v in state.identity.items() if v is not None}
        if row.identity_at is not None:
            state.identity_time = row.identity_at.timestamp()

    # -- the end

    def finish(self, *, final: bool = True, event_time: float | None = None) -> Summary:
        """Write vessels and alerts. ``final`` (files): the detectors close what is still
        open; a live batch instead moves event time on to ``event_time`` (raising ongoing
        gaps)."""
        db = self.db
        mmsis = list(self.vessels)
        existing: dict[int, Vessel] = {}
        for i in range(0, len(mmsis), 500):
            for row in db.scalars(select(Vessel).where(Vessel.mmsi.in_(mmsis[i : i + 500]))):
                existing[row.mmsi] = row
        run_id = self.runs[-1].id if self.runs else None
        now = utcnow()
        for mmsi, state in self.vessels.items():
            vessel = existing.get(mmsi)
            if vessel is None:
                vessel = Vessel(
                    mmsi=mmsi, mmsi_kind=mmsi_kind(mmsi), flag=flag_of(mmsi), first_seen=now
                )
                db.add(vessel)
                db.flush()
                if vessel.flag:
                    first = state.fix.time if state.fix else state.identity_time
                    db.add(
                        VesselIdentity(
                            vessel_id=vessel.id,
                            observed_at=_when(first),
                            field="flag",
                            new_value=vessel.flag,
                            run_id=run_id,
                        )
                    )
            if state.ais_class and not vessel.ais_class:
                vessel.ais_class = state.ais_class
            fix = state.fix
            fix_at = _when(fix.time) if fix else None
            if (
                fix is not None
                and fix_at is not None
                and (vessel.fix_at is None or fix_at >= vessel.fix_at)
            ):
                vessel.lat, vessel.lon, vessel.sog, vessel.cog = fix.lat, fix.lon, fix.sog, fix.cog
                vessel.heading, vessel.nav_status, vessel.fix_at = fix.heading, fix.status, fix_at
            ident = state.identity
            if state.identity_time is not None or ident:
                for key in ("name", "call_sign", "destination"):
                    if key in ident:
                        setattr(vessel, key, str(ident[key])[:40])
                for key in ("imo", "ship_type", "length_m", "beam_m", "draught_m"):
                    if key in ident:
                        setattr(vessel, key, ident[key])
                at = _when(state.identity_time)
                if at is not None and (vessel.identity_at is None or at >= vessel.identity_at):
                    vessel.identity_at = at
            for when, key, old, new, lat, lon in state.changes:
                db.add(
                    VesselIdentity(
                        vessel_id=vessel.id,
                        observed_at=_when(when),
                        field=key,
                        old_value=old[:60],
                        new_value=new[:60],
                        lat=lat,
                        lon=lon,
                        run_id=run_id,
                    )
                )
            vessel.updated_at = now
        self.summary.vessels = len(self.vessels)
        db.flush()
        if final:
            self.events += self.engine.finish()
        elif event_time is not None:
            self.events += self.engine.advance(event_time)
        if self.alert_owner is None:
            # No organisation exists yet to own them: counted and reported, not stored;
            # ingesting the file again once one exists stores them (by their keys).
            self.summary.alerts_not_stored = len({event.key for event in self.events})
        else:
            self.summary.alerts = alerts.store(
                db, self.actor, self.events, run_id=run_id, owner_org_id=self.alert_owner
            )
        audit.record(
            db,
            self.actor,
            "import",
            object_type="maritime_ingest_run",
            object_id=run_id,
            detail={
                "files": [r.source for r in self.runs],
                "sha256": [r.source_sha256 for r in self.runs],
                **self.summary.as_dict(),
            },
        )
        return self.summary

    def commit_positions(self) -> None:
        for writer, run in self.writers:
            writer.commit(run.source_sha256[:16])

    def abort(self) -> None:
        for writer, _run in self.writers:
            writer.abort()


def ingest(
    db: Session,
    actor: Actor,
    paths: list[Path],
    data_dir: Path,
    progress: Callable[[int], None] | None = None,
    *,
    alert_org: str = "",
) -> Summary:
    """Ingest files in the caller's transaction and return the summary.

    The Parquet parts are moved into place at the very end (after every database write
    has been flushed); on any error they are removed. Should the final commit itself
    fail, the parts of those files stay, and ingesting the files again replaces them."""
    run = Ingest(db, actor, data_dir, progress, alert_org=alert_org)
    try:
        with batch_gc():
            for path in paths:
                run.ingest_file(path)
        summary = run.finish()
    except BaseException:
        run.abort()
        raise
    run.commit_positions()
    return summary


@contextmanager
def batch_gc(threshold: int = 200_000) -> Iterator[None]:
    """The cyclic garbage collector tuned for a long batch of short-lived tuples: what
    exists before the batch (modules, the ORM's registries …) is frozen out of its scans,
    and it runs after every ``threshold`` allocations instead of 700. Reference counting
    still frees every fix and line as soon as it is dropped; only cycles wait longer."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
