"""The AIS decoder: GPSD's corpus against pyais and GPSD's own decodes, quarantine reasons,
the count invariant, the fast position path, MID flags and the simulator (no database)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pyais
import pytest
from pyais.encode import encode_dict

from rasid.maritime import nmea, simulate
from rasid.maritime.mid import flag_of, mmsi_kind

DATA = Path(__file__).parent / "data" / "ais"
CORPUS = DATA / "gpsd-sample.aivdm"


def _feed(lines: list[bytes], **kwargs: Any) -> nmea.Decoder:
    decoder = nmea.Decoder(**kwargs)
    for i, line in enumerate(lines, 1):
        decoder.feed(line, i)
        assert decoder.counts.balanced()
    decoder.flush()
    assert decoder.counts.balanced()
    return decoder


def _corpus_lines() -> list[bytes]:
    return CORPUS.read_bytes().splitlines()


def _pyais(lines_by_no: dict[int, bytes], line_nos: tuple[int, ...]) -> dict[str, Any]:
    # pyais reads the fill bits from the last comma field: give it the sentence without
    # the receiver data that some lines carry after the checksum
    raws = []
    for k in line_nos:
        raw = lines_by_no[k].strip()
        star = raw.find(b"*")
        raws.append(raw[: star + 3])
    return dict(pyais.decode(*raws).asdict(enum_as_int=True))


@pytest.mark.parametrize("fast", [True, False])
def test_every_corpus_message_decodes_as_pyais_does(fast: bool) -> None:
    lines = _corpus_lines()
    decoder = _feed(lines, fast=fast)
    by_no = dict(enumerate(lines, 1))
    # one line only fails: a second fragment written without its '!' (GPSD: "yields nothing")
    assert decoder.counts.quarantined == 1
    assert [q.reason for q in decoder.quarantine] == ["malformed"]
    assert decoder.counts.messages >= 97
    for fix in decoder.fixes:
        ref = _pyais(by_no, (fix.line_no,))
        assert (fix.mmsi, fix.msg_type, fix.lat, fix.lon) == (
            ref["mmsi"],
            ref["msg_type"],
            ref["lat"],
            ref["lon"],
        )
        if fix.msg_type == 27:  # knots and whole degrees; 63 and 511 are "not available"
            assert fix.sog == (None if ref["speed"] >= 63 else ref["speed"])
            assert fix.cog == (None if ref["course"] >= 511 else ref["course"])
            continue
        assert fix.sog == (None if ref["speed"] >= 102.3 else ref["speed"])
        assert fix.cog == (None if ref["course"] == 360.0 else ref["course"])
        assert fix.heading == (None if ref["heading"] == 511 else ref["heading"])
    for msg in decoder.messages:
        assert msg.fields == _pyais(by_no, msg.line_nos), msg.line_nos


def test_positions_and_static_reports_match_gpsd() -> None:
    decoder = _feed(_corpus_lines())
    fixes = {(f.msg_type, f.mmsi): f for f in decoder.fixes}
    statics = {(m.msg_type, m.mmsi): m.fields for m in decoder.messages}
    checked = 0
    for line in (DATA / "gpsd-sample.aivdm.js.chk").read_text().splitlines():
        ref = json.loads(line)
        key = (ref["type"], ref["mmsi"])
        if ref["type"] in (1, 2, 3, 18, 19) and key in fixes:
            fix = fixes[key]
            assert fix.lat == pytest.approx(ref["lat"], abs=1e-6)
            assert fix.lon == pytest.approx(ref["lon"], abs=1e-6)
            if ref["speed"] < 102.3:
                assert fix.sog == pytest.approx(ref["speed"])
            if ref["course"] < 360:
                assert fix.cog == pytest.approx(ref["course"])
            checked += 1
        elif ref["type"] == 5 and key in statics:
            got = statics[key]
            assert got["shipname"] == ref["shipname"]
            assert got["callsign"] == ref["callsign"]
            assert got["imo"] == ref["imo"]
            assert got["ship_type"] == ref["shiptype"]
            assert got["destination"] == ref["destination"]
            checked += 1
    assert checked >= 8


def _fast_equals_pyais(payloads: list[tuple[bytes, int]]) -> int:
    compared = 0
    for payload, fill in payloads:
        value, bits = nmea.payload_int(payload, fill)
        msg_type = value >> (bits - 6)
        if bits != 168 or msg_type not in (1, 2, 3, 18):
            continue
        mmsi, speed, lon, lat, course, heading, second, status = nmea.decode_position_fast(
            value, msg_type
        )
        ref = nmea.decode_pyais(value, bits, payload, fill).asdict(enum_as_int=True)
        assert (mmsi, speed, lon, lat, course, heading, second) == (
            ref["mmsi"],
            ref["speed"],
            ref["lon"],
            ref["lat"],
            ref["course"],
            ref["heading"],
            ref["second"],
        )
        assert status == ref.get("status", -1)
        compared += 1
    return compared


def _payloads(lines: list[bytes]) -> list[tuple[bytes, int]]:
    out = []
    for line in lines:
        start = line.find(b"!")
        if start < 0:
            continue
        fields = line[start:].split(b"*")[0].split(b",")
        if len(fields) == 7 and fields[1] == b"1":
            out.append((fields[5], int(fields[6])))
    return out


def test_fast_position_path_equals_pyais_field_by_field() -> None:
    assert _fast_equals_pyais(_payloads(_corpus_lines())) >= 8
    rng = random.Random(5)
    crafted = []
    for _ in range(2000):
        msg_type = rng.choice((1, 2, 3, 18))
        data = {
            "type": msg_type,
            "mmsi": rng.randrange(1, 999_999_999),
            "speed": rng.randrange(0, 1024) / 10,
            "lat": rng.uniform(-91, 91),
            "lon": rng.uniform(-181, 181),
            "course": rng.randrange(0, 3601) / 10,
            "heading": rng.randrange(0, 512),
            "second": rng.randrange(0, 64),
            "status": rng.randrange(0, 16),
        }
        crafted.append(encode_dict(data)[0].encode())
    simulated = simulate.lines(simulate.build("fast-approach", 1, seed=2, vessels=5), rate=0.2)
    sim_lines = [line.encode() for line in simulated]
    assert _fast_equals_pyais(_payloads(crafted)) == 2000
    assert _fast_equals_pyais(_payloads(sim_lines)) > 100


def _line(body: str) -> bytes:
    return f"!{body}*{nmea.nmea_checksum(body.encode()):02X}".encode()


def _tagged(t: int, sentence: bytes, station: str = "s1") -> bytes:
    tag = f"c:{t},s:{station}"
    return f"\\{tag}*{nmea.nmea_checksum(tag.encode()):02X}\\".encode() + sentence


def _position(**fields: Any) -> bytes:
    data = {"type": 1, "mmsi": 473000001, "lat": 12.5, "lon": 43.3, "speed": 12.0}
    data.update(fields)
    return encode_dict(data, talker_id="AI", sentence_type="VDM")[0].encode()


def _static_two_parts(seq: int = 3) -> list[bytes]:
    data = {"type": 5, "mmsi": 473000001, "shipname": "NOOR", "callsign": "7OAB1"}
    return [s.encode() for s in encode_dict(data, talker_id="AI", seq_id=seq)]


def test_quarantine_reasons_for_bad_lines() -> None:
    good = _position()
    first, second = _static_two_parts()
    bad_checksum = good[:-2] + (b"00" if not good.endswith(b"00") else b"01")
    cases: list[tuple[bytes | list[bytes], str]] = [
        (bad_checksum, "bad_checksum"),
        (b"\\c:1,s:x*00\\" + good, "bad_checksum"),  # the tag block's checksum
        (good[: len(good) // 2], "truncated"),
        (b"\x00\xff\xfe garbage \x80", "binary_garbage"),
        (b"hello world", "malformed"),
        (_line("AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0,extra"), "malformed"),
        (_line("AIVDM,1,1,,A,15RT{}0PAso;90TKcjM8h6g208CQ,0"), "malformed"),
        (second, "orphan_fragment"),
        ([first, first.replace(b",1,3,", b",1,3,", 1), second], "out_of_order_fragment"),
        (_line("AIVDM,1,1,,A,15RTgt,0"), "truncated"),
        (_line("AIVDM,1,1,,A," + "p" * 28 + ",0"), "unsupported_type"),  # type 56
        (_position(lat=95.0), "impossible_value"),
        (_position(lon=-185.0), "impossible_value"),
        (_position(heading=400), "impossible_value"),
        (_position(mmsi=0), "impossible_value"),
    ]
    for case, reason in cases:
        lines = case if isinstance(case, list) else [case]
        decoder = _feed(lines)
        assert decoder.counts.reasons[reason] >= 1, (case, decoder.quarantine)
        assert all(q.reason == reason for q in decoder.quarantine), (case, decoder.quarantine)
    # a fragment 2 followed by its fragment 1: the 2 is an orphan, the 1 then waits for ever
    decoder = _feed([second, first])
    assert decoder.counts.reasons == {"orphan_fragment": 2}


def test_not_available_values_are_not_errors() -> None:
    decoder = _feed([_position(lat=91.0, lon=181.0, speed=102.3, course=360, heading=511)])
    assert decoder.counts.decoded == 1 and decoder.counts.no_position == 1
    assert decoder.fixes == []
    decoder = _feed([_position(speed=102.3, course=360, heading=511)])
    (fix,) = decoder.fixes
    assert (fix.sog, fix.cog, fix.heading) == (None, None, None)


def test_times_from_tag_blocks_and_iso_prefixes() -> None:
    good = _position()
    first, second = _static_two_parts()
    decoder = _feed(
        [
            _tagged(1_768_435_200, good),
            b"2026-01-15T00:00:05Z " + good,
            b"2026-01-15 00:00:07," + good,
            _tagged(1_768_435_210_000, good),  # milliseconds
            _tagged(1_768_435_220, first),
            _tagged(1_768_435_220, second),
            good,
        ],
        require_time=True,
    )
    assert [f.time for f in decoder.fixes] == [
        1_768_435_200.0,
        1_768_435_205.0,
        1_768_435_207.0,
        1_768_435_210.0,
    ]
    assert decoder.fixes[0].station == "s1"
    assert decoder.messages[0].time == 1_768_435_220.0
    assert decoder.messages[0].fields["shipname"] == "NOOR"
    assert decoder.counts.reasons == {"no_timestamp": 1}


def test_pending_fragments_time_out_and_the_buffer_is_bounded() -> None:
    first, _second = _static_two_parts()
    good = _position()
    decoder = nmea.Decoder(fragment_timeout=60)
    decoder.feed(_tagged(1000, first), 1)
    assert decoder.counts.pending == 1 and decoder.counts.balanced()
    decoder.feed(_tagged(1030, _static_two_parts(seq=4)[0]), 2)
    assert decoder.counts.pending == 2
    decoder.feed(_tagged(1070, _static_two_parts(seq=5)[0]), 3)  # line 1 is now 70 s old
    assert decoder.counts.reasons == {"orphan_fragment": 1}
    assert decoder.counts.pending == 2 and decoder.counts.balanced()
    decoder.feed(_tagged(1071, good), 4)
    small = nmea.Decoder(max_pending=2)
    for seq in range(5):
        small.feed(_static_two_parts(seq=seq)[0], seq + 1)
        assert small.counts.pending <= 2 and small.counts.balanced()
    assert small.counts.reasons == {"orphan_fragment": 3}


def test_count_invariant_on_a_noisy_mix() -> None:
    rng = random.Random(11)
    clean = [line.encode() for line in simulate.lines(simulate.build("normal", 1, vessels=4))]
    noisy: list[bytes] = []
    for line in clean[:3000]:
        roll = rng.random()
        if roll < 0.05:
            noisy.append(line[: rng.randrange(1, len(line))])
        elif roll < 0.08:
            noisy.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60))))
        elif roll < 0.1:
            cut = rng.randrange(len(line))
            noisy.append(line[:cut] + b"X" + line[cut + 1 :])
        elif roll < 0.12:
            continue  # a lost line (breaks some multi-sentence messages)
        else:
            noisy.append(line)
    decoder = nmea.Decoder(require_time=True)
    for i, line in enumerate(noisy, 1):
        decoder.feed(line, i)
        assert decoder.counts.balanced()
    decoder.flush()
    c = decoder.counts
    assert c.balanced() and c.pending == 0
    assert c.received == len(noisy) - c.ignored
    assert c.quarantined > 100 and c.decoded > 1000
    assert sum(c.reasons.values()) == c.quarantined == len(decoder.quarantine)


def test_flag_from_mid_and_special_prefixes() -> None:
    assert flag_of(473123456) == "YE" and flag_of(636012345) == "LR"
    assert flag_of(403000001) == "SA" and flag_of(352999999) == "PA"
    for mmsi, kind in [
        (4730001, "coast_station"),  # 00MIDxxxx
        (47300001, "group"),  # 0MIDxxxxx
        (111473001, "sar_aircraft"),
        (984730001, "associated_craft"),
        (994731234, "aid_to_navigation"),
        (970123456, "ais_sart"),
        (972123456, "man_overboard"),
        (974123456, "epirb_ais"),
    ]:
        assert mmsi_kind(mmsi) == kind
        assert flag_of(mmsi) == "", mmsi
    assert mmsi_kind(0) == "invalid" and mmsi_kind(1_000_000_000) == "invalid"


def test_simulator_is_deterministic_and_decodes_cleanly(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.nmea", tmp_path / "b.nmea", tmp_path / "c.nmea"
    ta, tb = tmp_path / "a.json", tmp_path / "b.json"
    simulate.write(a, "red-sea-day", 24, seed=4, rate=0.05, vessels=8, truth=ta)
    simulate.write(b, "red-sea-day", 24, seed=4, rate=0.05, vessels=8, truth=tb)
    simulate.write(c, "red-sea-day", 24, seed=5, rate=0.05, vessels=8)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert ta.read_text() == tb.read_text()
    truth = json.loads(ta.read_text())
    assert {t["type"] for t in truth} == {
        "ais_gap",
        "encounter",
        "loitering",
        "spoofing",
        "identity",
        "fast_approach",
    }
    assert all(
        set(t) == {"type", "mmsi", "other_mmsi", "start", "end", "lat", "lon"} for t in truth
    )
    decoder = _feed(a.read_bytes().splitlines(), require_time=True)
    assert decoder.counts.quarantined == 0 and decoder.counts.received > 1000
    times = [f.time for f in decoder.fixes]
    assert times == sorted(times)
    assert {5, 24} <= {m.msg_type for m in decoder.messages}
    assert {1, 18} <= {f.msg_type for f in decoder.fixes}
    normal = list(simulate.lines(simulate.build("normal", 2, vessels=5)))
    assert simulate.build("normal", 2, vessels=5).truth == [] and normal
