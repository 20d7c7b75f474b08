"""Maritime detectors: fixes and static reports in, :class:`AlertEvent` values out.

One streaming :class:`Engine` serves live feeds and file replay alike. It is pure (no
database, no wall clock): time is *event time*, the largest message time seen, so the
same lines give the same alerts whether they arrive over an hour of a live feed or in
a second of replay. Every event is emitted once, with a stable key
(:attr:`AlertEvent.key`: type, subtype, vessel(s), start second).

Feeding::

    engine = Engine()
    for fix in fixes:        engine.position(fix)     # rasid.maritime.nmea.Fix
    for msg in messages:     engine.static(msg)       # nmea.Message (types 5, 19, 24)
    engine.advance(now)      # live: after each batch (raises ongoing gaps)
    engine.finish()          # end of a replay: closes what is still open

Definitions and defaults (:class:`Params`; sources in its field comments):

* ``ais_gap`` — no position for ≥ 6 h from a vessel that reported regularly before
  (≥ 14 positions in the 12 h before the gap) and whose last position is ≥ 10 km from a
  port or anchorage; a second event of subtype ``suspected_disabling`` when the gap
  reaches 12 h. Global Fishing Watch, "AIS off" / gap events (Welch et al. 2022,
  *Science Advances* 8, eabq2109: gaps ≥ 12 h, ≥ 14 positions in the prior 12 h;
  GFW's event API lists gaps from 6 h), adapted to terrestrial + satellite reception.
  Raised while still open (by :meth:`Engine.advance`) or when the vessel reappears,
  whichever comes first; the key is the same either way.
* ``encounter`` — two vessels within 500 m for ≥ 2 h with median speed < 2 kn, ≥ 10 km
  from a port or anchorage; episodes of the same pair < 4 h apart are one event.
  GFW encounters (Miller et al. 2018, *Frontiers in Marine Science* 5:240; GFW
  encounter events). Continuity: close observations at most 1 h apart.
* ``loitering`` — time-weighted mean SOG < 2 kn over ≥ 4 h, ≥ 10 km from ports and
  anchorages (GFW loitering events, with the issue's 4 h). Time a vessel spends within
  500 m of another slow vessel belongs to the encounter detector: the 4 h window must
  start after the vessel's last such proximity.
* ``spoofing`` — ``implied_speed``: a position that would need > 50 kn from the
  vessel's track (a jump; decided when the track resumes for 10 min without the
  alternate position recurring, or when the alternate track goes on alone);
  ``two_places``: the same MMSI reporting two positions alternately (the alternate
  track reports twice with the main track in between); ``on_land``: a position on
  land more than 1 km from the coast (Windward / Skylight spoofing indicators).
* ``identity`` — ``invalid_mmsi`` (not a ship-station MMSI of ITU-R M.585, or a MID
  that the ITU has not allocated); ``name_change`` / ``call_sign_change`` /
  ``imo_change`` at sea (≥ 10 km from port; confirmed by the next static report);
  ``shared_mmsi`` (a changed identity flips back: two vessels on one MMSI);
  ``flag_change`` (an IMO number reappears under an MMSI of another flag).
* ``zone_entry`` — a vessel of a watched category (default: unidentified craft — no
  static report 12 min after its first position, i.e. two class A static intervals
  — and invalid MMSIs) entering a watched zone (TSS, transit corridor, territorial
  sea, users' zones). Subtype = the zone id.
* ``fast_approach`` — a small (class B, or length < 20 m) or unidentified craft making
  ≥ 10 kn whose closest point of approach to a merchant vessel (ship type 70–89, or
  class A with an IMO number) is < 1 nm within 15 min at a relative speed > 15 kn
  (issue 5; BMP5, "Best Management Practices to Deter Piracy and Enhance Maritime
  Security in the Red Sea, Gulf of Aden, Indian Ocean and Arabian Sea", 2018, on
  suspicious approaches by small craft).

Severity rule: ``fast_approach`` critical; ``spoofing``, ``shared_mmsi`` and
``suspected_disabling`` high; ``encounter`` high; everything else medium.

Performance: per fix, a few dictionary look-ups and float operations. Neighbour
searches use grids (0.05° for encounters among slow vessels, 0.25° for merchants
near a fast small craft) and run at most every ``pair_check_s`` / ``approach_check_s``
per vessel; zone and land membership are cached per 0.05° cell (:mod:`zones`); port
distances are only computed when an event is about to fire. Memory per vessel is
bounded: a few recent fixes, a 4-hour window of positions sampled every 2 minutes,
and 13 hourly counters.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from operator import attrgetter
from statistics import median
from typing import Any

from rasid.maritime.events import AlertEvent, EvidenceFix
from rasid.maritime.geo import KM_PER_NM, NM_PER_DEG, cpa, velocity
from rasid.maritime.mid import flag_of, mmsi_kind
from rasid.maritime.nmea import Fix, Message
from rasid.maritime.zones import _CELLS_PER_DEG, INSIDE, OUTSIDE, Zone, Zones, cell_of

CLASS_B_TYPES = frozenset({18, 19})
_CELLS = _CELLS_PER_DEG  # zones grid cells per degree (as zones.cell_of)
_RAD = math.pi / 180.0
_LINE_NO = attrgetter("line_no")
CATEGORIES = ("unidentified", "invalid_mmsi", "small", "all")
_ZONE_PRIORITY = {
    "port": 0,
    "anchorage": 1,
    "tss": 2,
    "corridor": 3,
    "territorial_sea": 4,
    "user": 5,
    "war_risk": 6,
}


@dataclass(frozen=True)
class Params:
    """Every detector parameter, with its default and where the default comes from."""

    # --- ais_gap: Global Fishing Watch AIS gap events (Welch et al. 2022, Sci. Adv.
    # 8:eabq2109; GFW events API: gaps listed from 6 h, "intentional disabling" ≥ 12 h).
    gap_hours: float = 6.0
    gap_disabling_hours: float = 12.0
    gap_prior_hours: float = 12.0  # GFW: positions counted in the 12 h before the gap
    gap_prior_min_fixes: int = 14  # GFW: ≥ 14 positions in those 12 h ("reported regularly")
    gap_port_km: float = 10.0  # last position this far from a port/anchorage edge (GFW: 10 km)
    # --- encounter: GFW encounters (Miller et al. 2018, Front. Mar. Sci. 5:240).
    encounter_distance_m: float = 500.0
    encounter_min_hours: float = 2.0
    encounter_max_median_kn: float = 2.0
    encounter_port_km: float = 10.0
    encounter_merge_hours: float = 4.0  # episodes of one pair less than 4 h apart: one event
    encounter_max_gap_s: float = 3600.0  # Rasid: close observations at most 1 h apart
    encounter_gate_kn: float = 4.0  # Rasid prefilter: only vessels under 4 kn are paired
    pair_check_s: float = 60.0  # Rasid: a slow vessel looks for neighbours once a minute
    pair_max_age_s: float = 1800.0  # Rasid: a neighbour's last fix may be 30 min old
    # --- loitering: GFW loitering events (mean speed < 2 kn), issue 5: ≥ 4 h.
    loitering_max_mean_kn: float = 2.0
    loitering_min_hours: float = 4.0
    loitering_port_km: float = 10.0
    sample_s: float = 120.0  # Rasid: track window sampled every 2 min
    # --- spoofing: Windward / Skylight indicators; 50 kn from issue 5.
    spoof_max_implied_kn: float = 50.0
    spoof_min_jump_nm: float = 0.5  # Rasid: smaller position errors are not spoofing
    spoof_time_resolution_s: float = 1.0  # AIS tag-block times are whole seconds
    spoof_window_s: float = 600.0  # Rasid: an alternate track ends after 10 min unheard
    spoof_promote_fixes: int = 3  # Rasid: an alternate track reporting alone 3 times wins
    # --- identity
    identity_port_km: float = 10.0  # "at sea": ≥ 10 km from a port/anchorage (as GFW)
    unidentified_after_s: float = 720.0  # two class A static intervals (ITU-R M.1371: 6 min)
    # --- zone_entry: watched categories (see CATEGORIES) entering watched zones.
    zone_watch_categories: tuple[str, ...] = ("unidentified", "invalid_mmsi")
    # --- fast_approach: issue 5, after BMP5 (2018) on suspicious small-craft approaches.
    approach_cpa_nm: float = 1.0
    approach_tcpa_min: float = 15.0
    approach_min_rel_kn: float = 15.0
    approach_min_craft_kn: float = 10.0  # Rasid: the craft itself must be "fast"
    approach_small_length_m: float = 20.0
    approach_check_s: float = 10.0  # Rasid: at most one CPA search per craft per 10 s
    approach_max_age_s: float = 300.0  # Rasid: merchant fix at most 5 min old
    approach_reset_s: float = 1800.0  # Rasid: a new approach of the pair after 30 min
    # --- engine
    tick_s: float = 300.0  # Rasid: ongoing gaps and stale state checked every 5 min
    evict_hours: float = 48.0  # Rasid: vessels unheard this long are forgotten
    evidence_fixes: int = 3  # fixes before (and after, when known) in the evidence

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SEVERITY: dict[tuple[str, str], str] = {
    ("ais_gap", ""): "medium",
    ("ais_gap", "suspected_disabling"): "high",
    ("encounter", ""): "high",
    ("loitering", ""): "medium",
    ("spoofing", "implied_speed"): "high",
    ("spoofing", "two_places"): "high",
    ("spoofing", "on_land"): "high",
    ("identity", "shared_mmsi"): "high",
    ("fast_approach", ""): "critical",
}


def severity(alert_type: str, subtype: str) -> str:
    """The documented severity rule (module docstring)."""
    return SEVERITY.get((alert_type, subtype), "medium")


# --- per-vessel state -------------------------------------------------------------------------


class _Vessel:
    __slots__ = (
        "alt_done",
        "alt_first",
        "alt_last",
        "alt_mixed",
        "alt_n",
        "alt_seen",
        "approach_t",
        "cls_b",
        "first_t",
        "gap_done",
        "hour",
        "hour_n",
        "hours",
        "identity",
        "imo",
        "invalid",
        "land_last",
        "last",
        "length",
        "loiter_open",
        "mcell",
        "merchant",
        "mmsi",
        "pair_t",
        "pending",
        "prox_t",
        "recent",
        "sample_t",
        "samples",
        "scell",
        "ship_type",
        "static_t",
        "wsum",
        "zcell",
        "zones",
    )

    def __init__(self, mmsi: int, t: float) -> None:
        self.mmsi = mmsi
        self.first_t = t
        self.last: Fix | None = None
        self.recent: deque[Fix] = deque(maxlen=6)
        self.samples: deque[tuple[float, float, float, float]] = deque()  # t, lat, lon, kn
        self.sample_t = -math.inf
        self.wsum = 0.0
        self.hour = -1
        self.hour_n = 0
        self.hours: deque[tuple[int, int]] = deque(maxlen=14)
        self.gap_done: tuple[float, int] = (-1.0, 0)  # (gap start, levels raised)
        self.loiter_open = False
        self.prox_t = -math.inf
        self.pair_t = -math.inf
        self.approach_t = -math.inf
        self.scell = -1
        self.mcell = -1
        self.zcell = -1
        self.zones: tuple[Zone, ...] | None = None
        self.alt_first: Fix | None = None
        self.alt_last: Fix | None = None
        self.alt_n = 0
        self.alt_mixed = False
        self.alt_done = False  # the alternate track was reported (two_places)
        self.alt_seen: list[Fix] = []
        self.land_last: Fix | None = None
        self.cls_b = False
        self.static_t: float | None = None
        self.identity: dict[str, Any] = {}
        self.pending: dict[str, tuple[Any, Any, float]] = {}  # key → (old, new, t)
        self.imo = 0
        self.ship_type = 0
        self.length = 0
        self.merchant = False
        self.invalid = invalid_mmsi(mmsi)


class _Pair:
    __slots__ = ("ep_start", "event_end", "event_start", "last_close", "port_checked", "speeds")

    def __init__(self) -> None:
        self.ep_start = -math.inf
        self.last_close = -math.inf
        self.speeds: list[float] = []
        self.event_start: float | None = None
        self.event_end = -math.inf
        self.port_checked: float | None = None  # episode start whose port check failed


def _clean(text: Any) -> str:
    return str(text or "").replace("@", " ").strip()


def static_fields(msg: Message) -> dict[str, Any]:
    """Identity fields of a static report (as :func:`rasid.maritime.service._static_fields`)."""
    f = msg.fields
    out: dict[str, Any] = {}
    part_a = msg.msg_type == 24 and f.get("partno") == 0
    part_b = msg.msg_type == 24 and f.get("partno") == 1
    if (msg.msg_type in (5, 19) or part_a) and _clean(f.get("shipname")):
        out["name"] = _clean(f.get("shipname"))
    if (msg.msg_type == 5 or part_b) and _clean(f.get("callsign")):
        out["call_sign"] = _clean(f.get("callsign"))
    if msg.msg_type == 5 and f.get("imo"):
        out["imo"] = int(f["imo"])
    if msg.msg_type in (5, 19) or part_b:
        if f.get("ship_type"):
            out["ship_type"] = int(f["ship_type"])
        bow, stern = f.get("to_bow") or 0, f.get("to_stern") or 0
        if bow + stern:
            out["length_m"] = int(bow + stern)
    return out


def invalid_mmsi(mmsi: int) -> bool:
    """Not a plausible ship-station MMSI for a position report."""
    kind = mmsi_kind(mmsi)
    if kind in ("invalid", "coast_station", "group"):
        return True
    return kind == "ship" and not flag_of(mmsi)


# --- the engine -------------------------------------------------------------------------------


class Engine:
    """Streaming detectors over event time (see the module docstring)."""

    def __init__(self, params: Params | None = None, zones: Zones | None = None) -> None:
        self.p = p = params or Params()
        self.zones = zones if zones is not None else Zones.load_default()
        for c in p.zone_watch_categories:
            if c not in CATEGORIES:
                raise ValueError(f"unknown zone watch category {c!r}")
        self.vessels: dict[int, _Vessel] = {}
        self.now = -math.inf
        self._last_tick = -math.inf
        self._out: list[AlertEvent] = []
        self._keys: set[str] = set()
        self._slow: dict[int, dict[int, _Vessel]] = {}  # 0.05° cell → slow vessels
        self._merchants: dict[int, dict[int, _Vessel]] = {}  # 0.25° cell → merchants
        self._pairs: dict[tuple[int, int], _Pair] = {}
        self._approach: dict[tuple[int, int], tuple[float, float]] = {}  # → (start, last)
        self._imo_owner: dict[int, tuple[int, float]] = {}
        # precomputed thresholds
        self._gap_s = p.gap_hours * 3600.0
        self._dis_s = p.gap_disabling_hours * 3600.0
        self._loiter_s = p.loitering_min_hours * 3600.0
        self._enc_nm = p.encounter_distance_m / 1852.0
        self._enc_s = p.encounter_min_hours * 3600.0
        self._merge_s = p.encounter_merge_hours * 3600.0
        self._max_kn_s = p.spoof_max_implied_kn / 3600.0  # nm per second
        self._watch = frozenset(p.zone_watch_categories)
        self._land_mask = self.zones.land
        # parameters read on every fix, as attributes (hot path)
        self._tick_s = p.tick_s
        self._sample_s = p.sample_s
        self._jump_nm = p.spoof_min_jump_nm
        self._time_res_s = p.spoof_time_resolution_s
        self._spoof_window_s = p.spoof_window_s
        self._gate_kn = p.encounter_gate_kn
        self._pair_check_s = p.pair_check_s
        self._craft_kn = p.approach_min_craft_kn
        self._approach_check_s = p.approach_check_s
        # zone-entry categories that do not depend on the vessel's identity being known
        self._watch_any_vessel = bool(self._watch & {"all", "small"})

    # -- public API

    def position(self, fix: Fix) -> list[AlertEvent]:
        """Feed one position report; returns the events it completes."""
        out = self._out = []
        self._position(fix)
        return out

    def static(self, msg: Message) -> list[AlertEvent]:
        """Feed one decoded non-position message; static reports update identity."""
        out = self._out = []
        self._static(msg)
        return out

    def feed(self, fixes: Sequence[Fix], messages: Sequence[Message] = ()) -> list[AlertEvent]:
        """A batch in arrival order (``fixes`` and ``messages`` each in line order, taken
        together by line number), with the events of :meth:`position` and :meth:`static`
        called one by one."""
        out = self._out = []
        position = self._position
        if not messages:
            for fix in fixes:
                position(fix)
            return out
        items: list[Fix | Message] = [*fixes, *messages]
        items.sort(key=_LINE_NO)
        static = self._static
        for item in items:
            if type(item) is Message:
                static(item)
            else:
                position(item)  # type: ignore[arg-type]
        return out

    def _position(self, fix: Fix) -> None:
        t = fix.time
        if t is None:
            return
        if t > self.now:
            self.now = t
            if t - self._last_tick >= self._tick_s:
                self._tick(t)
        v = self.vessels.get(fix.mmsi)
        if v is None:
            v = self.vessels[fix.mmsi] = _Vessel(fix.mmsi, t)
            if v.invalid:
                self._emit("identity", "invalid_mmsi", v, t, t, fix.lat, fix.lon,
                           measures={"mmsi_kind": mmsi_kind(fix.mmsi)})  # fmt: skip
        if fix.msg_type in CLASS_B_TYPES:
            v.cls_b = True
        lat, lon = fix.lat, fix.lon
        cell = int((lat + 90.0) * _CELLS) * 100_000 + int((lon + 180.0) * _CELLS)  # cell_of
        land = self._land_mask
        if land is not None:
            st = land._status.get(cell)
            if st != OUTSIDE and (st == INSIDE or self.zones.on_land(lat, lon)):
                self._land(v, fix)
                return
        last = v.last
        if last is None:
            self._accept(v, fix, cell)
            return
        dt = t - (last.time or 0.0)
        if dt < 0:
            return  # older than the track: not used
        alt = v.alt_last
        if alt is not None and t - (alt.time or 0.0) > self._spoof_window_s:
            self._close_alt(v)
        dlat = (lat - last.lat) * NM_PER_DEG
        dlon = (lon - last.lon) * NM_PER_DEG * math.cos(lat * _RAD)
        d = math.hypot(dlat, dlon)
        if d > self._jump_nm and d > self._max_kn_s * (dt + self._time_res_s):
            self._alternate(v, fix, d, dt)
        else:
            self._accept(v, fix, cell)

    def _static(self, msg: Message) -> None:
        t = msg.time
        if t is None or msg.msg_type not in (5, 19, 24):
            return
        if t > self.now:
            self.now = t
        values = static_fields(msg)
        v = self.vessels.get(msg.mmsi)
        if v is None:
            v = self.vessels[msg.mmsi] = _Vessel(msg.mmsi, t)
        if msg.msg_type in (19, 24):
            v.cls_b = True
        if v.static_t is None:
            v.static_t = t
        if not values:
            return
        if "ship_type" in values:
            v.ship_type = values["ship_type"]
        if "length_m" in values:
            v.length = values["length_m"]
        if "imo" in values:
            v.imo = values["imo"]
            self._flag_change(v, values["imo"], t)
        merchant = 70 <= v.ship_type <= 89 or (not v.cls_b and v.imo > 0)
        if merchant != v.merchant:
            v.merchant = merchant
            if not merchant:
                self._grid_remove(self._merchants, v, v.mcell)
                v.mcell = -1
        self._identity(v, values, t)

    def advance(self, now: float) -> list[AlertEvent]:
        """Move event time on (live: after each batch); raises ongoing gaps."""
        out = self._out = []
        if now > self.now:
            self.now = now
        if self.now - self._last_tick >= self.p.tick_s:
            self._tick(self.now)
        return out

    def finish(self) -> list[AlertEvent]:
        """End of input: raise what is due and close what is open."""
        out = self._out = []
        if self.now > -math.inf:
            self._tick(self.now)
        for v in self.vessels.values():
            if v.alt_first is not None:
                self._close_alt(v)
            while v.pending:
                key = min(v.pending)
                old, new, t = v.pending.pop(key)
                self._change(v, key, old, new, t)
        return out

    # -- helpers

    def _emit(
        self,
        alert_type: str,
        subtype: str,
        v: _Vessel,
        start: float,
        end: float,
        lat: float,
        lon: float,
        other: _Vessel | None = None,
        measures: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
        extra: Iterable[Fix] = (),
        zone: str | None = None,
    ) -> None:
        ev = AlertEvent(
            type=alert_type,
            mmsi=v.mmsi,
            start=start,
            end=end,
            lat=round(lat, 5),
            lon=round(lon, 5),
            severity=severity(alert_type, subtype),
            other_mmsi=other.mmsi if other is not None else None,
            subtype=subtype,
            zone=zone if zone is not None else self._zone_name(lat, lon),
            parameters=parameters or {},
            measures=measures or {},
        )
        key = ev.key
        if key in self._keys:
            return
        self._keys.add(key)
        if len(self._keys) > 200_000:  # bounded: old keys are no longer reachable
            self._keys = {key}
        ev.evidence = self._evidence(v, start, end, extra)
        if other is not None:
            ev.evidence += self._evidence(other, start, end, ())
        self._out.append(ev)

    def _evidence(self, v: _Vessel, start: float, end: float, extra: Iterable[Fix]) -> list[EvidenceFix]:  # fmt: skip
        n = self.p.evidence_fixes
        samples = list(v.samples)
        before = [s for s in samples if s[0] < start][-n:]
        during = [s for s in samples if start <= s[0] <= end]
        if len(during) > 5:
            step = (len(during) - 1) / 4
            during = [during[round(i * step)] for i in range(5)]
        out = [EvidenceFix(s[0], v.mmsi, s[1], s[2], s[3]) for s in before + during]
        seen = {e.time for e in out}
        for f in [*v.recent, *extra]:
            if f.time is not None and f.time not in seen and (f.time >= start or not before):
                seen.add(f.time)
                out.append(EvidenceFix(f.time, f.mmsi, f.lat, f.lon, f.sog, f.cog))
        out.sort(key=lambda e: e.time)
        return out[-(2 * n + 5) :]

    def _zone_name(self, lat: float, lon: float) -> str | None:
        zones = self.zones.zones_at(lat, lon)
        if not zones:
            return None
        best = min(zones, key=lambda z: _ZONE_PRIORITY.get(z.kind, 9))
        return best.name_en

    def _near_port(self, lat: float, lon: float, km: float) -> Zone | None:
        return self.zones.near_port(lat, lon, km)

    @staticmethod
    def _grid_remove(grid: dict[int, dict[int, _Vessel]], v: _Vessel, cell: int) -> None:
        if cell != -1:
            members = grid.get(cell)
            if members is not None:
                members.pop(v.mmsi, None)
                if not members:
                    del grid[cell]

    # -- the track

    def _accept(self, v: _Vessel, fix: Fix, cell: int = -1) -> None:
        """A position consistent with the vessel's track (``cell``: its grid cell)."""
        t: float = fix.time  # type: ignore[assignment]
        last = v.last
        if v.alt_first is not None:
            v.alt_mixed = True
        if last is not None and t - (last.time or 0.0) >= self._gap_s:
            self._gap(v, last, t, fix)
        v.last = fix
        v.recent.append(fix)
        h = int(t) // 3600
        if h == v.hour:
            v.hour_n += 1
        else:
            if v.hour >= 0:
                v.hours.append((v.hour, v.hour_n))
            v.hour, v.hour_n = h, 1
        sog = fix.sog
        if t - v.sample_t >= self._sample_s:
            self._sample(v, fix, t)
        lat, lon = fix.lat, fix.lon
        if cell < 0:
            cell = cell_of(lat, lon)
        # zone entry, for vessels of a watched category only (cached per cell when the
        # cell is wholly inside or outside its zones); a vessel whose identity is known
        # and whose MMSI is valid is in no watched category unless "all" or "small" is
        watch = self._watch
        if (
            not watch
            or (v.static_t is not None and not v.invalid and not self._watch_any_vessel)
            or self._category(v, t) is None
        ):
            v.zones = None
            v.zcell = -1
        else:
            zones = self.zones
            if cell != v.zcell or zones.cell_mixed(cell):
                now_in = zones.watched_in(cell, lat, lon)
                before = v.zones
                v.zcell = cell
                v.zones = now_in
                if before is not None and now_in and now_in is not before:
                    for z in now_in:
                        if z not in before:
                            self._zone_entry(v, fix, z)
        # encounter candidates: slow vessels on the fine grid
        if sog is not None and sog < self._gate_kn:
            if cell != v.scell:
                self._grid_remove(self._slow, v, v.scell)
                self._slow.setdefault(cell, {})[v.mmsi] = v
                v.scell = cell
            if t - v.pair_t >= self._pair_check_s:
                v.pair_t = t
                self._pairs_check(v, fix, cell)
        elif v.scell != -1:
            self._grid_remove(self._slow, v, v.scell)
            v.scell = -1
        # fast approach: merchants on the coarse grid, small fast craft look around
        if v.merchant:
            mcell = int((lat + 90.0) * 4) * 10_000 + int((lon + 180.0) * 4)
            if mcell != v.mcell:
                self._grid_remove(self._merchants, v, v.mcell)
                self._merchants.setdefault(mcell, {})[v.mmsi] = v
                v.mcell = mcell
        elif (
            sog is not None
            and sog >= self._craft_kn
            and t - v.approach_t >= self._approach_check_s
            and self._merchants
        ):
            v.approach_t = t
            if self._small(v, t):
                self._approach_check(v, fix, t)

    def _sample(self, v: _Vessel, fix: Fix, t: float) -> None:
        """Track window (every ``sample_s``) and the loitering test."""
        samples = v.samples
        sog = fix.sog
        if sog is None:
            if samples:
                s = samples[-1]
                dt = t - s[0]
                d = math.hypot(
                    (fix.lat - s[1]) * NM_PER_DEG,
                    (fix.lon - s[2]) * NM_PER_DEG * math.cos(math.radians(fix.lat)),
                )
                sog = d * 3600.0 / dt if dt > 0 else 0.0
            else:
                sog = 0.0
        if samples:
            prev = samples[-1]
            v.wsum += prev[3] * (t - prev[0])
        samples.append((t, fix.lat, fix.lon, sog))
        v.sample_t = t
        window = self._loiter_s
        while len(samples) >= 2 and samples[1][0] <= t - window:
            s0 = samples.popleft()
            v.wsum -= s0[3] * (samples[0][0] - s0[0])
        span = t - samples[0][0]
        loitering = (
            span >= window
            and v.wsum / span < self.p.loitering_max_mean_kn
            and samples[0][0] > v.prox_t
        )
        if loitering and not v.loiter_open:
            v.loiter_open = True
            start = samples[0][0]
            n = len(samples)
            mlat = sum(s[1] for s in samples) / n
            mlon = sum(s[2] for s in samples) / n
            km = self.p.loitering_port_km
            if self._near_port(mlat, mlon, km) is None and self._near_port(fix.lat, fix.lon, km) is None:  # fmt: skip
                self._emit(
                    "loitering", "", v, start, t, mlat, mlon,
                    measures={"hours": round(span / 3600, 2),
                              "mean_speed_kn": round(v.wsum / span, 2)},
                    parameters={"loitering_max_mean_kn": self.p.loitering_max_mean_kn,
                                "loitering_min_hours": self.p.loitering_min_hours,
                                "loitering_port_km": km},
                )  # fmt: skip
        elif not loitering and v.loiter_open:
            v.loiter_open = False

    # -- ais_gap

    def _prior_fixes(self, v: _Vessel, last_t: float) -> int:
        h0 = int(last_t - self.p.gap_prior_hours * 3600.0) // 3600
        n = v.hour_n if v.hour >= h0 else 0
        for h, c in v.hours:
            if h >= h0:
                n += c
        return n

    def _gap(self, v: _Vessel, last: Fix, t: float, after: Fix | None) -> None:
        """A gap from ``last`` to ``t`` (closed when ``after`` is given)."""
        start = last.time or 0.0
        done_start, levels = v.gap_done
        if done_start != start:
            levels = 0
        gap = t - start
        want = 2 if gap >= self._dis_s else 1
        if levels >= want:
            return
        v.gap_done = (start, want)
        p = self.p
        prior = self._prior_fixes(v, start)
        if prior < p.gap_prior_min_fixes:
            return
        if self._near_port(last.lat, last.lon, p.gap_port_km) is not None:
            return
        params = {
            "gap_hours": p.gap_hours,
            "gap_disabling_hours": p.gap_disabling_hours,
            "gap_prior_hours": p.gap_prior_hours,
            "gap_prior_min_fixes": p.gap_prior_min_fixes,
            "gap_port_km": p.gap_port_km,
        }
        measures: dict[str, Any] = {
            "gap_hours": round(gap / 3600, 2),
            "prior_fixes": prior,
            "ongoing": after is None,
        }
        if after is not None:
            measures["distance_nm"] = round(
                math.hypot(
                    (after.lat - last.lat) * NM_PER_DEG,
                    (after.lon - last.lon) * NM_PER_DEG * math.cos(math.radians(last.lat)),
                ),
                2,
            )
            measures["implied_speed_kn"] = round(measures["distance_nm"] / (gap / 3600), 2)
        extra = [after] if after is not None else []
        for level in range(levels + 1, want + 1):
            subtype = "suspected_disabling" if level == 2 else ""
            self._emit("ais_gap", subtype, v, start, t, last.lat, last.lon,
                       measures=measures, parameters=params, extra=extra)  # fmt: skip

    def _tick(self, now: float) -> None:
        self._last_tick = now
        gap_s, evict = self._gap_s, self.p.evict_hours * 3600.0
        gone: list[int] = []
        for mmsi, v in self.vessels.items():
            last = v.last
            if last is None:
                if now - v.first_t > evict:
                    gone.append(mmsi)
                continue
            age = now - (last.time or 0.0)
            if age >= gap_s:
                self._gap(v, last, now, None)
            alt = v.alt_last
            if alt is not None and now - (alt.time or 0.0) > self.p.spoof_window_s:
                self._close_alt(v)
            if age > evict:
                gone.append(mmsi)
        for mmsi in gone:
            v = self.vessels.pop(mmsi)
            self._grid_remove(self._slow, v, v.scell)
            self._grid_remove(self._merchants, v, v.mcell)
        stale = now - self._merge_s - self.p.encounter_max_gap_s
        for key in [k for k, pr in self._pairs.items() if pr.last_close < stale]:
            del self._pairs[key]
        reset = now - self.p.approach_reset_s
        for key in [k for k, (_s, last_t) in self._approach.items() if last_t < reset]:
            del self._approach[key]

    # -- spoofing

    def _land(self, v: _Vessel, fix: Fix) -> None:
        t = fix.time or 0.0
        alt = v.alt_last
        if v.alt_done and alt is not None and t - (alt.time or 0.0) <= self.p.spoof_window_s:
            # the second track of an MMSI already reported in two places runs ashore:
            # part of that event
            d = math.hypot(
                (fix.lat - alt.lat) * NM_PER_DEG,
                (fix.lon - alt.lon) * NM_PER_DEG * math.cos(math.radians(fix.lat)),
            )
            if d <= self._max_kn_s * (t - (alt.time or 0.0) + self.p.spoof_time_resolution_s):
                v.alt_last = fix
                return
        prev = v.land_last
        v.land_last = fix
        if prev is not None and t - (prev.time or 0.0) <= self.p.spoof_window_s:
            return  # the same episode
        self._emit(
            "spoofing", "on_land", v, t, t, fix.lat, fix.lon,
            measures={"coast_tolerance_km": 1.0}, extra=[fix],
        )  # fmt: skip

    def _alternate(self, v: _Vessel, fix: Fix, d: float, dt: float) -> None:
        """A position the track cannot reach at ``spoof_max_implied_kn``."""
        p = self.p
        t = fix.time or 0.0
        if v.alt_first is None:
            v.alt_first = v.alt_last = fix
            v.alt_n = 1
            v.alt_mixed = False
            v.alt_done = False
            v.alt_seen = [fix]
            return
        a = v.alt_last
        assert a is not None
        da = math.hypot(
            (fix.lat - a.lat) * NM_PER_DEG,
            (fix.lon - a.lon) * NM_PER_DEG * math.cos(math.radians(fix.lat)),
        )
        dta = t - (a.time or 0.0)
        if da > p.spoof_min_jump_nm and da > self._max_kn_s * (dta + p.spoof_time_resolution_s):
            # neither track: the old alternate ends, this one starts
            self._close_alt(v)
            self._alternate(v, fix, d, dt)
            return
        v.alt_last = fix
        v.alt_n += 1
        if len(v.alt_seen) < 4:
            v.alt_seen.append(fix)
        if v.alt_mixed:
            v.alt_done = True
            first = v.alt_first
            last = v.last
            assert last is not None
            self._emit(
                "spoofing", "two_places", v, first.time or 0.0, t, first.lat, first.lon,
                measures={"distance_nm": round(d, 2),
                          "implied_speed_kn": round(d * 3600 / max(dt + p.spoof_time_resolution_s, 1), 1)},
                parameters={"spoof_max_implied_kn": p.spoof_max_implied_kn},
                extra=v.alt_seen,
            )  # fmt: skip
        elif v.alt_n >= p.spoof_promote_fixes:
            # the alternate track goes on alone: the vessel's position jumped
            self._close_alt(v)
            v.last = None
            self._accept(v, fix)

    def _close_alt(self, v: _Vessel) -> None:
        first, alt_seen, done = v.alt_first, v.alt_seen, v.alt_done
        v.alt_first = v.alt_last = None
        v.alt_n = 0
        v.alt_done = False
        v.alt_seen = []
        if first is None or done:
            return
        last = v.last
        p = self.p
        ft = first.time or 0.0
        measures: dict[str, Any] = {}
        if last is not None:
            d = math.hypot(
                (first.lat - last.lat) * NM_PER_DEG,
                (first.lon - last.lon) * NM_PER_DEG * math.cos(math.radians(first.lat)),
            )
            dt = abs(ft - (last.time or 0.0)) + p.spoof_time_resolution_s
            measures = {"jump_nm": round(d, 2), "implied_speed_kn": round(d * 3600 / dt, 1)}
        self._emit(
            "spoofing", "implied_speed", v, ft, ft, first.lat, first.lon,
            measures=measures,
            parameters={"spoof_max_implied_kn": p.spoof_max_implied_kn,
                        "spoof_min_jump_nm": p.spoof_min_jump_nm},
            extra=alt_seen,
        )  # fmt: skip

    # -- encounter

    def _pairs_check(self, v: _Vessel, fix: Fix, cell: int) -> None:
        p = self.p
        t = fix.time or 0.0
        lat, lon = fix.lat, fix.lon
        coslat = math.cos(math.radians(lat))
        lim = self._enc_nm
        slow = self._slow
        for dy in (-100_000, 0, 100_000):
            for dx in (-1, 0, 1):
                members = slow.get(cell + dy + dx)
                if not members:
                    continue
                for u in members.values():
                    if u is v:
                        continue
                    ul = u.last
                    if ul is None or t - (ul.time or 0.0) > p.pair_max_age_s:
                        continue
                    d = math.hypot(
                        (ul.lat - lat) * NM_PER_DEG, (ul.lon - lon) * NM_PER_DEG * coslat
                    )
                    key = (v.mmsi, u.mmsi) if v.mmsi < u.mmsi else (u.mmsi, v.mmsi)
                    if d <= lim:
                        self._close_obs(key, v, u, fix, ul, t, d)
                    else:
                        pr = self._pairs.get(key)
                        if pr is not None:
                            pr.ep_start = -math.inf  # the episode is broken

    def _close_obs(
        self, key: tuple[int, int], v: _Vessel, u: _Vessel, fv: Fix, fu: Fix, t: float, d: float
    ) -> None:
        p = self.p
        v.prox_t = u.prox_t = t
        pr = self._pairs.get(key)
        if pr is None:
            pr = self._pairs[key] = _Pair()
        if pr.ep_start == -math.inf or t - pr.last_close > p.encounter_max_gap_s:
            pr.ep_start = t
            pr.speeds = []
        pr.last_close = t
        speeds = pr.speeds
        speeds.append(fv.sog or 0.0)
        speeds.append(fu.sog or 0.0)
        if len(speeds) > 1000:
            del speeds[::2]
        if pr.event_start is not None and pr.ep_start - pr.event_end < self._merge_s:
            pr.event_end = t  # merged into the event already raised
            return
        if t - pr.ep_start < self._enc_s or pr.port_checked == pr.ep_start:
            return
        med = median(speeds)
        if med >= p.encounter_max_median_kn:
            return
        if self._near_port(fv.lat, fv.lon, p.encounter_port_km) is not None:
            pr.port_checked = pr.ep_start
            return
        pr.event_start = pr.ep_start
        pr.event_end = t
        a, b = (v, u) if v.mmsi == key[0] else (u, v)
        self._emit(
            "encounter", "", a, pr.ep_start, t, (fv.lat + fu.lat) / 2, (fv.lon + fu.lon) / 2,
            other=b,
            measures={"hours": round((t - pr.ep_start) / 3600, 2),
                      "median_speed_kn": round(med, 2),
                      "distance_m": round(d * 1852.0)},
            parameters={"encounter_distance_m": p.encounter_distance_m,
                        "encounter_min_hours": p.encounter_min_hours,
                        "encounter_max_median_kn": p.encounter_max_median_kn,
                        "encounter_port_km": p.encounter_port_km,
                        "encounter_merge_hours": p.encounter_merge_hours},
        )  # fmt: skip

    # -- fast approach

    def _small(self, v: _Vessel, t: float) -> bool:
        if v.cls_b:
            return True
        if v.length and v.length < self.p.approach_small_length_m:
            return True
        return v.static_t is None and t - v.first_t >= self.p.unidentified_after_s

    def _approach_check(self, v: _Vessel, fix: Fix, t: float) -> None:
        p = self.p
        if fix.cog is None or fix.sog is None:
            return
        lat, lon = fix.lat, fix.lon
        vc = velocity(fix.sog, fix.cog)
        mcell = int((lat + 90.0) * 4) * 10_000 + int((lon + 180.0) * 4)
        tcpa_h = p.approach_tcpa_min / 60.0
        for dy in (-10_000, 0, 10_000):
            for dx in (-1, 0, 1):
                members = self._merchants.get(mcell + dy + dx)
                if not members:
                    continue
                for m in members.values():
                    ml = m.last
                    if m is v or ml is None or ml.sog is None or ml.cog is None:
                        continue
                    age = t - (ml.time or 0.0)
                    if age > p.approach_max_age_s:
                        continue
                    vm = velocity(ml.sog, ml.cog)
                    # dead-reckon the merchant to the craft's time
                    mlat = ml.lat + vm[1] * age / 3600.0 / NM_PER_DEG
                    mlon = ml.lon + vm[0] * age / 3600.0 / (
                        NM_PER_DEG * math.cos(math.radians(ml.lat))
                    )
                    c, tc, rel = cpa((mlat, mlon), vm, (lat, lon), vc)
                    if (
                        c >= p.approach_cpa_nm
                        or not 0.0 <= tc <= tcpa_h
                        or rel <= p.approach_min_rel_kn
                    ):
                        continue
                    key = (v.mmsi, m.mmsi)
                    prev = self._approach.get(key)
                    if prev is not None and t - prev[1] <= p.approach_reset_s:
                        self._approach[key] = (prev[0], t)
                        continue
                    self._approach[key] = (t, t)
                    rng = math.hypot(
                        (lat - mlat) * NM_PER_DEG,
                        (lon - mlon) * NM_PER_DEG * math.cos(math.radians(lat)),
                    )
                    self._emit(
                        "fast_approach", "", v, t, t + tc * 3600.0, mlat, mlon, other=m,
                        measures={"cpa_nm": round(c, 3), "tcpa_min": round(tc * 60, 1),
                                  "relative_speed_kn": round(rel, 1), "range_nm": round(rng, 2),
                                  "craft_speed_kn": fix.sog,
                                  "cpa_km": round(c * KM_PER_NM, 3)},
                        parameters={"approach_cpa_nm": p.approach_cpa_nm,
                                    "approach_tcpa_min": p.approach_tcpa_min,
                                    "approach_min_rel_kn": p.approach_min_rel_kn,
                                    "approach_min_craft_kn": p.approach_min_craft_kn,
                                    "approach_small_length_m": p.approach_small_length_m},
                    )  # fmt: skip

    # -- zone entry

    def _category(self, v: _Vessel, t: float) -> str | None:
        watch = self._watch
        if "all" in watch:
            return "all"
        if "invalid_mmsi" in watch and v.invalid:
            return "invalid_mmsi"
        if (
            "unidentified" in watch
            and v.static_t is None
            and t - v.first_t >= self.p.unidentified_after_s
        ):
            return "unidentified"
        if "small" in watch and self._small(v, t):
            return "small"
        return None

    def _zone_entry(self, v: _Vessel, fix: Fix, zone: Zone) -> None:
        t = fix.time or 0.0
        category = self._category(v, t)
        if category is None:
            return
        self._emit(
            "zone_entry", zone.id, v, t, t, fix.lat, fix.lon,
            measures={"category": category, "zone_kind": zone.kind},
            parameters={"zone_watch_categories": list(self.p.zone_watch_categories)},
            zone=zone.name_en,
        )  # fmt: skip

    # -- identity

    def _identity(self, v: _Vessel, values: dict[str, Any], t: float) -> None:
        ident = v.identity
        for key in ("name", "call_sign", "imo"):
            if key not in values:
                continue
            new = values[key]
            pending = v.pending.get(key)
            if pending is not None:
                old, cand, pt = pending
                if new == cand:  # confirmed by a second report
                    del v.pending[key]
                    self._change(v, key, old, new, pt)
                elif new == old:  # flipped back: two vessels on one MMSI
                    del v.pending[key]
                    self._shared(v, key, old, cand, pt, t)
                else:
                    v.pending[key] = (old, new, t)
                continue
            old = ident.get(key)
            if old is None:
                ident[key] = new
            elif old != new:
                v.pending[key] = (old, new, t)

    def _at_sea(self, v: _Vessel) -> Fix | None:
        last = v.last
        if last is None:
            return None
        if self._near_port(last.lat, last.lon, self.p.identity_port_km) is not None:
            return None
        return last

    def _change(self, v: _Vessel, key: str, old: Any, new: Any, t: float) -> None:
        """One event per report that changed identity: the first changed field (name,
        call sign, IMO) names the subtype; the report's other changes go with it."""
        v.identity[key] = new
        changes = {key: {"old": old, "new": new}}
        for k in [k for k, (_o, _n, pt) in v.pending.items() if pt == t]:
            old_k, new_k, _pt = v.pending.pop(k)
            v.identity[k] = new_k
            changes[k] = {"old": old_k, "new": new_k}
        fix = self._at_sea(v)
        if fix is None:
            return
        self._emit(
            "identity", f"{key}_change", v, t, t, fix.lat, fix.lon,
            measures={"changes": changes},
            parameters={"identity_port_km": self.p.identity_port_km},
        )  # fmt: skip

    def _shared(self, v: _Vessel, key: str, a: Any, b: Any, t0: float, t: float) -> None:
        last = v.last
        lat, lon = (last.lat, last.lon) if last is not None else (0.0, 0.0)
        if last is None:
            return
        self._emit(
            "identity", "shared_mmsi", v, t0, t, lat, lon,
            measures={"field": key, "values": [a, b]},
        )  # fmt: skip

    def _flag_change(self, v: _Vessel, imo: int, t: float) -> None:
        prev = self._imo_owner.get(imo)
        self._imo_owner[imo] = (v.mmsi, t)
        if prev is None or prev[0] == v.mmsi:
            return
        old_flag, new_flag = flag_of(prev[0]), flag_of(v.mmsi)
        if not old_flag or not new_flag or old_flag == new_flag:
            return
        fix = self._at_sea(v)
        if fix is None:
            return
        self._emit(
            "identity", "flag_change", v, t, t, fix.lat, fix.lon,
            other=self.vessels.get(prev[0]),
            measures={"imo": imo, "old_flag": old_flag, "new_flag": new_flag,
                      "old_mmsi": prev[0]},
            parameters={"identity_port_km": self.p.identity_port_km},
        )  # fmt: skip


def detect(
    items: Iterable[Fix | Message],
    params: Params | None = None,
    zones: Zones | None = None,
) -> list[AlertEvent]:
    """Replay: every event of a time-ordered stream of fixes and messages."""
    engine = Engine(params, zones)
    out: list[AlertEvent] = []
    for item in items:
        if isinstance(item, Message):
            out += engine.static(item)
        else:
            out += engine.position(item)
    out += engine.finish()
    return out
