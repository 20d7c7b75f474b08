"""A small HTTP/1.1 keep-alive load generator (asyncio, no dependencies) for the benchmarks.

It only ever targets loopback addresses given by the benchmark scripts, runs for a fixed
time and stops by itself.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def _worker(host: str, port: int, raw: bytes, stop_at: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            if not status_line.startswith(b"HTTP/1.1 200"):
                result.errors += 1
            else:
                result.requests += 1
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
    finally:
        writer.close()


async def _run(
    host: str, port: int, path: str, headers: dict[str, str], connections: int, seconds: float
) -> LoadResult:
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("the load generator only targets loopback")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    result = LoadResult(0, 0, 0.0)
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_worker(host, port, raw, stop_at, result) for _ in range(connections)))
    result.seconds = time.perf_counter() - started
    return result


def run_load(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    connections: int = 16,
    seconds: float = 10.0,
) -> LoadResult:
    return asyncio.run(_run(host, port, path, headers or {}, connections, seconds))
