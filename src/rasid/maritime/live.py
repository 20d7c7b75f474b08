"""Live AIS feeds: a TCP client that reconnects with back-off, a UDP listener, one pipeline.

A feed's lines go through the file ingest's pipeline (:class:`rasid.maritime.service.Ingest`:
decoder, quarantine, vessels, Parquet positions, detectors, alerts) in batches — every
``flush_seconds`` or ``flush_lines`` lines, one database transaction each, recorded as an
``maritime_ingest_run`` named after the feed (``tcp://host:port``, ``udp://:port``). The
feed keeps one decoder (a message split across two batches is reassembled) and one
detector engine (the same engine and the same definitions as a file replay: the same lines
give the same alerts).

Time: a line with an NMEA 4.0 tag-block time or a leading ISO-8601 time keeps it; a bare
``!AIVDM`` line is stamped with its arrival time (UTC).

Never a silent drop: the socket is read by its own thread into a bounded buffer; when the
pipeline falls behind (a flood) and the buffer is full, further lines are quarantined as
``overflow`` (kept, counted, not decoded) until it has room again. A line cut by a
disconnection is offered as it is (and quarantined as truncated). ``received = decoded +
quarantined + pending`` holds over the whole session.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.errors import Conflict, Forbidden, ValidationFailed
from rasid.maritime import nmea, service, simulate, userzones, vessels
from rasid.maritime.detectors import Engine
from rasid.maritime.models import MaritimeFeed

FLUSH_SECONDS = 5.0
FLUSH_LINES = 5_000
MAX_BUFFER = 200_000
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0

StatusFn = Callable[[str], None]


@dataclass
class FeedState:
    """What a watch officer wants to know about a feed."""

    source: str
    connects: int = 0
    disconnects: int = 0
    last_error: str = ""
    last_line_at: datetime | None = None
    batches: int = 0
    overflow: int = 0
    summary: service.Summary = field(default_factory=service.Summary)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "connects": self.connects,
            "disconnects": self.disconnects,
            "last_error": self.last_error,
            "last_line_at": self.last_line_at.isoformat() if self.last_line_at else None,
            "batches": self.batches,
            **self.summary.as_dict(),
        }


def stamp(line: bytes, arrival: float) -> bytes:
    """A bare sentence gets its arrival time in front; a line with a time keeps it."""
    raw = line.strip()
    if raw[:1] == b"!":
        iso = datetime.fromtimestamp(arrival, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return iso.encode("ascii") + b" " + raw
    return raw


class Feed:
    """One live feed's pipeline (thread-safe :meth:`offer`; :meth:`flush` on one thread)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        actor: Actor,
        data_dir: Path,
        source: str,
        *,
        max_buffer: int = MAX_BUFFER,
        alert_org: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.factory = factory
        self.actor = actor
        self.data_dir = data_dir
        self.state = FeedState(source)
        self.max_buffer = max_buffer
        self.alert_org = alert_org
        self.clock = clock
        self.decoder = nmea.Decoder(require_time=True)
        with factory() as db:
            self.engine = Engine(zones=userzones.zones_for(db))
        self._lines: deque[tuple[bytes, float]] = deque()
        self._overflow: deque[bytes] = deque()
        self._lock = threading.Lock()
        self._line_no = 0
        self.offered = 0

    # -- input (any thread)

    def offer(self, line: bytes) -> None:
        if not line.strip():
            return
        now = self.clock()
        with self._lock:
            self.offered += 1
            self.state.last_line_at = datetime.fromtimestamp(now, UTC)
            if len(self._lines) >= self.max_buffer:
                self._overflow.append(line)
            else:
                self._lines.append((line, now))

    def backlog(self) -> int:
        with self._lock:
            return len(self._lines) + len(self._overflow)

    # -- processing (one thread)

    def flush(self, *, final: bool = False) -> service.Summary:
        """Process what has arrived, in one transaction; ``final``: the end of the session
        (waiting fragments become orphans, the detectors close what is open)."""
        with self._lock:
            lines, self._lines = list(self._lines), deque()
            overflow, self._overflow = list(self._overflow), deque()
        batch: list[tuple[int, bytes]] = []
        for line, arrival in lines:
            self._line_no += 1
            batch.append((self._line_no, stamp(line, arrival)))
        refused: list[tuple[int, bytes, str]] = []
        for line in overflow:
            self._line_no += 1
            refused.append((self._line_no, line, nmea.OVERFLOW))
        if not batch and not refused and not final:
            return service.Summary()
        with self.factory.begin() as db:
            run = service.Ingest(
                db, self.actor, self.data_dir, engine=self.engine, alert_org=self.alert_org
            )
            try:
                run.ingest_lines(self.decoder, batch, self.state.source, refused=refused, end=final)
                summary = run.finish(final=final, event_time=self.decoder.last_time)
            except BaseException:
                run.abort()
                raise
        run.commit_positions()
        self.state.batches += 1
        self.state.overflow += len(overflow)
        _add(self.state.summary, summary)
        return summary


