"""The ingest's faster paths give exactly what the plain paths give (no database):

* block decoding (:meth:`Decoder.feed_block`, NumPy) against the per-line decoder with
  every fast path off (``fast=False``: pyais for every field), on simulated traffic, the
  GPSD corpus and lines built to sit on every edge the block path must leave alone;
* the field tables (:func:`nmea.decode_fields`) against pyais's
  ``from_vector(...).asdict(enum_as_int=True)``, key by key, type by type, also on payloads
  cut short;
* :meth:`Engine.feed` against :meth:`Engine.position` / :meth:`Engine.static` one by one;
* the Parquet writer's columns against the fixes, and the batch GC setting restored.
"""

from __future__ import annotations

import gc
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyais.bit_vector import bit_vector
from pyais.encode import encode_dict
from pyais.messages import MSG_CLASS

from rasid.maritime import nmea, service, simulate
from rasid.maritime.detectors import Engine
from rasid.maritime.positions import PartitionWriter

CORPUS = Path(__file__).parent / "data" / "ais" / "gpsd-sample.aivdm"
T0 = 1_768_435_200


def _tagged(t: int, sentence: bytes, extra: str = "s:s1") -> bytes:
    tag = f"c:{t},{extra}" if extra else f"c:{t}"
    return f"\\{tag}*{nmea.nmea_checksum(tag.encode()):02X}\\".encode() + sentence


def _position(**fields: Any) -> bytes:
    data = {"type": 1, "mmsi": 473000001, "lat": 12.5, "lon": 43.3, "speed": 12.0}
    data.update(fields)
    return encode_dict(data, talker_id="AI", sentence_type="VDM")[0].encode()


def _sentence(body: bytes) -> bytes:
    return b"!" + body + f"*{nmea.nmea_checksum(body):02X}".encode()


def _outcome(decoder: nmea.Decoder) -> tuple[Any, ...]:
    return (
        decoder.fixes,
        [(m.line_no, m.msg_type, m.mmsi, m.time, m.line_nos, m.fields) for m in decoder.messages],
        [(q.line_no, q.reason, q.raw, q.time, q.detail) for q in decoder.quarantine],
        decoder.counts,
        decoder.last_time,
    )


def _per_line(data: bytes, *, fast: bool) -> nmea.Decoder:
    decoder = nmea.Decoder(require_time=True, fast=fast)
    for i, line in enumerate(nmea.split_block(data), 1):
        decoder.feed(line, i)
    decoder.flush()
    return decoder


def _blocks(data: bytes, sizes: list[int]) -> nmea.Decoder:
    """Block decoding, cut at line ends after roughly each of ``sizes`` bytes in turn."""
    decoder = nmea.Decoder(require_time=True)
    pos, line_no, k = 0, 1, 0
    while pos < len(data):
        end = data.find(b"\n", pos + sizes[k % len(sizes)])
        end = len(data) if end < 0 else end + 1
        line_no += decoder.feed_block(data[pos:end], line_no)
        assert decoder.counts.balanced()
        pos, k = end, k + 1
    decoder.flush()
    return decoder


