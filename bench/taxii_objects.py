"""TAXII 2.1 read rate: a partner pages through ≥100,000 STIX objects with taxii2-client.

    .venv/bin/python bench/taxii_objects.py [--reports 450] [--per-report 200] [--limit 1000]
        [--database-url URL]

Builds (see ``stix_export.py``) ``--reports`` intel reports, each linked to ``--per-report``
registry records of every kind and incidents (bulk rows, 10 % of them hidden from the
partner), each written, approved and released to the partner organisation through the intel
service under a sharing agreement. Rasid then runs under Uvicorn (one process, as deployed)
and ``taxii2-client`` reads the ``released-to-partner`` collection as the partner, with an
API token, ``limit`` objects a page and ``next`` until ``more`` is false.

Baselines, same run, the same objects: (1) a bare FastAPI app under the same Uvicorn settings
serving the same pages from memory (slices of the object list, the same envelope and media
type), read by the same client; (2) ``json.dumps`` of the same pages in this process. Prints
objects/s and pages/s of each, the ratio Rasid ÷ bare FastAPI, and the server's peak RSS.
Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from taxii2client.v21 import Collection, as_pages  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_rps import free_port, serve, wait_up
from rasid.core.db import make_engine, make_session_factory
from rasid.core.migrate import analyze
from rasid.identity import service as identity
from stix_export import Loader, World, database, make_world, release_report

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = "released-to-partner"
BASELINE_APP = """
import json, os
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TAXII = "application/taxii+json;version=2.1"
OBJECTS = json.loads(open(os.environ["BENCH_OBJECTS"], encoding="utf-8").read())
app = FastAPI()


class Taxii(JSONResponse):
    media_type = TAXII


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/taxii2/rasid/collections/{cid}/")
def collection(cid: str) -> Taxii:
    return Taxii({"id": cid, "title": cid, "can_read": True, "can_write": False,
                  "media_types": ["application/stix+json;version=2.1"]})


@app.get("/taxii2/rasid/collections/{cid}/objects/")
def objects(request: Request, cid: str) -> Taxii:
    limit = int(request.query_params.get("limit", "100"))
    start = int(request.query_params.get("next") or 0)
    page = OBJECTS[start : start + limit]
    body = {"more": start + limit < len(OBJECTS), "objects": page}
    if body["more"]:
        body["next"] = str(start + limit)
    return Taxii(body)
"""


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def read_collection(
    base: str, user: str, token: str, limit: int
) -> tuple[list[dict[str, Any]], int, float]:
    """Every object of the collection through taxii2-client: (objects, pages, seconds)."""
    coll = Collection(f"{base}/taxii2/rasid/collections/{COLLECTION}/", user=user, password=token)
    coll.get_objects(limit=1)  # warm-up: first request, connection, collection info
    objects: list[dict[str, Any]] = []
    pages = 0
    started = time.perf_counter()
    for envelope in as_pages(coll.get_objects, per_request=limit):
        objects.extend(envelope.get("objects", []))
        pages += 1
    return objects, pages, time.perf_counter() - started


def build_collection(url: str, reports: int, per_report: int) -> tuple[World, str, int, float]:
    """The bench collection in ``url``: ``reports`` reports, each linked to ``per_report``
    bulk-loaded records, released to the partner; (world, partner token, rows, seconds)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = make_world(factory)
    loader = Loader(world, random.Random(2026))
    started = time.perf_counter()
    rows = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("reports", total=reports)
        for i in range(reports):
            records = loader.records(per_report)
            with factory.begin() as db:
                rows += loader.flush(db)
            release_report(factory, world, records, f"تقرير {i + 1}")
            bar.advance(task)
    build_s = time.perf_counter() - started
    analyze(engine)
    with factory.begin() as db:
        partner = identity.actor_for_username(db, world.partner, via="bench")
        token = identity.create_token(db, partner, world.partner).plaintext
    engine.dispose()
    return world, token, rows, build_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=450)
    parser.add_argument("--per-report", type=int, default=200)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL URL (a temporary schema is used)"
    )
    args = parser.parse_args()
    with database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        world, token, rows, build_s = build_collection(url, args.reports, args.per_report)

        env = os.environ | {"RASID_DATA_DIR": str(tmpdir / "data"), "RASID_DATABASE_URL": url}
        port = free_port()
        proc = serve("rasid.web.asgi:app", port, 1, env, ROOT)
        try:
            wait_up(port)
            base = f"http://127.0.0.1:{port}"
            objects, pages, rasid_s = read_collection(base, world.partner, token, args.limit)
            rasid_rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

        (tmpdir / "objects.json").write_text(json.dumps(objects, ensure_ascii=False))
        (tmpdir / "baseline_app.py").write_text(BASELINE_APP)
        env["BENCH_OBJECTS"] = str(tmpdir / "objects.json")
        port = free_port()
        proc = serve("baseline_app:app", port, 1, env, tmpdir)
        try:
            wait_up(port)
            same, base_pages, base_s = read_collection(
                f"http://127.0.0.1:{port}", "x", "x", args.limit
            )
            base_rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert same == objects, "the baseline served other objects"

        started = time.perf_counter()
        for start in range(0, len(objects), args.limit):
            json.dumps({"more": True, "objects": objects[start : start + args.limit]})
        dumps_s = time.perf_counter() - started

    n = len(objects)
    result = {
        "database": "postgresql" if args.database_url else "sqlite",
        "reports": args.reports,
        "records_per_report": args.per_report,
        "rows_loaded": rows,
        "build_s": round(build_s, 1),
        "objects": n,
        "unique_ids": len({o["id"] for o in objects}),
        "limit": args.limit,
        "pages": pages,
        "rasid_s": round(rasid_s, 2),
        "rasid_objects_per_s": round(n / rasid_s),
        "rasid_pages_per_s": round(pages / rasid_s, 2),
        "rasid_server_peak_rss_mb": rasid_rss,
        "fastapi_s": round(base_s, 2),
        "fastapi_objects_per_s": round(n / base_s),
        "fastapi_pages_per_s": round(base_pages / base_s, 2),
        "fastapi_server_peak_rss_mb": base_rss,
        "json_dumps_objects_per_s": round(n / dumps_s),
        "ratio": round(base_s / rasid_s, 3),
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))
    print(
        f"TAXII get_objects ({result['database']}): {n} objects in {pages} pages, "
        f"{rasid_s:.1f} s: {result['rasid_objects_per_s']} objects/s, "
        f"{result['rasid_pages_per_s']} pages/s vs bare FastAPI "
        f"{result['fastapi_objects_per_s']} objects/s (ratio {result['ratio']}); "
        f"server peak RSS {rasid_rss} MB"
    )


if __name__ == "__main__":
    main()
