"""Live feeds: TCP with a disconnection and reconnection, UDP, a flood, and live = replay."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.cli import app
from rasid.core.settings import Settings
from rasid.maritime import live, nmea, service, simulate
from rasid.maritime.models import MaritimeAlert, Quarantine
from tests.conftest import World


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    out = tmp_path_factory.mktemp("live") / "day.nmea"
    simulate.write(out, "red-sea-day", 20, seed=7, rate=0.25, vessels=8)
    return out.read_bytes().splitlines()


class TcpFeed:
    """A loopback AIS server: sends the first part, cuts mid-line and closes; sends the
    rest to the next connection."""

    def __init__(self, first: list[bytes], cut: bytes, rest: list[bytes]) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.parts = [b"\n".join(first) + b"\n" + cut, b"\n".join(rest) + b"\n"]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.server:
            for part in self.parts:
                conn, _ = self.server.accept()
                with conn:
                    conn.sendall(part)


def _alert_keys(factory: sessionmaker[Session]) -> set[str]:
    with factory() as db:
        return set(db.scalars(select(MaritimeAlert.key)))


def test_tcp_feed_reconnects_counts_every_line_and_raises_the_replay_alerts(
    world: World,
    factory: sessionmaker[Session],
    settings: Settings,
    day: list[bytes],
    tmp_path: Path,
) -> None:
    half = len(day) // 2
    cut = day[half][:20]  # the connection drops in the middle of this line
    server = TcpFeed(day[:half], cut, day[half:])
    feed = live.Feed(factory, world.actor("watch"), settings.data_dir, f"tcp://{server.port}")
    stop = threading.Event()
    state = live.run(
        feed,
        lambda ev: live.read_tcp(feed, "127.0.0.1", server.port, ev, backoff_start=0.1),
        stop,
        flush_seconds=0.2,
        flush_lines=3000,
        max_lines=len(day) + 1,
    )
    s = state.summary
    assert state.connects == 2 and state.disconnects >= 1 and state.batches > 2
    assert s.received == len(day) + 1 == s.decoded + s.quarantined + s.pending
    # the cut line (its tag block unterminated) is the one line quarantined
    assert s.quarantine_reasons == {"malformed": 1} and s.pending == 0
    live_keys = _alert_keys(factory)
    assert live_keys and s.alerts == len(live_keys)
    # the same lines from a file, for another organisation: the same alerts
    path = tmp_path / "day.nmea"
    path.write_bytes(b"\n".join(day) + b"\n")
    with factory.begin() as db:
        replay = service.ingest(db, world.actor("analyst"), [path], settings.data_dir)
    with factory() as db:
        analyst_org = world.actor("analyst").org_id
        replay_keys = set(
            db.scalars(select(MaritimeAlert.key).where(MaritimeAlert.owner_org_id == analyst_org))
        )
    assert replay.alerts == len(replay_keys)
    assert replay_keys == live_keys


def test_udp_feed_and_a_flood_are_counted_line_by_line(
    world: World, factory: sessionmaker[Session], settings: Settings, day: list[bytes]
) -> None:
    sock = live.open_udp("127.0.0.1", 0)
    port = sock.getsockname()[1]
    feed = live.Feed(
        factory, world.actor("watch"), settings.data_dir, f"udp://:{port}", max_buffer=300
    )
    lines = day[:1000]
    stop = threading.Event()

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for start in range(0, len(lines), 10):  # ten lines a datagram
                out.sendto(b"\n".join(lines[start : start + 10]) + b"\n", ("127.0.0.1", port))

    reader = threading.Thread(target=live.read_udp, args=(feed, sock, stop), daemon=True)
    reader.start()
    send()  # faster than a 300-line buffer that is never flushed meanwhile: a flood
    for _ in range(200):
        if feed.offered >= len(lines):
            break
        stop.wait(0.02)
    stop.set()
    reader.join()
    feed.flush(final=True)
    s = feed.state.summary
    assert feed.offered == len(lines) == s.received
    assert s.received == s.decoded + s.quarantined + s.pending
    assert s.quarantine_reasons.get(nmea.OVERFLOW) == len(lines) - 300
    with factory() as db:
        kept = db.scalar(
            select(func.count()).select_from(Quarantine).where(Quarantine.reason == "overflow")
        )
    assert kept == len(lines) - 300


def test_bare_sentences_get_their_arrival_time() -> None:
    stamped = live.stamp(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", 1_768_435_200.5)
    assert stamped.startswith(b"2026-01-15T00:00:00.500000Z !AIVDM")
    tagged = b"\\c:1768435200*5C\\!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
    assert live.stamp(tagged, 0.0) == tagged


def test_cli_listen_refuses_bad_options(cli_env: Settings) -> None:
    runner = CliRunner()
    both = runner.invoke(app, ["maritime", "listen", "--tcp", "a:1", "--udp", "2"])
    assert both.exit_code == 1 and "--tcp" in both.stderr
    bad = runner.invoke(app, ["maritime", "listen", "--tcp", "nohost"])
    assert bad.exit_code == 1 and "HOST:PORT" in bad.stderr


def test_cli_listen_tcp_json_summary(world: World, cli_env: Settings, day: list[bytes]) -> None:
    server = TcpFeed(day[:200], b"", day[200:400])
    result = CliRunner().invoke(
        app,
        [
            "maritime",
            "listen",
            "--tcp",
            f"127.0.0.1:{server.port}",
            "--max-lines",
            "400",
            "--flush-seconds",
            "0.2",
            "--json-summary",
            "--as",
            "watch",
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["source"] == f"tcp://127.0.0.1:{server.port}"
    assert summary["received"] == 400 == summary["decoded"] + summary["quarantined"]


def test_feeds_are_configured_run_and_report_their_status(
    world: World, factory: sessionmaker[Session], settings: Settings, day: list[bytes]
) -> None:
    from rasid.core.errors import Conflict, ValidationFailed
    from rasid.maritime.models import MaritimeFeed

    server = TcpFeed(day[:300], b"", [])
    with factory.begin() as db:
        for bad in ("http://x:1", "tcp://:1", "tcp://host:0", "udp://host"):
            with pytest.raises(ValidationFailed) as refused:
                live.add_feed(db, world.actor("watch"), "bad", bad)
            assert refused.value.field == "url"
        live.add_feed(db, world.actor("watch"), "Aden", f"tcp://127.0.0.1:{server.port}")
        with pytest.raises(Conflict):
            live.add_feed(db, world.actor("watch"), "aden", "udp://:10111")
    stop = threading.Event()
    done = threading.Thread(
        target=lambda: live.run_feeds(
            factory, world.actor("watch"), settings.data_dir, stop, flush_seconds=0.1
        ),
        daemon=True,
    )
    done.start()
    for _ in range(200):
        with factory() as db:
            row = db.scalar(select(MaritimeFeed))
            if row is not None and row.received >= 300:
                break
        stop.wait(0.05)
    stop.set()
    done.join(timeout=10)
    with factory() as db:
        row = db.scalar(select(MaritimeFeed))
        assert row is not None
        assert (row.name, row.status, row.received) == ("aden", "stopped", 300)
        assert row.decoded + row.quarantined == 300 and row.connects >= 1
        with pytest.raises(Exception, match="TLP:GREEN"):
            live.list_feeds(db, world.actor("observer"))


def test_demo_feed_serves_traffic_starting_now(tmp_path: Path) -> None:
    import time

    stop = threading.Event()
    ready = threading.Event()
    port_holder = socket.socket()
    port_holder.bind(("127.0.0.1", 0))
    port = port_holder.getsockname()[1]
    port_holder.close()
    sent: list[int] = []
    server = threading.Thread(
        target=lambda: sent.append(
            live.serve_simulation(
                "127.0.0.1", port, stop, hours=0.2, speed=2000.0, vessels_count=4, ready=ready
            )
        ),
        daemon=True,
    )
    server.start()
    assert ready.wait(5)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(5)
        data = b""
        while data.count(b"\n") < 20:
            data += conn.recv(65536)
    stop.set()
    server.join(timeout=5)
    decoder = nmea.Decoder(require_time=True)
    lines = data.split(b"\n")[:20]
    for i, line in enumerate(lines, 1):
        decoder.feed(line, i)
    fixes, _messages, quarantined = decoder.take()
    assert not quarantined and fixes
    assert all(abs((f.time or 0) - time.time()) < 600 for f in fixes)  # times start now