def _edge_lines() -> list[bytes]:
    """Lines of (almost) the block path's shape that must go the per-line way, or not."""
    good = _position()
    body = good[1 : good.index(b"*")]
    lines = [
        _tagged(T0, good),
        _tagged(T0, good) + b"\r",  # CRLF: stripped, decoded
        _tagged(T0, good) + b"  ",  # trailing spaces: stripped, decoded
        b"  " + _tagged(T0, good),  # leading spaces
        _tagged(T0, good[:-2] + b"00" if not good.endswith(b"00") else good[:-2] + b"01"),
        b"\\c:1768435200,s:s1*00\\" + good,  # bad tag checksum
        _tagged(T0, good, extra=""),  # no station
        b"\\s:s1*" + f"{nmea.nmea_checksum(b's:s1'):02X}".encode() + b"\\" + good,  # no time
        b"\\c:17684x5200*" + f"{nmea.nmea_checksum(b'c:17684x5200'):02X}".encode() + b"\\" + good,
        _tagged(T0, good).replace(b"s:s1", b"s:\\1"),  # a backslash inside the tag block
        _tagged(T0, _sentence(body.replace(b"AIVDM", b"AIVDO"))),  # own ship
        _tagged(T0, _sentence(b"BS" + body[2:])),  # another talker
        _tagged(T0, _sentence(body.replace(b",A,", b",,"))),  # no channel
        _tagged(T0, _sentence(body.replace(b",A,", b",2,"))),  # channel 2
        _tagged(T0, _sentence(body.replace(b",,A,", b",7,A,"))),  # a sequence id
        _tagged(T0, good) + b"\x00",  # binary garbage after the checksum
        _tagged(T0, good[:30] + b"\xff" + good[31:]),  # garbage inside the payload
        _tagged(T0 + 1, _position(lat=91.0, lon=181.0)),  # no position: a message
        _tagged(T0 + 1, _position(speed=102.3, course=360, heading=511)),  # n/a values
        _tagged(T0 + 1, _position(lat=-95.0)),
        _tagged(T0 + 1, _position(lon=185.0)),
        _tagged(T0 + 1, _position(heading=400)),
        _tagged(T0 + 1, _position(mmsi=0)),
        _tagged(T0 + 2, _position(type=18, speed=3.2, course=12.5, heading=90)),
        _tagged(T0 + 2, _position(type=18, speed=102.3, course=360, heading=511)),
        _tagged(T0 + 2, _position(type=2, status=5)),
        _tagged(T0 + 2, _position(type=3, lat=-12.345678, lon=-43.210987)),
        _tagged(T0 + 2_000_000_000_000, good),  # milliseconds
        b"",
        b"# a comment",
        b"2026-01-15T00:00:05Z " + good,  # ISO time prefix
        good,  # no time
        b"\\c:1768435200*" + b"\\" + good,  # a tag block checksum without digits
    ]
    lines += [
        _tagged(T0 + 3, s.encode())
        for s in encode_dict(
            {"type": 5, "mmsi": 473000001, "shipname": "NOOR", "callsign": "7OAB1"},
            talker_id="AI",
            seq_id=2,
        )
    ]
    return lines


def _simulated() -> bytes:
    vessels = simulate.build("red-sea-day", 0.5, vessels=8)
    return "".join(line + "\n" for line in simulate.lines(vessels)).encode()


@pytest.mark.parametrize("source", ["simulated", "corpus", "edges", "noisy"])
def test_block_decoding_equals_the_per_line_decoder_and_pyais(source: str) -> None:
    rng = random.Random(5)
    if source == "simulated":
        data = _simulated()
    elif source == "corpus":
        data = CORPUS.read_bytes()
    elif source == "edges":
        data = b"\n".join(_edge_lines() * 3)  # the last line has no line end
    else:
        lines = nmea.split_block(_simulated())[:4000] + _edge_lines()
        rng.shuffle(lines)
        data = b"\n".join(line[: rng.randrange(len(line) + 1)] if rng.random() < 0.05 else line for line in lines) + b"\n"  # fmt: skip
    block = _blocks(data, [1 << 20])
    small = _blocks(data, [0, 150, 4000])  # many block boundaries
    per_line = _per_line(data, fast=True)
    assert _outcome(block) == _outcome(per_line) == _outcome(small)
    assert block.counts.balanced() and block.counts.received > 0
    # with every fast path off, pyais decodes each field: the fixes and the quarantine agree
    plain = _per_line(data, fast=False)
    assert block.fixes == plain.fixes
    assert _outcome(block)[2:] == _outcome(plain)[2:]
    if source == "simulated":
        assert len(block.fixes) > 1000
    if source == "edges":
        reasons = block.counts.reasons
        assert reasons["bad_checksum"] == 9 and reasons["no_timestamp"] == 6
        assert reasons["impossible_value"] == 12 and reasons["binary_garbage"] == 6
        n_a = [f for f in block.fixes if f.sog is None and f.cog is None and f.heading is None]
        assert len(n_a) == 6  # class A and class B with speed, course and heading n/a


def test_block_columns_hold_the_same_fixes() -> None:
    decoder = nmea.Decoder(require_time=True)
    decoder.feed_block(b"\n".join(_edge_lines()) + b"\n" + _simulated()[:20000], 1)
    fixes, _messages, _q, columns = decoder.take_block()
    assert len(columns) == len(fixes) > 50
    rows = zip(
        columns.time.tolist(), columns.mmsi.tolist(), columns.lat.tolist(),
        columns.lon.tolist(), columns.sog.tolist(), columns.heading.tolist(),
        columns.status.tolist(), strict=True,
    )  # fmt: skip
    nan_to_none = [
        (t, m, la, lo, None if s != s else s, None if h < 0 else h, None if st < 0 else st)
        for t, m, la, lo, s, h, st in rows
    ]
    expected = [(f.time, f.mmsi, f.lat, f.lon, f.sog, f.heading, f.status) for f in fixes]
    order = lambda r: tuple(-1.0 if x is None else x for x in r)  # noqa: E731
    nan_to_none.sort(key=order)
    expected.sort(key=order)
    assert nan_to_none == expected
    assert decoder.take_block()[3].mmsi.size == 0  # handed over once