def _add(total: service.Summary, part: service.Summary) -> None:
    total.received += part.received
    total.decoded += part.decoded
    total.quarantined += part.quarantined
    total.pending += part.pending
    total.positions += part.positions
    total.alerts += part.alerts
    total.alerts_not_stored += part.alerts_not_stored
    total.vessels = max(total.vessels, part.vessels)
    for reason, n in part.quarantine_reasons.items():
        total.quarantine_reasons[reason] = total.quarantine_reasons.get(reason, 0) + n


# --- transports --------------------------------------------------------------------------------


def _split(buffer: bytes, feed: Feed) -> bytes:
    *lines, rest = buffer.split(b"\n")
    for line in lines:
        feed.offer(line)
    return rest


def read_tcp(
    feed: Feed,
    host: str,
    port: int,
    stop: threading.Event,
    *,
    backoff_start: float = BACKOFF_START_S,
    backoff_max: float = BACKOFF_MAX_S,
    status: StatusFn | None = None,
) -> None:
    """Read lines from a TCP server until ``stop``; reconnect with doubling back-off."""
    delay = backoff_start
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=10) as sock:
                sock.settimeout(0.5)
                feed.state.connects += 1
                delay = backoff_start
                if status:
                    status(f"connected to {host}:{port}")
                rest = b""
                while not stop.is_set():
                    try:
                        chunk = sock.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    rest = _split(rest + chunk, feed)
                if rest.strip():
                    feed.offer(rest)  # cut by the disconnection: quarantined as truncated
                feed.state.disconnects += 1
                if status and not stop.is_set():
                    status(f"{host}:{port} closed the connection")
        except OSError as exc:
            feed.state.last_error = f"{type(exc).__name__}: {exc}"
            if status:
                status(f"{host}:{port}: {feed.state.last_error}; retrying in {delay:.0f} s")
        if stop.wait(delay):
            break
        delay = min(delay * 2, backoff_max)


