"""Positions in daily Parquet partitions, queried with DuckDB.

Layout: ``<data dir>/positions/date=YYYY-MM-DD/part-<source>-<nnnnn>.parquet`` (Hive
partitioning, one directory per UTC day). ``<source>`` is the first 16 hex digits of
the SHA-256 of the ingested lines (after gzip decompression, so a file and its ``.gz``
are the same source); the parts of one source are named by its content:
ingesting the same file again replaces its parts instead of adding to them (no
duplicate positions). Parts are written to ``positions/.staging/`` during a run and
moved into place only when the run succeeds. Queries also drop duplicates on the key
``(mmsi, time, lat, lon)``, which covers the same report arriving in two different files
(two receivers hearing one ship).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rasid.maritime.nmea import Fix, FixColumns

SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("ms", tz="UTC")),
        ("mmsi", pa.int64()),
        ("msg_type", pa.int8()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("sog", pa.float64()),
        ("cog", pa.float64()),
        ("heading", pa.int16()),
        ("status", pa.int8()),
    ]
)
BATCH_ROWS = 200_000


def _day(day: int) -> str:
    """The ISO date of a day number (days since 1970-01-01, UTC)."""
    return datetime.fromtimestamp(day * 86_400, UTC).date().isoformat()


def positions_dir(data_dir: Path) -> Path:
    return data_dir / "positions"


class PartitionWriter:
    """Buffers fixes and writes them, per day, as Parquet parts named after their source."""

    def __init__(self, data_dir: Path, batch_rows: int = BATCH_ROWS) -> None:
        self.root = positions_dir(data_dir)
        self.batch_rows = batch_rows
        self.staging = self.root / ".staging" / uuid.uuid4().hex
        self._buffer: list[FixColumns] = []
        self.buffered = 0  # rows waiting to be written
        self._parts = 0
        self.rows = 0  # rows written

    def add(self, fixes: list[Fix] | FixColumns) -> None:
        columns = fixes if isinstance(fixes, FixColumns) else FixColumns.of(fixes)
        if not len(columns):
            return
        self._buffer.append(columns)
        self.buffered += len(columns)
        if self.buffered >= self.batch_rows:
            self._write()

    def _write(self) -> None:
        if not self._buffer:
            return
        cols = FixColumns.concat(self._buffer)
        self._buffer, self.buffered = [], 0
        millis = np.round(cols.time * 1000.0)
        no_time = np.isnan(millis)
        table = pa.Table.from_arrays(
            [
                pa.array(np.where(no_time, 0, millis).astype(np.int64), mask=no_time).cast(
                    SCHEMA.field(0).type
                ),
                pa.array(cols.mmsi, pa.int64()),
                pa.array(cols.msg_type.astype(np.int8), pa.int8()),
                pa.array(cols.lat, pa.float64()),
                pa.array(cols.lon, pa.float64()),
                pa.array(cols.sog, pa.float64(), mask=np.isnan(cols.sog)),
                pa.array(cols.cog, pa.float64(), mask=np.isnan(cols.cog)),
                pa.array(cols.heading.astype(np.int16), pa.int16(), mask=cols.heading < 0),
                pa.array(cols.status.astype(np.int8), pa.int8(), mask=cols.status < 0),
            ],
            schema=SCHEMA,
        )
        # UTC day of each row (rows without a time go with day 0, 1970-01-01, as before)
        days = np.floor_divide(np.where(no_time, 0, millis), 86_400_000).astype(np.int64)
        for day in np.unique(days).tolist():
            part = table.filter(pa.array(days == day)) if len(days) else table
            target = self.staging / f"date={_day(day)}"
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, target / f"part-{self._parts:05d}.parquet", compression="zstd")
            self._parts += 1
        self.rows += len(cols)

    def flush(self) -> None:
        self._write()

    def commit(self, source_tag: str) -> None:
        """Name the parts after their source and replace that source's earlier parts."""
        self._write()
        for old in self.root.glob(f"date=*/part-{source_tag}-*.parquet"):
            old.unlink()
        if self.staging.exists():
            for day_dir in self.staging.iterdir():
                final = self.root / day_dir.name
                final.mkdir(parents=True, exist_ok=True)
                for part in day_dir.iterdir():
                    part.replace(final / f"part-{source_tag}-{part.name[5:]}")
        self.abort()

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _glob(data_dir: Path) -> str | None:
    root = positions_dir(data_dir)
    if not any(root.glob("date=*/*.parquet")):
        return None
    return str(root / "date=*" / "*.parquet")


COLUMNS = ("time", "mmsi", "msg_type", "lat", "lon", "sog", "cog", "heading", "status")


def query(data_dir: Path, sql_where: str, params: Iterable[Any]) -> list[dict[str, Any]]:
    """Positions matching a WHERE clause, deduplicated on (mmsi, time, lat, lon), by time."""
    import duckdb

    pattern = _glob(data_dir)
    if pattern is None:
        return []
    cols = ", ".join(COLUMNS)
    sql = (
        f"SELECT DISTINCT ON (mmsi, time, lat, lon) {cols} "  # noqa: S608 - fixed columns
        f"FROM read_parquet(?, hive_partitioning = true) WHERE {sql_where} "
        "ORDER BY time, mmsi, lat, lon"
    )
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(sql, [pattern, *params]).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def track(data_dir: Path, mmsi: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One vessel's positions between two instants (inclusive), oldest first."""
    return query(
        data_dir,
        "mmsi = ? AND time BETWEEN ? AND ? AND date BETWEEN ? AND ?",
        [
            mmsi,
            start.astimezone(UTC),
            end.astimezone(UTC),
            start.astimezone(UTC).date(),
            end.astimezone(UTC).date(),
        ],
    )


def count(data_dir: Path) -> tuple[int, int]:
    """(rows stored, distinct positions) over every partition."""
    import duckdb

    pattern = _glob(data_dir)
    if pattern is None:
        return 0, 0
    with duckdb.connect() as con:
        row = con.execute(
            "SELECT count(*), count(DISTINCT (mmsi, time, lat, lon)) "
            "FROM read_parquet(?, hive_partitioning = true)",
            [pattern],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])
