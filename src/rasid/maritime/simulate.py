"""Simulated AIS traffic through the Red Sea, Bab el-Mandeb and the Gulf of Aden.

Writes real NMEA 0183 (every payload encoded by ``pyais.encode_dict``), one sentence per
line behind an NMEA 4.0 tag block (``\\c:UNIX_SECONDS,s:rasid-sim*hh\\``), in time order,
plus a ground-truth list of the anomalies planted in it. Deterministic for a seed.

Report intervals follow ITU-R M.1371-5 Annex 1 Table 1 (class A): at anchor or moored
and under 3 kn, 3 min; 0–14 kn, 10 s; 14–23 kn, 6 s; over 23 kn, 2 s. Class B "CS"
(Table 2): 30 s above 2 kn, 3 min at 2 kn or less. Static data: type 5 every 6 min
(class A), type 24 parts A and B every 6 min (class B). ``rate`` keeps that fraction of
the position reports (the interval is divided by it) to make smaller test files; 1.0 is
the standard's rate.

Scenarios: ``normal`` (traffic only), ``red-sea-day`` (traffic and one of each anomaly:
ais_gap, encounter, loitering, spoofing as a speed jump, a position on land and one
MMSI in two places, identity change at sea, fast_approach), ``fast-approach`` (traffic
and one fast small craft closing on a merchant ship).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyais import encode_dict

from rasid.maritime import geo
from rasid.maritime.nmea import nmea_checksum

SCENARIOS = ("normal", "red-sea-day", "fast-approach")
DEFAULT_START = datetime(2026, 1, 15, tzinfo=UTC)
STATION = "rasid-sim"

# Traffic lanes as (lat, lon) waypoints, north-west to south-east. Approximate: read off
# small-scale charts of the southern Red Sea, the Bab el-Mandeb traffic separation scheme
# (IMO COLREG.2/Circ., the scheme in the Large Strait west of Perim Island: north-bound
# lane on the Perim side, south-bound lane on the African side, separation zone between)
# and the Gulf of Aden Internationally Recommended Transit Corridor (IRTC, from about
# 11°55'N 45°E to 14°30'N 53°E). Not for navigation.
LANES: dict[str, list[tuple[float, float]]] = {
    "southbound": [
        (20.00, 38.60),
        (17.50, 40.10),
        (15.20, 41.50),
        (13.60, 42.70),
        (12.80, 43.20),
        (12.62, 43.33),  # Bab el-Mandeb TSS, south-bound lane
        (12.45, 43.47),
        (12.10, 44.30),
        (11.95, 45.00),  # IRTC west end, south-bound side
        (12.60, 47.50),
        (13.50, 50.00),
        (14.35, 53.00),
    ],
    "northbound": [
        (14.50, 53.00),
        (13.65, 50.00),
        (12.75, 47.50),
        (12.10, 45.00),  # IRTC west end, north-bound side
        (12.25, 44.30),
        (12.52, 43.52),
        (12.68, 43.38),  # Bab el-Mandeb TSS, north-bound lane
        (12.90, 43.25),
        (13.70, 42.80),
        (15.30, 41.60),
        (17.60, 40.20),
        (20.10, 38.70),
    ],
}
ADEN_ANCHORAGE = (12.76, 44.93)  # approximate outer anchorage off Aden
LAND_POINT = (14.80, 44.60)  # inland Yemen (the highlands south of Sana'a)
LOITER_POINT = (14.20, 42.55)  # off the Yemeni Red Sea coast, outside the lanes

MIDS = (636, 538, 352, 355, 229, 477, 563, 241, 470, 403, 473, 215, 256, 311, 374)
NAME_WORDS = (
    "STAR",
    "OCEAN",
    "GULF",
    "PEARL",
    "HORIZON",
    "SPIRIT",
    "EAGLE",
    "FALCON",
    "TIDE",
    "CORAL",
    "DHOW",
    "NOOR",
    "SAFA",
    "MARWA",
    "AL AMAL",
    "SEA LION",
)

# Geometry shared with the detectors (rasid.maritime.geo).
_dist_nm = geo.dist_nm
_course = geo.course
_offset = geo.offset


@dataclass
class Track:
    """Keyframes (t seconds from start, lat, lon), linearly interpolated."""

    times: list[float]
    points: list[tuple[float, float]]

    def at(self, t: float) -> tuple[float, float, float, float]:
        """(lat, lon, speed knots, course) at time t (clamped to the track's ends)."""
        times = self.times
        i = max(1, min(len(times) - 1, bisect.bisect_right(times, t)))
        t0, t1 = times[i - 1], times[i]
        a, b = self.points[i - 1], self.points[i]
        f = 0.0 if t1 <= t0 else min(1.0, max(0.0, (t - t0) / (t1 - t0)))
        lat = a[0] + (b[0] - a[0]) * f
        lon = a[1] + (b[1] - a[1]) * f
        dist = _dist_nm(a, b)
        speed = 0.0 if t1 <= t0 else dist / ((t1 - t0) / 3600.0)
        course = _course(a, b) if dist > 1e-6 else 0.0
        return lat, lon, speed, course


def lane_track(
    lane: list[tuple[float, float]], start_nm: float, knots: float, t0: float, t1: float
) -> Track:
    """A track along a lane from ``start_nm`` into it, at constant speed, from t0 to t1."""
    cumulative = [0.0]
    for a, b in itertools.pairwise(lane):
        cumulative.append(cumulative[-1] + _dist_nm(a, b))
    total = cumulative[-1]
    times: list[float] = []
    points: list[tuple[float, float]] = []

    def point_at(d: float) -> tuple[float, float]:
        d = max(0.0, min(total, d))
        i = max(1, min(len(lane) - 1, bisect.bisect_right(cumulative, d)))
        seg = cumulative[i] - cumulative[i - 1]
        f = 0.0 if seg <= 0 else (d - cumulative[i - 1]) / seg
        a, b = lane[i - 1], lane[i]
        return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f

    times.append(t0)
    points.append(point_at(start_nm))
    for d in cumulative[1:]:
        if d <= start_nm:
            continue
        t = t0 + (d - start_nm) / knots * 3600.0
        if t >= t1:
            break
        times.append(t)
        points.append(point_at(d))
    end_d = start_nm + knots * (t1 - t0) / 3600.0
    times.append(max(t1, times[-1] + 1))
    points.append(point_at(end_d) if end_d <= total else lane[-1])
    return Track(times, points)


@dataclass
class Vessel:
    mmsi: int
    name: str
    call_sign: str
    imo: int
    ship_type: int
    ais_class: str  # "A" | "B"
    track: Track
    status: int = 0  # 0 under way using engine, 1 at anchor, 7 engaged in fishing
    length: int = 180
    beam: int = 30
    destination: str = "SUEZ"
    silent: list[tuple[float, float]] = field(default_factory=list)  # (t0, t1) no reports
    renames: list[tuple[float, str, str]] = field(default_factory=list)  # (t, name, call)
    fake_at: dict[float, tuple[float, float]] = field(default_factory=dict)  # jump reports
    static: bool = True  # sends static reports


@dataclass
class Simulation:
    vessels: list[Vessel]
    extra: list[tuple[float, int, str]]  # (t, seq, sentence) lines planted as they are
    truth: list[dict[str, Any]]
    start: datetime
    seconds: float


def _interval(v: Vessel, speed: float) -> float:
    if v.ais_class == "B":
        return 30.0 if speed > 2 else 180.0
    if v.status in (1, 5) or speed < 3:
        return 180.0
    if speed <= 14:
        return 10.0
    if speed <= 23:
        return 6.0
    return 2.0


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[int] = set()

    def mmsi(self, mid: int | None = None) -> int:
        while True:
            m = (mid or self.rng.choice(MIDS)) * 1_000_000 + self.rng.randrange(1000, 999_999)
            if m not in self.used:
                self.used.add(m)
                return m

    def name(self) -> str:
        return f"{self.rng.choice(NAME_WORDS)} {self.rng.choice(NAME_WORDS)}"[:20]

    def call_sign(self) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        return "".join(self.rng.choice(letters) for _ in range(2)) + str(
            self.rng.randrange(1000, 9999)
        )


def build(
    scenario: str,
    hours: float,
    seed: int = 1,
    vessels: int = 30,
    start: datetime = DEFAULT_START,
) -> Simulation:
    """The vessels, their tracks and the planted anomalies of a scenario."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    rng = random.Random(seed)
    names = _Names(rng)
    seconds = hours * 3600.0
    fleet: list[Vessel] = []
    for _ in range(vessels):
        lane_name = rng.choice(tuple(LANES))
        lane = LANES[lane_name]
        kind = rng.random()
        if kind < 0.75:
            ship_type, knots, cls = rng.choice((70, 71, 79, 80, 81, 89)), rng.uniform(10, 18), "A"
        elif kind < 0.9:
            ship_type, knots, cls = 30, rng.uniform(4, 9), "B"
        else:
            ship_type, knots, cls = 37, rng.uniform(6, 12), "B"
        track = lane_track(lane, rng.uniform(0, 500), knots, 0.0, seconds)
        fleet.append(
            Vessel(
                mmsi=names.mmsi(),
                name=names.name(),
                call_sign=names.call_sign(),
                imo=rng.randrange(9_000_000, 9_899_999) if cls == "A" else 0,
                ship_type=ship_type,
                ais_class=cls,
                track=track,
                length=rng.randrange(90, 330) if cls == "A" else rng.randrange(8, 24),
                beam=rng.randrange(15, 50) if cls == "A" else rng.randrange(3, 7),
                destination="SUEZ" if lane_name == "northbound" else "SINGAPORE",
            )
        )
    for _ in range(max(1, vessels // 10)):  # ships at anchor off Aden
        spot = _offset(ADEN_ANCHORAGE, rng.uniform(0, 360), rng.uniform(0.2, 2.0))
        fleet.append(
            Vessel(
                mmsi=names.mmsi(),
                name=names.name(),
                call_sign=names.call_sign(),
                imo=rng.randrange(9_000_000, 9_899_999),
                ship_type=80,
                ais_class="A",
                track=Track([0.0, seconds], [spot, spot]),
                status=1,
                destination="ADEN",
            )
        )
    sim = Simulation(fleet, [], [], start, seconds)
    if scenario == "red-sea-day":
        _plant_all(sim, rng, names)
    elif scenario == "fast-approach":
        _plant_fast_approach(sim, rng, names, 0.5)
    return sim


def _iso(sim: Simulation, t: float) -> str:
    return (sim.start + timedelta(seconds=round(t))).isoformat().replace("+00:00", "Z")


def _truth(
    sim: Simulation,
    kind: str,
    mmsi: int,
    t0: float,
    t1: float,
    where: tuple[float, float],
    other: int | None = None,
) -> None:
    sim.truth.append(
        {
            "type": kind,
            "mmsi": mmsi,
            "other_mmsi": other,
            "start": _iso(sim, t0),
            "end": _iso(sim, t1),
            "lat": round(where[0], 5),
            "lon": round(where[1], 5),
        }
    )


def _merchant(sim: Simulation, rng: random.Random, names: _Names, need: int) -> list[Vessel]:
    """Merchant ships under way (at least ``need``: more are added to the lanes if short)."""
    found = [v for v in sim.vessels if v.ais_class == "A" and v.status == 0 and v.imo]
    while len(found) < need:
        lane_name = rng.choice(tuple(LANES))
        v = Vessel(
            mmsi=names.mmsi(),
            name=names.name(),
            call_sign=names.call_sign(),
            imo=rng.randrange(9_000_000, 9_899_999),
            ship_type=70,
            ais_class="A",
            track=lane_track(LANES[lane_name], rng.uniform(0, 500), 13.0, 0.0, sim.seconds),
            destination="SUEZ" if lane_name == "northbound" else "SINGAPORE",
        )
        sim.vessels.append(v)
        found.append(v)
    return found


def _plant_all(sim: Simulation, rng: random.Random, names: _Names) -> None:
    T = sim.seconds
    merchants = _merchant(sim, rng, names, 6)
    # ais_gap: a merchant ship goes silent for 8 h (or 40 % of the run) mid-voyage
    gap_ship = merchants[0]
    g0, g1 = T * 0.2, T * 0.2 + min(8 * 3600.0, T * 0.4)
    gap_ship.silent.append((g0, g1))
    lat, lon, _, _ = gap_ship.track.at(g0)
    _truth(sim, "ais_gap", gap_ship.mmsi, g0, g1, (lat, lon))
    # encounter: two vessels meet in the Gulf of Aden, drift together for 3 h
    meet = (12.95, 48.40)
    e0, e1 = T * 0.3, T * 0.3 + min(3 * 3600.0, T * 0.3)
    pair = []
    for bearing, ship_type in ((300.0, 80), (120.0, 30)):
        approach = _offset(meet, bearing, 12.0)
        leave = _offset(meet, (bearing + 180) % 360, 12.0)
        drift = _offset(meet, bearing, 0.05)
        track = Track(
            [0.0, e0, e1, e1 + 1.2 * 3600, T + 1],
            [_offset(approach, bearing, 2.0), drift, _offset(drift, 90, 0.02), leave, leave],
        )
        v = Vessel(
            mmsi=names.mmsi(),
            name=names.name(),
            call_sign=names.call_sign(),
            imo=rng.randrange(9_000_000, 9_899_999),
            ship_type=ship_type,
            ais_class="A",
            track=track,
            destination="",
        )
        sim.vessels.append(v)
        pair.append(v)
    _truth(sim, "encounter", pair[0].mmsi, e0, e1, meet, pair[1].mmsi)
    # loitering: a dhow circles slowly off the coast for 5 h
    l0, l1 = T * 0.1, T * 0.1 + min(5 * 3600.0, T * 0.5)
    ring = [_offset(LOITER_POINT, b, 0.6) for b in range(0, 360, 45)]
    times = [0.0] + [l0 + (l1 - l0) * i / (len(ring) - 1) for i in range(len(ring))] + [T + 1]
    start_pt = _offset(LOITER_POINT, 60, 8.0)
    dhow = Vessel(
        mmsi=names.mmsi(473),
        name="AL AMAL",
        call_sign="",
        imo=0,
        ship_type=30,
        ais_class="B",
        track=Track(times, [start_pt, *ring, start_pt]),
        status=7,
        length=18,
        beam=5,
    )
    sim.vessels.append(dhow)
    _truth(sim, "loitering", dhow.mmsi, l0, l1, LOITER_POINT)
    # spoofing (a): one report 1.5 degrees away from the true track
    jumper = merchants[1]
    tj = T * 0.45
    lat, lon, _, _ = jumper.track.at(tj)
    jumper.fake_at[tj] = (lat + 1.5, lon - 1.0)
    _truth(sim, "spoofing", jumper.mmsi, tj, tj, (lat + 1.5, lon - 1.0))
    # spoofing (b): 30 min of positions on land
    lander = merchants[2]
    s0 = T * 0.55
    lander.silent.append((s0, s0 + 1800))
    for k in range(0, 1800, 60):
        lander.fake_at[s0 + k] = _offset(LAND_POINT, 0, k / 600.0)
    _truth(sim, "spoofing", lander.mmsi, s0, s0 + 1740, LAND_POINT)
    # spoofing (c): the same MMSI reported 100 nm away for one hour
    twin = merchants[3]
    c0 = T * 0.6
    lat, lon, _, _ = twin.track.at(c0)
    far = _offset((lat, lon), 200, 100.0)
    sim.vessels.append(
        Vessel(
            mmsi=twin.mmsi,
            name=twin.name,
            call_sign=twin.call_sign,
            imo=twin.imo,
            ship_type=twin.ship_type,
            ais_class="A",
            track=Track([0.0, c0, c0 + 3600, T + 1], [far, far, _offset(far, 200, 12), far]),
            silent=[(0.0, c0), (c0 + 3600, T + 2)],
            static=False,
        )
    )
    _truth(sim, "spoofing", twin.mmsi, c0, c0 + 3600, far)
    # identity change at sea: new name and call sign mid-voyage
    changer = merchants[4]
    ti = T * 0.5
    changer.renames.append((ti, "NEW " + changer.name[:16], names.call_sign()))
    lat, lon, _, _ = changer.track.at(ti)
    _truth(sim, "identity", changer.mmsi, ti, ti, (lat, lon))
    _plant_fast_approach(sim, rng, names, 0.7)


def _plant_fast_approach(sim: Simulation, rng: random.Random, names: _Names, when: float) -> None:
    """A small unidentified craft at 30 kn runs at a merchant ship, CPA ~0.1 nm."""
    T = sim.seconds
    target = _merchant(sim, rng, names, 6)[5]
    ti = T * when
    lat, lon, _speed, course = target.track.at(ti)
    side = (course + 90) % 360  # from the beam
    start = _offset((lat, lon), side, 10.0)  # 10 nm off at 30 kn: 20 min before
    t0 = ti - 20 * 60
    leave = _offset((lat, lon), (side + 180) % 360, 3.0)
    skiff = Vessel(
        mmsi=names.mmsi(),
        name="",
        call_sign="",
        imo=0,
        ship_type=0,
        ais_class="B",
        track=Track(
            [0.0, t0 - 600, t0, ti, ti + 360, T + 1],
            [start, start, start, _offset((lat, lon), side, 0.1), leave, leave],
        ),
        length=9,
        beam=2,
        static=False,
        silent=[(0.0, t0 - 300), (ti + 900, T + 2)],
    )
    sim.vessels.append(skiff)
    _truth(sim, "fast_approach", skiff.mmsi, ti - 15 * 60, ti, (lat, lon), target.mmsi)


# --- NMEA ------------------------------------------------------------------------------------


def _tag(t_unix: int) -> str:
    body = f"c:{t_unix},s:{STATION}"
    return f"\\{body}*{nmea_checksum(body.encode()):02X}\\"


def _vessel_lines(
    sim: Simulation, v: Vessel, rate: float, index: int
) -> Iterator[tuple[float, int, str]]:
    """(t, tie-break, line) for one vessel, in time order."""
    base = int(sim.start.timestamp())
    rng = random.Random(v.mmsi * 7 + index)
    t = rng.uniform(0, 10)
    next_static = rng.uniform(0, 360)
    seq = 0
    fakes = sorted(v.fake_at)
    fi = 0
    channel = "AB"[index % 2]
    while t < sim.seconds:
        lat, lon, speed, course = v.track.at(t)
        silent = any(a <= t < b for a, b in v.silent)
        emit_t = t
        if fi < len(fakes) and fakes[fi] <= t:
            emit_t = fakes[fi]
            lat, lon = v.fake_at[fakes[fi]]
            fi += 1
            # planted reports are sent whatever the silence
            yield from _report(v, base, emit_t, lat, lon, speed, course, channel, index)
            continue
        if not silent:
            yield from _report(v, base, t, lat, lon, speed, course, channel, index)
            if v.static and t >= next_static:
                seq = (seq + 1) % 10
                for line in _static_lines(v, t, seq, channel):
                    yield t, index, _tag(base + int(t)) + line
                next_static = t + 360.0
        interval = _interval(v, speed) / rate
        t += interval * rng.uniform(0.95, 1.05)


def _report(
    v: Vessel,
    base: int,
    t: float,
    lat: float,
    lon: float,
    speed: float,
    course: float,
    channel: str,
    index: int,
) -> Iterator[tuple[float, int, str]]:
    sog = round(min(speed, 102.2), 1)
    cog = round(course, 1) % 360.0
    heading = round(course) % 360
    if v.ais_class == "A":
        data: dict[str, Any] = {
            "type": 1,
            "mmsi": v.mmsi,
            "status": v.status,
            "turn": 0,
            "speed": sog,
            "accuracy": 1,
            "lon": round(lon, 5),
            "lat": round(lat, 5),
            "course": cog,
            "heading": heading,
            "second": int(t) % 60,
        }
    else:
        data = {
            "type": 18,
            "mmsi": v.mmsi,
            "speed": sog,
            "accuracy": 1,
            "lon": round(lon, 5),
            "lat": round(lat, 5),
            "course": cog,
            "heading": 511,
            "second": int(t) % 60,
            "cs": 1,
        }
    for line in encode_dict(data, talker_id="AI", sentence_type="VDM", radio_channel=channel):
        yield t, index, _tag(base + int(t)) + line


def _static_lines(v: Vessel, t: float, seq: int, channel: str) -> list[str]:
    name, call = v.name, v.call_sign
    for when, new_name, new_call in v.renames:
        if t >= when:
            name, call = new_name, new_call
    bow = v.length * 2 // 3
    port = v.beam // 2
    dims = {
        "to_bow": bow,
        "to_stern": v.length - bow,
        "to_port": port,
        "to_starboard": v.beam - port,
    }
    if v.ais_class == "A":
        data: dict[str, Any] = {
            "type": 5,
            "mmsi": v.mmsi,
            "ais_version": 2,
            "imo": v.imo,
            "callsign": call,
            "shipname": name,
            "ship_type": v.ship_type,
            **dims,
            "epfd": 1,
            "draught": 9.5,
            "destination": v.destination,
        }
        return encode_dict(
            data, talker_id="AI", sentence_type="VDM", radio_channel=channel, seq_id=seq
        )
    part_a: dict[str, Any] = {"type": 24, "mmsi": v.mmsi, "partno": 0, "shipname": name}
    part_b: dict[str, Any] = {
        "type": 24,
        "mmsi": v.mmsi,
        "partno": 1,
        "ship_type": v.ship_type,
        "callsign": call,
        **dims,
    }
    return [
        *encode_dict(part_a, talker_id="AI", sentence_type="VDM", radio_channel=channel),
        *encode_dict(part_b, talker_id="AI", sentence_type="VDM", radio_channel=channel),
    ]


def lines(sim: Simulation, rate: float = 1.0) -> Iterator[str]:
    """Every NMEA line of the simulation, in time order (streaming: one report per vessel
    in memory)."""
    for _t, line in timed_lines(sim, rate):
        yield line


def timed_lines(sim: Simulation, rate: float = 1.0) -> Iterator[tuple[float, str]]:
    """(seconds since the start, line) of every line, in time order."""
    if not 0 < rate <= 1:
        raise ValueError("rate must be in (0, 1]")
    streams = [_vessel_lines(sim, v, rate, i) for i, v in enumerate(sim.vessels)]
    for t, _i, line in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        yield t, line


def write(
    out: Path,
    scenario: str,
    hours: float,
    *,
    seed: int = 1,
    rate: float = 1.0,
    vessels: int = 30,
    truth: Path | None = None,
    start: datetime = DEFAULT_START,
    max_lines: int | None = None,
) -> int:
    """Write the scenario's NMEA to ``out`` (and its ground truth); returns the line count."""
    sim = build(scenario, hours, seed=seed, vessels=vessels, start=start)
    count = 0
    with out.open("w", encoding="ascii", newline="\n") as fh:
        for line in lines(sim, rate):
            fh.write(line + "\n")
            count += 1
            if max_lines is not None and count >= max_lines:
                break
    if truth is not None:
        truth.write_text(json.dumps(sim.truth, indent=2) + "\n", encoding="utf-8")
    return count