def open_udp(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((host, port))
    sock.settimeout(0.5)
    return sock


def read_udp(feed: Feed, sock: socket.socket, stop: threading.Event) -> None:
    """Read datagrams (one or more lines each) until ``stop``."""
    with sock:
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            rest = _split(data, feed)
            if rest.strip():
                feed.offer(rest)


def run(
    feed: Feed,
    reader: Callable[[threading.Event], None],
    stop: threading.Event,
    *,
    flush_seconds: float = FLUSH_SECONDS,
    flush_lines: int = FLUSH_LINES,
    max_lines: int | None = None,
    duration: float | None = None,
    on_batch: Callable[[service.Summary], None] | None = None,
) -> FeedState:
    """Read on a thread, process batches here until ``stop`` (or ``max_lines`` lines, or
    ``duration`` seconds), then a final batch; returns the feed's state."""
    thread = threading.Thread(target=reader, args=(stop,), name=feed.state.source, daemon=True)
    thread.start()
    started = time.monotonic()
    last = started
    try:
        while not stop.is_set():
            stop.wait(0.05)
            now = time.monotonic()
            if max_lines is not None and feed.offered >= max_lines:
                stop.set()
            if duration is not None and now - started >= duration:
                stop.set()
            if feed.backlog() >= flush_lines or now - last >= flush_seconds:
                summary = feed.flush()
                last = now
                if on_batch is not None and summary.received:
                    on_batch(summary)
    finally:
        stop.set()
        thread.join(timeout=5)
        feed.flush(final=True)
    return feed.state


# --- feeds kept by the server's feed runner ------------------------------------------------------


def parse_url(url: str) -> tuple[str, str, int]:
    """``tcp://host:port`` or ``udp://[host]:port`` → (scheme, host, port)."""
    scheme, sep, rest = url.strip().partition("://")
    host, colon, port = rest.rpartition(":")
    if (
        not sep
        or scheme not in ("tcp", "udp")
        or not colon
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or (scheme == "tcp" and not host)
    ):
        raise ValidationFailed(
            "A feed is tcp://HOST:PORT or udp://[HOST]:PORT, not %(url)s.", field="url", url=url
        )
    return scheme, host or "0.0.0.0", int(port)  # noqa: S104 - UDP on every interface


def add_feed(db: Session, actor: Actor, name: str, url: str) -> MaritimeFeed:
    if not actor.can("administer") and not actor.can("write"):
        raise Forbidden("Your roles do not allow this action (%(permission)s).", permission="write")
    clean = name.strip().lower()
    if not clean or len(clean) > 60:
        raise ValidationFailed("A feed needs a name of 1 to 60 characters.", field="name")
    parse_url(url)
    if db.scalar(select(MaritimeFeed.id).where(MaritimeFeed.name == clean)) is not None:
        raise Conflict("A feed named %(name)s exists already.", field="name", name=clean)
    feed = MaritimeFeed(name=clean, url=url.strip(), enabled=True, status="stopped")
    db.add(feed)
    db.flush()
    audit.record_change(
        db, actor, "create", "maritime_feed", feed.id, None, {"name": clean, "url": feed.url}
    )
    return feed


def list_feeds(db: Session, actor: Actor) -> list[MaritimeFeed]:
    vessels.require_picture(actor)
    return list(db.scalars(select(MaritimeFeed).order_by(MaritimeFeed.name)))


def _report(factory: sessionmaker[Session], feed_id: int, feed: Feed, status: str) -> None:
    s = feed.state.summary
    with factory.begin() as db:
        db.execute(
            update(MaritimeFeed)
            .where(MaritimeFeed.id == feed_id)
            .values(
                status=status,
                connects=feed.state.connects,
                received=s.received,
                decoded=s.decoded,
                quarantined=s.quarantined,
                alerts=s.alerts,
                last_line_at=feed.state.last_line_at,
                last_error=feed.state.last_error[:300],
                updated_at=utcnow(),
            )
        )


def run_feeds(
    factory: sessionmaker[Session],
    actor: Actor,
    data_dir: Path,
    stop: threading.Event,
    *,
    alert_org: str = "",
    flush_seconds: float = FLUSH_SECONDS,
    status: StatusFn | None = None,
) -> list[FeedState]:
    """Keep every enabled feed connected until ``stop``; each batch updates its row."""
    with factory() as db:
        rows = [
            (f.id, f.name, f.url)
            for f in db.scalars(select(MaritimeFeed).where(MaritimeFeed.enabled))
        ]
    if not rows:
        raise ValidationFailed(
            "No feed is configured: add one with `rasid maritime feeds add NAME URL`.",
            field="feeds",
        )
    states: list[FeedState] = []
    threads: list[threading.Thread] = []
    for feed_id, name, url in rows:
        scheme, host, port = parse_url(url)
        feed = Feed(factory, actor, data_dir, url, alert_org=alert_org)
        states.append(feed.state)

        def reader(
            ev: threading.Event,
            feed: Feed = feed,
            host: str = host,
            port: int = port,
            scheme: str = scheme,
        ) -> None:
            if scheme == "tcp":
                read_tcp(feed, host, port, ev, status=status)
            else:
                read_udp(feed, open_udp(host, port), ev)

        def body(
            feed: Feed = feed,
            feed_id: int = feed_id,
            reader: Callable[[threading.Event], None] = reader,
        ) -> None:
            _report(factory, feed_id, feed, "running")
            try:
                run(
                    feed,
                    reader,
                    stop,
                    flush_seconds=flush_seconds,
                    on_batch=lambda _s: _report(factory, feed_id, feed, "running"),
                )
            finally:
                _report(factory, feed_id, feed, "stopped")

        thread = threading.Thread(target=body, name=f"feed-{name}", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return states


# --- the demo's live traffic -------------------------------------------------------------------


def serve_simulation(
    host: str,
    port: int,
    stop: threading.Event,
    *,
    scenario: str = "red-sea-day",
    hours: float = 24.0,
    speed: float = 1.0,
    vessels_count: int = 30,
    seed: int = 1,
    rate: float = 1.0,
    ready: threading.Event | None = None,
) -> int:
    """An AIS server for the demo: simulated traffic starting now, sent in real time
    (``speed`` × faster) to every client connected; returns the lines sent."""
    sim = simulate.build(scenario, hours, seed=seed, vessels=vessels_count, start=datetime.now(UTC))
    server = socket.create_server((host, port), reuse_port=False)
    server.settimeout(0.2)
    clients: list[socket.socket] = []
    lock = threading.Lock()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with lock:
                clients.append(conn)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    if ready is not None:
        ready.set()
    began = time.monotonic()
    sent = 0
    try:
        for t, line in simulate.timed_lines(sim, rate):
            wait = t / speed - (time.monotonic() - began)
            if wait > 0 and stop.wait(wait):
                break
            if stop.is_set():
                break
            data = line.encode("ascii") + b"\n"
            with lock:
                for conn in list(clients):
                    try:
                        conn.sendall(data)
                    except OSError:
                        clients.remove(conn)
                        conn.close()
            sent += 1
    finally:
        stop.set()
        server.close()
        with lock:
            for conn in clients:
                conn.close()
    return sent
