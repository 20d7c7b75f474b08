"""Decoded AIS in CSV: the NOAA MarineCadastre and Danish Maritime Authority layouts.

:class:`CsvDecoder` has the interface of :class:`rasid.maritime.nmea.Decoder` (``feed``,
``flush``, ``take``, ``counts``, ``last_time``), so the file ingest runs it through the same
pipeline: every data row is received and ends decoded (a position, and an identity report
when the row's identity differs from the vessel's previous row) or quarantined with a
reason naming the column. The layout is read from the header line:

* NOAA MarineCadastre (marinecadastre.gov "AIS Data", 2015 onwards): ``MMSI, BaseDateTime,
  LAT, LON, SOG, COG, Heading, VesselName, IMO, CallSign, VesselType, Status, Length,
  Width, Draft, Cargo[, TransceiverClass]``; ``BaseDateTime`` ISO 8601 in UTC.
* Danish Maritime Authority (web.ais.dk/aisdata): ``# Timestamp, Type of mobile, MMSI,
  Latitude, Longitude, Navigational status, ROT, SOG, COG, Heading, IMO, Callsign, Name,
  Ship type, Cargo type, Width, Length, …, Draught, Destination, ETA, …``; ``Timestamp``
  ``DD/MM/YYYY HH:MM:SS`` in UTC; rows of base stations, aids to navigation and aircraft
  are received and counted as ``unsupported_type``.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Any

from rasid.maritime import nmea
from rasid.maritime.nmea import Counts, Fix, Message, Quarantined

NOAA = "noaa"
DMA = "dma"

_NOAA_REQUIRED = ("MMSI", "BaseDateTime", "LAT", "LON")
_DMA_REQUIRED = ("# Timestamp", "MMSI", "Latitude", "Longitude")

DMA_SHIP_TYPES: dict[str, int] = {
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "medical": 58,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}
DMA_NAV_STATUS: dict[str, int] = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted manoeuverability": 3,
    "restricted maneuverability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
}


def sniff(first_line: bytes) -> str | None:
    """The CSV layout a header line announces, or None (then it is NMEA)."""
    text = first_line.decode("utf-8", "replace").lstrip("\ufeff").strip()
    names = [n.strip() for n in next(csv.reader([text]), [])]
    if all(n in names for n in _NOAA_REQUIRED):
        return NOAA
    if all(n in names for n in _DMA_REQUIRED):
        return DMA
    return None


class _Bad(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _number(row: dict[str, str], name: str) -> float | None:
    raw = (row.get(name) or "").strip()
    if raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise _Bad(nmea.MALFORMED, f"{name}: {raw[:40]!r} is not a number") from None


def _integer(row: dict[str, str], name: str) -> int | None:
    value = _number(row, name)
    return None if value is None else int(value)


class CsvDecoder:
    """Rows of one CSV file (header first) → fixes, identity messages, quarantine."""

    def __init__(self, layout: str) -> None:
        self.layout = layout
        self.counts = Counts()
        self.fixes: list[Fix] = []
        self.messages: list[Message] = []
        self.quarantine: list[Quarantined] = []
        self._header: list[str] | None = None
        self._identity: dict[int, tuple[Any, ...]] = {}
        self._last_time: float | None = None

    @property
    def last_time(self) -> float | None:
        return self._last_time

    def take(self) -> tuple[list[Fix], list[Message], list[Quarantined]]:
        out = (self.fixes, self.messages, self.quarantine)
        self.fixes, self.messages, self.quarantine = [], [], []
        return out

    def take_block(self) -> tuple[list[Fix], list[Message], list[Quarantined], nmea.FixColumns]:
        fixes, messages, quarantined = self.take()
        return fixes, messages, quarantined, nmea.FixColumns.of(fixes)

    def feed_block(self, buf: bytes, first_line_no: int) -> int:
        """Every line of ``buf`` (split on ``\\n``), numbered from ``first_line_no``."""
        lines = nmea.split_block(buf)
        for i, line in enumerate(lines):
            self.feed(line, first_line_no + i)
        return len(lines)

    def flush(self) -> None:
        """Nothing waits between rows."""

    def _quarantine(self, line_no: int, reason: str, raw: bytes, detail: str) -> None:
        c = self.counts
        c.quarantined += 1
        c.reasons[reason] += 1
        self.quarantine.append(
            Quarantined(line_no, reason, nmea.printable(raw[: nmea.RAW_KEEP]), None, detail)
        )

    def refuse(self, line: bytes, line_no: int, reason: str, detail: str = "") -> None:
        if line.strip():
            self.counts.received += 1
            self._quarantine(line_no, reason, line.strip(), detail)

    def feed(self, line: bytes, line_no: int) -> None:
        raw = line.strip()
        if self._header is None:
            text = raw.decode("utf-8", "replace").lstrip("\ufeff")
            self._header = [n.strip() for n in next(csv.reader([text]), [])]
            self.counts.ignored += 1
            return
        if not raw:
            self.counts.ignored += 1
            return
        c = self.counts
        c.received += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self._quarantine(line_no, nmea.BINARY_GARBAGE, raw, "not UTF-8")
            return
        values = next(csv.reader([text]), [])
        if len(values) != len(self._header):
            self._quarantine(
                line_no,
                nmea.MALFORMED,
                raw,
                f"{len(values)} columns, the header has {len(self._header)}",
            )
            return
        row = dict(zip(self._header, values, strict=True))
        try:
            if self.layout == NOAA:
                self._noaa(row, line_no)
            else:
                self._dma(row, line_no)
        except _Bad as bad:
            self._quarantine(line_no, bad.reason, raw, bad.detail)
            return
        c.decoded += 1
        c.messages += 1

    # -- layouts

    def _position(
        self,
        *,
        t: float,
        mmsi: int,
        msg_type: int,
        lat: float | None,
        lon: float | None,
        sog: float | None,
        cog: float | None,
        heading: int | None,
        status: int | None,
        line_no: int,
        lat_name: str,
        lon_name: str,
    ) -> None:
        if mmsi <= 0 or mmsi > 999_999_999:
            raise _Bad(nmea.IMPOSSIBLE_VALUE, f"MMSI {mmsi}")
        if lat is None or lon is None:
            raise _Bad(nmea.MALFORMED, f"{lat_name}/{lon_name}: empty")
        if lat == 91 or lon == 181:
            self.counts.no_position += 1
            return
        if not -90 <= lat <= 90:
            raise _Bad(nmea.IMPOSSIBLE_VALUE, f"{lat_name} {lat}")
        if not -180 <= lon <= 180:
            raise _Bad(nmea.IMPOSSIBLE_VALUE, f"{lon_name} {lon}")
        if sog is not None and (sog < 0 or sog >= 102.2):
            sog = None
        if cog is not None and not 0 <= cog < 360:
            cog = None
        if heading is not None and not 0 <= heading < 360:
            heading = None
        self._last_time = t
        self.fixes.append(
            Fix(t, mmsi, msg_type, lat, lon, sog, cog, heading, status, line_no, "csv")
        )

    def _static(
        self, t: float, mmsi: int, msg_type: int, line_no: int, fields: dict[str, Any]
    ) -> None:
        key = tuple(sorted((k, v) for k, v in fields.items() if v not in (None, "", 0)))
        if not key or self._identity.get(mmsi) == key:
            return
        self._identity[mmsi] = key
        self.messages.append(Message(t, msg_type, mmsi, fields, line_no, "csv", (line_no,)))

    def _noaa(self, row: dict[str, str], line_no: int) -> None:
        text = (row.get("BaseDateTime") or "").strip()
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _Bad(nmea.MALFORMED, f"BaseDateTime: {text[:40]!r}") from None
        t = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        mmsi = _integer(row, "MMSI") or 0
        cls_b = (row.get("TransceiverClass") or "").strip().upper() == "B"
        msg_type = 18 if cls_b else 1
        self._position(
            t=t,
            mmsi=mmsi,
            msg_type=msg_type,
            lat=_number(row, "LAT"),
            lon=_number(row, "LON"),
            sog=_number(row, "SOG"),
            cog=_number(row, "COG"),
            heading=_integer(row, "Heading"),
            status=None if cls_b else _integer(row, "Status"),
            line_no=line_no,
            lat_name="LAT",
            lon_name="LON",
        )
        imo_text = (row.get("IMO") or "").strip().upper().removeprefix("IMO")
        self._static(
            t,
            mmsi,
            19 if cls_b else 5,
            line_no,
            {
                "shipname": (row.get("VesselName") or "").strip(),
                "callsign": (row.get("CallSign") or "").strip(),
                "imo": int(imo_text) if imo_text.isdigit() else 0,
                "ship_type": _integer(row, "VesselType") or 0,
                "to_bow": int(_number(row, "Length") or 0),
                "to_stern": 0,
                "to_port": int(_number(row, "Width") or 0),
                "to_starboard": 0,
                "draught": _number(row, "Draft") or 0.0,
            },
        )

    def _dma(self, row: dict[str, str], line_no: int) -> None:
        text = (row.get("# Timestamp") or "").strip()
        try:
            when = datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            raise _Bad(nmea.MALFORMED, f"# Timestamp: {text[:40]!r}") from None
        mobile = (row.get("Type of mobile") or "").strip().lower()
        if mobile not in ("class a", "class b", ""):
            raise _Bad(nmea.UNSUPPORTED_TYPE, f"Type of mobile: {mobile}")
        cls_b = mobile == "class b"
        t = when.timestamp()
        mmsi = _integer(row, "MMSI") or 0
        status_text = (row.get("Navigational status") or "").strip().lower()
        self._position(
            t=t,
            mmsi=mmsi,
            msg_type=18 if cls_b else 1,
            lat=_number(row, "Latitude"),
            lon=_number(row, "Longitude"),
            sog=_number(row, "SOG"),
            cog=_number(row, "COG"),
            heading=_integer(row, "Heading"),
            status=None if cls_b else DMA_NAV_STATUS.get(status_text, 15),
            line_no=line_no,
            lat_name="Latitude",
            lon_name="Longitude",
        )
        imo_text = (row.get("IMO") or "").strip()
        self._static(
            t,
            mmsi,
            19 if cls_b else 5,
            line_no,
            {
                "shipname": (row.get("Name") or "").strip(),
                "callsign": (row.get("Callsign") or "").strip(),
                "imo": int(imo_text) if imo_text.isdigit() else 0,
                "ship_type": DMA_SHIP_TYPES.get((row.get("Ship type") or "").strip().lower(), 0),
                "to_bow": int(_number(row, "Length") or 0),
                "to_stern": 0,
                "to_port": int(_number(row, "Width") or 0),
                "to_starboard": 0,
                "draught": _number(row, "Draught") or 0.0,
                "destination": (row.get("Destination") or "").strip(),
            },
        )
