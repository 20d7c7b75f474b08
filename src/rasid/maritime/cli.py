"""``rasid maritime ingest | simulate | alerts``."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from rasid.core.cli_support import (
    AS_OPTION,
    err_console,
    fail,
    out_console,
    run,
    settings,
    unit_of_work,
)
from rasid.core.i18n import gettext as _

maritime_app = typer.Typer(
    help="Maritime watch: AIS ingest, alerts and the traffic simulator.", no_args_is_help=True
)


@maritime_app.command("ingest")
def ingest_command(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH...", help="NMEA files (plain or gzip) with !AIVDM/!AIVDO lines."
    ),
    json_summary: bool = typer.Option(
        False,
        "--json-summary",
        help="Print {received, decoded, quarantined, pending, quarantine_reasons, positions, "
        "vessels, alerts} as JSON.",
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Decode AIS files: positions to the daily Parquet store, vessels and bad lines to the database.

    Every line ends decoded or quarantined with a reason (received = decoded + quarantined
    + pending). Ingesting the same file again adds no duplicate.
    """
    from rasid.maritime import service

    for path in paths:
        if not path.is_file():
            fail(_("no such file: %(path)s") % {"path": path})
    cfg = settings()
    total = sum(p.stat().st_size for p in paths)

    def body() -> service.Summary:
        with (
            unit_of_work(as_user) as (db, actor),
            Progress(
                TextColumn(", ".join(p.name for p in paths)[:60], markup=False),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
                disable=not err_console.is_terminal,
            ) as bar,
        ):
            task = bar.add_task("ingest", total=total)
            return service.ingest(
                db,
                actor,
                paths,
                cfg.data_dir,
                progress=lambda n: bar.advance(task, n),
                alert_org=cfg.maritime_org,
            )

    summary = run(body)
    if summary.alerts_not_stored:
        err_console.print(
            _(
                "%(count)s alerts were detected but not stored: no organisation exists yet "
                "(create one, or ingest with --as USERNAME, then ingest the file again)."
            )
            % {"count": summary.alerts_not_stored},
            highlight=False,
            markup=False,
        )
    if json_summary:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.quarantine_reasons.items()))
    out_console.print(
        f"{summary.received} lines received, {summary.decoded} decoded, "
        f"{summary.quarantined} quarantined{f' ({reasons})' if reasons else ''}, "
        f"{summary.pending} pending; {summary.positions} positions, "
        f"{summary.vessels} vessels, {summary.alerts} alerts",
        highlight=False,
        markup=False,
    )