def _corpus_payloads() -> list[tuple[int, bytes, int]]:
    out = []
    for message in __import__("pyais").stream.FileReaderStream(str(CORPUS)):
        try:
            message.decode()
        except Exception:  # noqa: S112 - a payload pyais cannot read is not compared
            continue
        value, bits = nmea.payload_int(message.payload, message.fill_bits)
        if bits >= 6:
            out.append((value >> (bits - 6), message.payload, message.fill_bits))
    return out


def test_field_tables_equal_pyais_on_every_type_key_by_key() -> None:
    compared: set[int] = set()
    cut = 0
    for msg_type, payload, fill in _corpus_payloads():
        variants = [(payload, fill)]
        # also cut short: a field across the end and fields past it (pyais: partial, None)
        for keep in (len(payload) - 3, len(payload) * 2 // 3):
            if keep >= 7:
                variants.append((payload[:keep], 0))
        for p, f in variants:
            value, bits = nmea.payload_int(p, f)
            mine = nmea.decode_fields(value, bits, msg_type)
            if mine is None:
                continue
            try:
                ref = MSG_CLASS[msg_type].from_vector(bit_vector(p, f)).asdict(enum_as_int=True)
            except Exception:  # noqa: S112 - pyais refuses it; the decoder then asks pyais
                continue
            assert list(mine) == list(ref), (msg_type, p)
            for key, v in ref.items():
                assert mine[key] == v and type(mine[key]) is type(v), (msg_type, key, p)
            compared.add(msg_type)
            cut += p is not payload
    assert compared >= {1, 2, 3, 4, 5, 9, 10, 11, 18, 19, 24, 27}
    assert cut > 20
    # types pyais reads its own way are left to it
    assert nmea.decode_fields(0, 168, 21) is None and nmea.decode_fields(0, 168, 8) is None


def test_engine_feed_equals_one_by_one() -> None:
    decoder = nmea.Decoder(require_time=True)
    vessels = simulate.build("red-sea-day", 24, vessels=2)
    decoder.feed_block("".join(line + "\n" for line in simulate.lines(vessels)).encode(), 1)
    decoder.flush()
    fixes, messages = decoder.fixes, decoder.messages
    one = Engine()
    items: list[nmea.Fix | nmea.Message] = sorted([*fixes, *messages], key=lambda x: x.line_no)
    expected = []
    for item in items:
        expected += one.static(item) if isinstance(item, nmea.Message) else one.position(item)
    expected += one.finish()
    batch = Engine()
    got = []
    step = 5000
    for i in range(0, len(items), step):
        chunk = items[i : i + step]
        got += batch.feed(
            [x for x in chunk if isinstance(x, nmea.Fix)],
            [x for x in chunk if isinstance(x, nmea.Message)],
        )
    got += batch.finish()
    assert got == expected
    assert {e.type for e in got} >= {"ais_gap", "encounter", "spoofing"}


def test_parquet_written_from_columns_keeps_every_value(tmp_path: Path) -> None:
    decoder = nmea.Decoder(require_time=True)
    decoder.feed_block(b"\n".join(_edge_lines()), 1)
    fixes, _m, _q, columns = decoder.take_block()
    writer = PartitionWriter(tmp_path, batch_rows=3)
    writer.add(columns)  # over batch_rows: written at once
    writer.add(fixes[:2])  # the per-fix form still works
    assert writer.rows == len(fixes) and writer.buffered == 2
    writer.commit("src")
    day_parts = sorted((tmp_path / "positions").glob("date=2026-01-15/*.parquet"))
    table = pa.concat_tables([pq.read_table(part) for part in day_parts])
    key = lambda r: tuple(-1.0 if x is None else x for x in r)  # noqa: E731
    stored = sorted(
        (
            (r["time"].timestamp(), r["mmsi"], r["msg_type"], r["lat"], r["lon"], r["sog"],
             r["cog"], r["heading"], r["status"])
            for r in table.to_pylist()
        ),
        key=key,
    )  # fmt: skip
    expected = sorted((tuple(f[:9]) for f in [*fixes, *fixes[:2]] if f.time < 2e9), key=key)
    assert stored == expected
    days = sorted(p.parent.name for p in (tmp_path / "positions").glob("date=*/*.parquet"))
    assert sorted(set(days)) == ["date=2026-01-15", "date=2033-06-07"]  # ms: 2033


def test_batch_gc_restores_the_collector() -> None:
    before = gc.get_threshold()
    with service.batch_gc(threshold=12345):
        assert gc.get_threshold()[0] == 12345
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
