"""What a detector says: an alert candidate, before it is stored.

The detectors (:mod:`rasid.maritime.detectors`) are pure: they turn fixes and static
reports into :class:`AlertEvent` values and know nothing of the database. The alert
service (:mod:`rasid.maritime.alerts`) stores them, idempotently by :attr:`AlertEvent.key`,
with their evidence, and runs the workflow. Live feeds and file replay use the same
detectors, so the same data gives the same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALERT_TYPES = (
    "ais_gap",
    "encounter",
    "loitering",
    "spoofing",
    "identity",
    "zone_entry",
    "fast_approach",
)
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(slots=True)
class EvidenceFix:
    """One fix shown as evidence (UNIX seconds, degrees, knots)."""

    time: float
    mmsi: int
    lat: float
    lon: float
    sog: float | None = None
    cog: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "mmsi": self.mmsi,
            "lat": self.lat,
            "lon": self.lon,
            "sog": self.sog,
            "cog": self.cog,
        }


@dataclass(slots=True)
class AlertEvent:
    """One detected anomaly.

    ``start``/``end`` are UNIX seconds (event time, from the messages, never the wall
    clock). ``subtype`` narrows the type (``suspected_disabling`` for a long gap,
    ``implied_speed``/``on_land``/``two_places`` for spoofing, ``invalid_mmsi``/
    ``shared_mmsi``/``name_change``/``call_sign_change``/``flag_change`` for identity …).
    ``parameters`` are the detector parameters that fired, with their values;
    ``evidence`` is the fixes before, during and after the event, per vessel.
    """

    type: str
    mmsi: int
    start: float
    end: float
    lat: float
    lon: float
    severity: str = "medium"
    other_mmsi: int | None = None
    subtype: str = ""
    zone: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    measures: dict[str, Any] = field(default_factory=dict)  # what was measured (gap h, CPA nm …)
    evidence: list[EvidenceFix] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Stable identity of the event: the same data always gives the same key, so a
        replayed file adds no duplicate alert."""
        other = self.other_mmsi if self.other_mmsi is not None else ""
        return f"{self.type}:{self.subtype}:{self.mmsi}:{other}:{int(self.start)}"
