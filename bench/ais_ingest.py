"""AIS file ingest rate: `rasid maritime ingest` against plain pyais decoding of the same file.

    .venv/bin/python bench/ais_ingest.py [--lines 5000000] [--vessels 300] [--file PATH]

Writes (or reuses, with ``--file``) a simulated NMEA file of N lines (``rasid maritime
simulate``'s red-sea-day traffic, tag-block timestamps, ITU-R M.1371 report rates), then in
the same run:

* baseline: pyais alone, ``for msg in pyais.FileReaderStream(path): msg.decode()`` (its
  own tag-block parsing and multi-sentence reassembly, no storage);
* Rasid: the installed ``rasid maritime ingest PATH --json-summary`` on a fresh SQLite
  database (with one organisation to own the alerts) and data directory, as its own
  process (decode, checksum and tag-block checks, quarantine, vessel state and identity,
  the seven detectors, alerts, Parquet write, audit);

and prints lines/s of both, the ratio (Rasid / pyais; above 1.0 means the whole pipeline is
faster than pyais decoding alone) and the peak RSS of the ingest process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyais.stream import FileReaderStream

from rasid.maritime import simulate


def generate(path: Path, lines: int, vessels: int) -> None:
    # ~360 class A reports per vessel-hour at 10 s; a margin so the file is long enough
    hours = max(1.0, lines / (vessels * 300.0))
    started = time.perf_counter()
    written = simulate.write(path, "red-sea-day", hours, seed=1, vessels=vessels, max_lines=lines)
    took = time.perf_counter() - started
    print(f"generated {written:,} lines in {took:.0f} s ({path.stat().st_size / 1e6:.0f} MB)")


def baseline(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    for msg in FileReaderStream(str(path)):
        msg.decode()
        count += 1
    return count, time.perf_counter() - started


def pipeline(path: Path) -> tuple[dict[str, object], float, int]:
    exe = Path(sys.executable).with_name("rasid")
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {"RASID_DATA_DIR": data}
        env.pop("RASID_DATABASE_URL", None)
        subprocess.run([str(exe), "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(  # an organisation to own the alerts, as on a real server
            [str(exe), "orgs", "add", "watch", "--name-ar", "المراقبة", "--name-en", "Watch",
             "--country", "YE", "--kind", "coast_guard"],
            env=env,
            check=True,
            capture_output=True,
        )  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run(
            [str(exe), "maritime", "ingest", str(path), "--json-summary"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(result.stdout), took, peak_kib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--vessels", type=int, default=300)
    parser.add_argument("--file", type=Path, help="Reuse (or keep) the NMEA file here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or Path(tmp) / "bench.nmea"
        if not path.exists():
            generate(path, args.lines, args.vessels)
        lines = sum(1 for _ in path.open("rb"))
        messages, base_s = baseline(path)
        summary, ingest_s, peak_kib = pipeline(path)
    base_rate = lines / base_s
    ingest_rate = lines / ingest_s
    print(f"lines: {lines:,}  pyais messages: {messages:,}")
    print(f"pyais decode alone     : {base_s:7.1f} s  {base_rate:10,.0f} lines/s")
    print(f"rasid maritime ingest  : {ingest_s:7.1f} s  {ingest_rate:10,.0f} lines/s")
    print(f"ratio (rasid / pyais)  : {ingest_rate / base_rate:.2f}")
    print(f"peak RSS of the ingest : {peak_kib / 1024:.0f} MiB")
    print("summary:", json.dumps(summary))


if __name__ == "__main__":
    main()