def _host_port(value: str, option: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        fail(_("%(option)s must be HOST:PORT (e.g. 127.0.0.1:10110)") % {"option": option})
    return host or "0.0.0.0", int(port)  # noqa: S104 - a UDP listener given only a port


@maritime_app.command("listen")
def listen_command(
    tcp: str | None = typer.Option(
        None, "--tcp", metavar="HOST:PORT", help="Connect to a TCP feed (reconnects with back-off)."
    ),
    udp: str | None = typer.Option(
        None, "--udp", metavar="[HOST:]PORT", help="Listen for UDP datagrams on this port."
    ),
    flush_seconds: float = typer.Option(
        5.0, "--flush-seconds", help="Process and store what arrived every N seconds."
    ),
    duration: float | None = typer.Option(
        None, "--duration", help="Stop after N seconds (default: run until Ctrl+C)."
    ),
    max_lines: int | None = typer.Option(
        None, "--max-lines", help="Stop after N lines have arrived."
    ),
    json_summary: bool = typer.Option(
        False, "--json-summary", help="Print the session's counts as JSON at the end."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Ingest a live AIS feed (TCP or UDP) through the same pipeline as files, until stopped.

    Bare !AIVDM lines are stamped with their arrival time; every line ends decoded or
    quarantined (a flood that outruns the pipeline is quarantined as "overflow"). Alerts
    are raised as the traffic arrives. Ctrl+C stops after storing what has arrived.
    """
    import threading

    from rasid.core.cli_support import session_factory
    from rasid.identity.service import actor_for_username
    from rasid.maritime import live

    if (tcp is None) == (udp is None):
        fail(_("give exactly one of --tcp HOST:PORT or --udp [HOST:]PORT"))
    cfg = settings()
    factory = session_factory()

    def setup() -> live.Feed:
        with factory() as db:
            actor = actor_for_username(db, as_user) if as_user else None
        from rasid.core.actor import system_actor

        source = f"tcp://{tcp}" if tcp else f"udp://{udp}"
        return live.Feed(
            factory, actor or system_actor(), cfg.data_dir, source, alert_org=cfg.maritime_org
        )

    feed = run(setup)
    stop = threading.Event()

    def status(text: str) -> None:
        err_console.print(text, highlight=False, markup=False)

    if tcp is not None:
        host, port = _host_port(tcp, "--tcp")

        def reader(ev: threading.Event) -> None:
            live.read_tcp(feed, host, port, ev, status=status)
    else:
        text = udp if udp is not None and ":" in udp else f":{udp}"
        host, port = _host_port(text, "--udp")
        sock = run(lambda: _open_udp(host, port))

        def reader(ev: threading.Event) -> None:
            live.read_udp(feed, sock, ev)

        status(f"listening on udp {host}:{port}")

    def on_batch(batch: object) -> None:
        total = feed.state.summary
        status(
            f"{total.received} lines, {total.decoded} decoded, {total.quarantined} quarantined, "
            f"{total.positions} positions, {total.alerts} alerts"
        )

    try:
        state = run(
            lambda: live.run(
                feed,
                reader,
                stop,
                flush_seconds=flush_seconds,
                max_lines=max_lines,
                duration=duration,
                on_batch=on_batch,
            )
        )
    except KeyboardInterrupt:
        stop.set()
        state = feed.state
    if json_summary:
        typer.echo(json.dumps(state.as_dict(), ensure_ascii=False, default=str))
        return
    s = state.summary
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.quarantine_reasons.items()))
    out_console.print(
        f"{state.source}: {s.received} lines received, {s.decoded} decoded, "
        f"{s.quarantined} quarantined{f' ({reasons})' if reasons else ''}, {s.pending} pending; "
        f"{s.positions} positions, {s.alerts} alerts; {state.connects} connections, "
        f"{state.batches} batches",
        highlight=False,
        markup=False,
    )


def _open_udp(host: str, port: int) -> socket.socket:
    from rasid.core.errors import ValidationFailed
    from rasid.maritime import live

    try:
        return live.open_udp(host, port)
    except OSError as exc:
        raise ValidationFailed(
            "Cannot listen on %(host)s:%(port)s (%(reason)s).",
            field="--udp",
            host=host,
            port=port,
            reason=str(exc),
        ) from exc


feeds_app = typer.Typer(
    help="Live feeds the server keeps connected (run them with `rasid maritime feeds run`).",
    no_args_is_help=True,
)
maritime_app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(
    name: str = typer.Argument(..., help="A short name, e.g. aden-receiver."),
    url: str = typer.Argument(..., help="tcp://HOST:PORT or udp://[HOST]:PORT"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Add a live feed (audited)."""
    from rasid.maritime import live

    def body() -> str:
        with unit_of_work(as_user) as (db, actor):
            return live.add_feed(db, actor, name, url).name

    out_console.print(f"feed {run(body)} added", highlight=False, markup=False)


@feeds_app.command("list")
def feeds_list(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    as_user: str | None = AS_OPTION,
) -> None:
    """The feeds and what each last reported."""
    from rasid.maritime import live

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            return [
                {
                    "name": f.name,
                    "url": f.url,
                    "enabled": f.enabled,
                    "status": f.status,
                    "connects": f.connects,
                    "received": f.received,
                    "decoded": f.decoded,
                    "quarantined": f.quarantined,
                    "alerts": f.alerts,
                    "last_line_at": f.last_line_at.isoformat() if f.last_line_at else None,
                    "last_error": f.last_error,
                }
                for f in live.list_feeds(db, actor)
            ]

    rows = run(body)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        out_console.print(
            f"{r['name']}  {r['url']}  {r['status']}  {r['received']} lines, "
            f"{r['quarantined']} quarantined, {r['alerts']} alerts"
            + (f"  ({r['last_error']})" if r["last_error"] else ""),
            highlight=False,
            markup=False,
        )


@feeds_app.command("run")
def feeds_run(
    flush_seconds: float = typer.Option(5.0, "--flush-seconds"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Keep every enabled feed connected (reconnecting with back-off) until Ctrl+C or SIGTERM;
    each feed's status and counts are on the page "Feeds and quarantine"."""
    import signal
    import threading

    from rasid.core.actor import system_actor
    from rasid.core.cli_support import session_factory
    from rasid.identity.service import actor_for_username
    from rasid.maritime import live

    cfg = settings()
    factory = session_factory()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def status(text: str) -> None:
        err_console.print(text, highlight=False, markup=False)

    def body() -> list[live.FeedState]:
        with factory() as db:
            actor = actor_for_username(db, as_user) if as_user else system_actor()
        return live.run_feeds(
            factory,
            actor,
            cfg.data_dir,
            stop,
            alert_org=cfg.maritime_org,
            flush_seconds=flush_seconds,
            status=status,
        )

    try:
        states = run(body)
    except KeyboardInterrupt:
        stop.set()
        return
    for state in states:
        s = state.summary
        out_console.print(
            f"{state.source}: {s.received} lines, {s.decoded} decoded, {s.quarantined} "
            f"quarantined, {s.alerts} alerts",
            highlight=False,
            markup=False,
        )


@maritime_app.command("demo-feed")
def demo_feed(
    port: int = typer.Option(10110, "--port", help="TCP port to serve the traffic on."),
    host: str = typer.Option("127.0.0.1", "--host"),
    scenario: str = typer.Option("red-sea-day", "--scenario"),
    hours: float = typer.Option(24.0, "--hours"),
    speed: float = typer.Option(1.0, "--speed", help="Faster than real time by this factor."),
    vessels: int = typer.Option(30, "--vessels"),
) -> None:
    """Serve simulated traffic starting now over TCP in real time (the demo's live feed)."""
    import signal
    import threading

    from rasid.maritime import live, simulate

    if scenario not in simulate.SCENARIOS:
        fail(_("--scenario must be one of: %(names)s") % {"names": ", ".join(simulate.SCENARIOS)})
    if speed <= 0:
        fail(_("--speed must be above 0"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    err_console.print(f"serving simulated AIS on tcp://{host}:{port}", highlight=False)
    try:
        sent = live.serve_simulation(
            host, port, stop, scenario=scenario, hours=hours, speed=speed, vessels_count=vessels
        )
    except OSError as exc:
        fail(f"cannot serve on {host}:{port} ({exc})")
    except KeyboardInterrupt:
        return
    out_console.print(f"{sent} lines sent", highlight=False, markup=False)


advisory_app = typer.Typer(
    help="Navigation security advisories (UKMTO/JMIC manner) drafted from incidents.",
    no_args_is_help=True,
)
maritime_app.add_typer(advisory_app, name="advisory")


@advisory_app.command("draft")
def advisory_draft(
    incident_id: int = typer.Argument(..., help="The registry incident it reports."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Draft an advisory from an incident; prints its id and the English text."""
    from rasid.maritime import advisories

    def body() -> tuple[int, str]:
        with unit_of_work(as_user) as (db, actor):
            a = advisories.draft_from_incident(db, actor, incident_id)
            return a.id, advisories.as_text(a, "en")

    advisory_id, text = run(body)
    out_console.print(f"advisory {advisory_id} drafted", highlight=False, markup=False)
    typer.echo(text)


@advisory_app.command("issue")
def advisory_issue(
    advisory_id: int = typer.Argument(...),
    marking: str = typer.Option("TLP:CLEAR", "--marking", help="TLP:CLEAR or TLP:GREEN."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Issue a draft advisory (it can no longer change)."""
    from rasid.maritime import advisories

    def body() -> str:
        with unit_of_work(as_user) as (db, actor):
            return advisories.issue(db, actor, advisory_id, marking).ref

    out_console.print(f"{run(body)} issued", highlight=False, markup=False)


@advisory_app.command("export")
def advisory_export(
    advisory_id: int = typer.Argument(...),
    lang: str = typer.Option("en", "--lang", help="ar or en."),
    fmt: str = typer.Option("text", "--format", help="text or pdf."),
    out: Path | None = typer.Option(None, "--out", help="Write here (needed for PDF)."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Print an advisory as text, or write it as PDF, in Arabic or English."""
    from rasid.maritime import advisories

    if lang not in ("ar", "en"):
        fail(_("--lang must be ar or en"))
    if fmt not in ("text", "pdf"):
        fail(_("--format must be text or pdf"))
    if fmt == "pdf" and out is None:
        fail(_("--format pdf needs --out FILE"))

    def body() -> bytes:
        from rasid.audit import service as audit

        with unit_of_work(as_user) as (db, actor):
            a = advisories.get_advisory(db, actor, advisory_id)
            audit.record(
                db,
                actor,
                "export",
                object_type="maritime_advisory",
                object_id=a.id,
                detail={"format": fmt, "lang": lang},
            )
            if fmt == "pdf":
                return advisories.as_pdf(a, lang)
            return advisories.as_text(a, lang).encode("utf-8")

    data = run(body)
    if out is not None:
        out.write_bytes(data)
        out_console.print(f"{out} written ({len(data)} bytes)", highlight=False, markup=False)
    else:
        typer.echo(data.decode("utf-8"), nl=False)


zones_app = typer.Typer(help="Zones users add beside the shipped ones.", no_args_is_help=True)
maritime_app.add_typer(zones_app, name="zones")


@zones_app.command("import")
def zones_import(
    path: Path = typer.Argument(..., help="A GeoJSON FeatureCollection or Feature."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Add the zones of a GeoJSON file (all or none; errors name the feature and field)."""
    from rasid.core.jsonfile import read_json
    from rasid.maritime import userzones

    def body() -> list[str]:
        obj = read_json(path)
        with unit_of_work(as_user) as (db, actor):
            return [z.zone_id for z in userzones.import_geojson(db, actor, obj)]

    ids = run(body)
    out_console.print(f"{len(ids)} zones added: {', '.join(ids)}", highlight=False, markup=False)


@zones_app.command("list")
def zones_list(
    as_json: bool = typer.Option(False, "--json"), as_user: str | None = AS_OPTION
) -> None:
    """The shipped zones and the users' zones."""
    from rasid.maritime import userzones

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            mine = {z.zone_id for z in userzones.list_zones(db, actor)}
            return [
                {
                    "id": z.id,
                    "name_en": z.name_en,
                    "name_ar": z.name_ar,
                    "kind": z.kind,
                    "watched": z.watched,
                    "added": z.id in mine,
                }
                for z in userzones.zones_for(db).zones
            ]

    rows = run(body)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        out_console.print(
            f"{r['id']}  {r['kind']}  {r['name_en']}" + ("  (added)" if r["added"] else ""),
            highlight=False,
            markup=False,
        )


@maritime_app.command("simulate")
def simulate_command(
    scenario: str = typer.Option(
        ..., "--scenario", help="normal, red-sea-day (every anomaly) or fast-approach."
    ),
    hours: float = typer.Option(24.0, "--hours", help="Hours of traffic."),
    out: Path = typer.Option(..., "--out", help="Where to write the NMEA lines."),
    truth: Path | None = typer.Option(
        None,
        "--truth",
        help="Where to write the planted anomalies: "
        "[{type, mmsi, other_mmsi, start, end, lat, lon}].",
    ),
    seed: int = typer.Option(1, "--seed", help="Same seed, same file."),
    rate: float = typer.Option(
        1.0,
        "--rate",
        help="Fraction of the ITU-R M.1371 position reports to keep (0 < rate <= 1).",
    ),
    vessels: int = typer.Option(30, "--vessels", help="Vessels in the lanes."),
    start: str | None = typer.Option(
        None, "--start", help="Start time, ISO 8601 (default 2026-01-15T00:00:00Z)."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Write simulated AIS traffic through the Red Sea, Bab el-Mandeb and the Gulf of Aden."""
    from rasid.maritime import simulate

    if scenario not in simulate.SCENARIOS:
        fail(_("--scenario must be one of: %(names)s") % {"names": ", ".join(simulate.SCENARIOS)})
    if not 0 < rate <= 1:
        fail(_("--rate must be above 0 and at most 1"))
    if hours <= 0:
        fail(_("--hours must be above 0"))
    begin = simulate.DEFAULT_START
    if start:
        try:
            begin = datetime.fromisoformat(start)
        except ValueError:
            fail(_("--start: %(value)s is not an ISO 8601 time") % {"value": start})
        if begin.tzinfo is None:
            fail(_("--start needs a time zone, e.g. 2026-01-15T00:00:00Z"))
    if as_user:
        with unit_of_work(as_user):
            pass
    count = simulate.write(
        out, scenario, hours, seed=seed, rate=rate, vessels=vessels, truth=truth, start=begin
    )
    out_console.print(f"{count} lines written to {out}", highlight=False, markup=False)


def _iso_option(name: str, value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        fail(_("%(name)s: %(value)s is not an ISO 8601 time") % {"name": name, "value": value})
    if parsed.tzinfo is None:
        fail(_("%(name)s needs a time zone, e.g. 2026-01-15T00:00:00Z.") % {"name": name})
    return parsed


@maritime_app.command("alerts")
def alerts_command(
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print a JSON array of {id, type, mmsi, other_mmsi, start, end, lat, lon, "
        "severity, zone} (times ISO 8601 UTC).",
    ),
    alert_type: str | None = typer.Option(
        None,
        "--type",
        help="ais_gap, encounter, loitering, spoofing, identity, zone_entry or fast_approach.",
    ),
    since: str | None = typer.Option(
        None, "--since", help="Alerts that started at or after this ISO 8601 time."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Alerts that started at or before this ISO 8601 time."
    ),
    status: str | None = typer.Option(
        None, "--status", help="new, acknowledged, escalated or dismissed."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """List the maritime alerts you may see, newest first."""
    from rasid.maritime import alerts
    from rasid.maritime.events import ALERT_TYPES

    if alert_type is not None and alert_type not in ALERT_TYPES:
        fail(_("--type must be one of: %(names)s") % {"names": ", ".join(ALERT_TYPES)})
    begin = _iso_option("--since", since)
    end = _iso_option("--until", until)

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            rows = alerts.list_alerts(
                db,
                actor,
                type=alert_type,
                since=begin,
                until=end,
                status=status,
                limit=None,
            )
            return [
                {
                    "id": a.id,
                    "type": a.type,
                    "mmsi": a.mmsi,
                    "other_mmsi": a.other_mmsi,
                    "start": alerts.iso_z(a.start),
                    "end": alerts.iso_z(a.end),
                    "lat": a.lat,
                    "lon": a.lon,
                    "severity": a.severity,
                    "zone": a.zone,
                    "subtype": a.subtype,
                    "status": a.status,
                }
                for a in rows
            ]

    rows = run(body)
    if as_json:
        keys = (
            "id",
            "type",
            "mmsi",
            "other_mmsi",
            "start",
            "end",
            "lat",
            "lon",
            "severity",
            "zone",
        )
        typer.echo(json.dumps([{k: r[k] for k in keys} for r in rows], ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=_("Maritime alerts"))
    for column in ("id", "type", "severity", "status", "MMSI", "start (UTC)", "zone"):
        table.add_column(column, overflow="fold")
    for r in rows:
        kind = f"{r['type']}/{r['subtype']}" if r["subtype"] else str(r["type"])
        vessels = str(r["mmsi"]) + ("" if r["other_mmsi"] is None else f" {r['other_mmsi']}")
        start = str(r["start"] or "").replace("T", " ").removesuffix(":00Z")
        table.add_row(
            str(r["id"]),
            kind,
            str(r["severity"]),
            str(r["status"]),
            vessels,
            start,
            str(r["zone"] or ""),
        )
    out_console.print(table)
    out_console.print(f"{len(rows)} alerts", highlight=False, markup=False)
