"""Requests/second of an authenticated API GET, against a bare FastAPI baseline in the same run.

    .venv/bin/python bench/api_rps.py [--seconds 10] [--connections 16] [--workers 2] [--postgres URL]

Starts two servers on loopback with the same Uvicorn settings: a minimal FastAPI app whose
GET returns a constant JSON object (the baseline: what the framework alone costs), and Rasid
serving `GET /api/v1/me` with a Bearer token (token lookup, user and organisation load,
access context, JSON). Prints both rates and their ratio. Not a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import LoadResult, run_load

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BASELINE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/api/v1/me")
def me() -> dict[str, str]:
    return {"username": "baseline", "org": "none"}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def serve(
    module: str, port: int, workers: int, env: dict[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    cmd = [
        PY,
        "-m",
        "uvicorn",
        module,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(cmd, env=env, cwd=cwd)


def rasid(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    out = subprocess.run(
        [PY, "-m", "rasid.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres", default="", help="run Rasid on this PostgreSQL URL instead of SQLite"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        env = os.environ | {"RASID_DATA_DIR": str(tmpdir / "data")}
        if args.postgres:
            env["RASID_DATABASE_URL"] = args.postgres
        rasid(["db", "upgrade"], env)
        rasid(
            [
                "orgs",
                "add",
                "bench-org",
                "--name-ar",
                "جهة",
                "--name-en",
                "Bench",
                "--country",
                "YE",
            ],
            env,
        )
        rasid(
            [
                "users",
                "add",
                "bench",
                "--org",
                "bench-org",
                "--role",
                "analyst",
                "--password-stdin",
            ],
            env,
            "load test passphrase 2026\n",
        )
        token = rasid(["tokens", "create", "--user", "bench"], env).strip()
        (tmpdir / "baseline_app.py").write_text(BASELINE_APP)

        results: dict[str, LoadResult] = {}
        for name, module, cwd, path, headers in [
            ("baseline", "baseline_app:app", tmpdir, "/api/v1/me", {}),
            (
                "rasid",
                "rasid.web.asgi:app",
                ROOT,
                "/api/v1/me",
                {"Authorization": f"Bearer {token}"},
            ),
        ]:
            port = free_port()
            proc = serve(module, port, args.workers, env, cwd)
            try:
                wait_up(port, "/api/v1/me" if name == "baseline" else "/healthz")
                run_load(
                    "127.0.0.1", port, path, headers, connections=args.connections, seconds=2
                )  # warm-up
                results[name] = run_load(
                    "127.0.0.1",
                    port,
                    path,
                    headers,
                    connections=args.connections,
                    seconds=args.seconds,
                )
            finally:
                proc.terminate()
                proc.wait(timeout=20)

    base, ours = results["baseline"], results["rasid"]
    summary = {
        "database": "postgresql" if args.postgres else "sqlite",
        "workers": args.workers,
        "connections": args.connections,
        "baseline_rps": round(base.rps, 1),
        "rasid_rps": round(ours.rps, 1),
        "ratio": round(ours.rps / base.rps, 3) if base.rps else None,
        "rasid_p50_ms": round(ours.percentile(50), 2),
        "rasid_p95_ms": round(ours.percentile(95), 2),
        "errors": ours.errors + base.errors,
        "cores": os.cpu_count(),
    }
    print(json.dumps(summary))
    print(
        f"authenticated GET /api/v1/me: {ours.rps:.0f} req/s vs bare FastAPI {base.rps:.0f} req/s "
        f"(ratio {summary['ratio']}), p95 {summary['rasid_p95_ms']} ms, on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
