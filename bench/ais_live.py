"""Live AIS feed latency: arrival of a message to its alert, under a sustained feed.

    .venv/bin/python bench/ais_live.py [--rate 5000] [--seconds 60] [--vessels 30]
        [--database-url URL]

A TCP server on loopback sends simulated traffic (``rasid maritime simulate``'s red-sea-day,
every planted anomaly, tag-block times; the simulated day is replayed faster than real time)
at ``--rate`` lines per second, paced in 10 ms slices. The live pipeline of ``rasid maritime
listen --tcp`` (:class:`rasid.maritime.live.Feed` and :func:`rasid.maritime.live.run`: the
socket reader thread, the bounded buffer, one transaction per batch with decoding, quarantine,
vessels, Parquet, the detectors and the alerts) reads it on a fresh migrated database.

Measured: for every line, the time from its arrival (when the reader thread hands it to the
feed) to the commit of the batch that processed it — an alert raised by a line is in that
commit, so this is the line's arrival-to-alert time; p50/p95/max over all lines and over the
lines of the batches that stored alerts; the rate actually sustained; overflow (lines the
pipeline could not take in time, quarantined). Baseline in the same run: the same sender,
reader thread, buffer and batching with nothing done to the lines (arrival to the end of a
batch that only empties the buffer), and the ratio of the p95s. The issue's target: p95 < 2 s at
5,000 messages/s. Not a test: no assertion.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rasid.core.actor import system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.identity import service as identity
from rasid.maritime import live, service, simulate
from stix_export import database


class TimedFeed(live.Feed):
    """The feed, recording each batch's arrival times and its commit time."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.latencies: list[float] = []
        self.alert_latencies: list[float] = []
        self.batch_sizes: list[int] = []

    def flush(self, *, final: bool = False) -> service.Summary:
        with self._lock:
            arrivals = [arrival for _line, arrival in self._lines]
        summary = super().flush(final=final)
        done = time.time()
        if arrivals and not final:
            lat = [done - a for a in arrivals]
            self.latencies += lat
            self.batch_sizes.append(len(arrivals))
            if summary.alerts:
                self.alert_latencies += lat
        return summary


class BareFeed(TimedFeed):
    """Baseline: the same reader, buffer and batching, with nothing done with the lines."""

    def flush(self, *, final: bool = False) -> service.Summary:
        with self._lock:
            arrivals = [arrival for _line, arrival in self._lines]
            self._lines.clear()
        done = time.time()
        if arrivals and not final:
            self.latencies += [done - a for a in arrivals]
            self.batch_sizes.append(len(arrivals))
        return service.Summary()


def serve(lines: list[bytes], rate: int, ready: threading.Event, port: list[int],
          sent: list[float]) -> None:  # fmt: skip
    """Accept one client and send ``lines`` at ``rate`` lines/s (10 ms slices)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port.append(server.getsockname()[1])
        ready.set()
        conn, _ = server.accept()
        with conn:
            per_slice = max(1, rate // 100)
            started = time.monotonic()
            for k in range(0, len(lines), per_slice):
                due = started + (k / rate)
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                conn.sendall(b"".join(lines[k : k + per_slice]))
                sent.append(time.monotonic() - started)


def _stream(feed: live.Feed, lines: list[bytes], rate: int) -> tuple[live.FeedState, float, list[float]]:  # fmt: skip
    ready, port, sent = threading.Event(), [], []
    sender = threading.Thread(target=serve, args=(lines, rate, ready, port, sent))
    sender.start()
    ready.wait()
    started = time.monotonic()
    state = live.run(
        feed,
        lambda s: live.read_tcp(feed, "127.0.0.1", port[0], s),
        threading.Event(),
        max_lines=len(lines),
    )
    took = time.monotonic() - started
    sender.join()
    return state, took, sent


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=5000, help="Lines per second sent.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--vessels", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    sim = simulate.build("red-sea-day", 24.0, seed=1, vessels=args.vessels)
    lines = [(line + "\n").encode() for _, line in zip(range(total), simulate.lines(sim), strict=False)]  # fmt: skip
    print(f"{len(lines):,} lines of simulated traffic, sent at {args.rate:,} lines/s")
    with database(args.database_url) as url, tempfile.TemporaryDirectory() as data:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory.begin() as db:
            identity.create_org(db, system_actor(), slug="watch", name_ar="المراقبة",
                                name_en="Watch", country="YE")  # fmt: skip
        base = BareFeed(factory, system_actor(), Path(data), "tcp://baseline")
        _stream(base, lines, args.rate)
        feed = TimedFeed(factory, system_actor(), Path(data), "tcp://bench")
        state, took, sent = _stream(feed, lines, args.rate)
        engine.dispose()
    s = state.summary
    lat, alat = feed.latencies, feed.alert_latencies
    print(f"received {s.received:,}  decoded {s.decoded:,}  quarantined {s.quarantined:,}  "
          f"overflow {state.overflow:,}  alerts {s.alerts}  batches {state.batches}")  # fmt: skip
    print(f"sustained             : {s.received / took:,.0f} lines/s over {took:.1f} s "
          f"(sender {len(lines) / max(sent[-1], 1e-9):,.0f} lines/s)")  # fmt: skip
    print(f"batch size            : median {statistics.median(feed.batch_sizes):,.0f} lines")
    print(f"arrival → commit (all): p50 {pct(lat, 50):.2f} s  p95 {pct(lat, 95):.2f} s  "
          f"max {max(lat):.2f} s over {len(lat):,} lines")  # fmt: skip
    blat = base.latencies
    print(f"baseline (no pipeline): p50 {pct(blat, 50):.2f} s  p95 {pct(blat, 95):.2f} s  "
          f"→ ratio of p95s {pct(lat, 95) / max(pct(blat, 95), 1e-9):.2f}")  # fmt: skip
    if alat:
        print(f"arrival → alert       : p50 {pct(alat, 50):.2f} s  p95 {pct(alat, 95):.2f} s  "
              f"max {max(alat):.2f} s over the {len(alat):,} lines of batches with alerts")  # fmt: skip


if __name__ == "__main__":
    main()
