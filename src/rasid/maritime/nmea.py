"""AIS NMEA 0183 lines in, decoded messages or quarantined lines out (pure, no database).

One :class:`Decoder` per stream of lines (a file, a feed). Each line it is fed ends in
exactly one of three places, so that ``received == decoded + quarantined + pending``
holds after every line (:class:`Counts`):

* **decoded**: the line was (part of) a message that decoded. Position reports
  (types 1, 2, 3, 18, 19, 27) that carry a position become :class:`Fix` tuples in
  :attr:`Decoder.fixes`; every other decoded message (and position reports whose
  position is "not available") goes to :attr:`Decoder.messages`.
* **quarantined**: the line is in :attr:`Decoder.quarantine` with one reason from
  :data:`REASONS`.
* **pending**: a fragment of a multi-sentence message waiting for its other parts. A
  fragment waits at most :data:`FRAGMENT_TIMEOUT_S` of *message* time and the buffer
  holds at most ``max_pending`` messages; :meth:`Decoder.flush` (end of input)
  quarantines what is left as ``orphan_fragment``.

Blank lines and ``#`` comment lines are not AIS input: they are counted in
:attr:`Counts.ignored` and not in ``received``.

Time comes from an NMEA 4.0 tag block (``\\c:UNIX_SECONDS,s:STATION*hh\\!AIVDM,…``,
checksum checked; ``c`` above 10^11 is read as milliseconds) or from a leading
ISO-8601 timestamp (``2026-01-02T03:04:05Z !AIVDM,…``, naive times are UTC); plain
lines have no time. With ``require_time=True`` a position report without a time is
quarantined as ``no_timestamp`` (a fix cannot be placed in a track without one).

Values that AIS defines as "not available" are not errors: latitude 91, longitude
181 (no position: the report is decoded but yields no :class:`Fix`), SOG 102.3
(speed ``None``), COG 360 (course ``None``), heading 511 (heading ``None``). Values that
no valid transmitter sends are ``impossible_value``: latitude beyond ±90 other than
91, longitude beyond ±180 other than 181, COG above 360, heading 360–510, MMSI 0.

Decoding gives pyais's values. Single-sentence 168-bit position reports of types 1, 2, 3
and 18 take a faster path (:func:`decode_position_fast`): base64 translation of the 6-bit
armour in C and shifts on one integer; other types are read from pyais's own field tables
(:func:`decode_fields`) without building its message objects, or by pyais itself. A block
of lines (:meth:`Decoder.feed_block`, what the file ingest uses) has its common lines
decoded all at once with NumPy (:mod:`rasid.maritime.fastpath`) and the rest line by line,
with the same outcome as :meth:`Decoder.feed` line by line. The tests compare every path
with pyais field by field (GPSD corpus, simulated traffic, lines built on every edge).
"""

from __future__ import annotations

import binascii
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from pyais.bit_vector import bit_vector
from pyais.messages import (
    BOOL,
    ENUM_FIELDS,
    FLOAT,
    INT,
    MSG_CLASS,
    STR,
    MessageType24PartA,
    MessageType24PartB,
    MessageType24PartBAuxiliaryCraft,
    Payload,
)
from pyais.util import is_auxiliary_craft

from rasid.maritime import fastpath

# --- reasons -----------------------------------------------------------------------------------

BAD_CHECKSUM = "bad_checksum"
MALFORMED = "malformed"
TRUNCATED = "truncated"
BINARY_GARBAGE = "binary_garbage"
ORPHAN_FRAGMENT = "orphan_fragment"
OUT_OF_ORDER_FRAGMENT = "out_of_order_fragment"
UNSUPPORTED_TYPE = "unsupported_type"
IMPOSSIBLE_VALUE = "impossible_value"
NO_TIMESTAMP = "no_timestamp"
OVERFLOW = "overflow"

REASONS: dict[str, str] = {
    BAD_CHECKSUM: "the NMEA or tag-block checksum does not match the line",
    MALFORMED: "not an AIVDM/AIVDO sentence of 7 fields, bad fragment numbers or fill bits, "
    "characters outside the AIS 6-bit armour, or an unreadable tag block or timestamp",
    TRUNCATED: "the line stops before its checksum, or the payload is shorter than its "
    "message type needs",
    BINARY_GARBAGE: "bytes that are not printable ASCII",
    ORPHAN_FRAGMENT: "a fragment whose other parts never came (a later part without its "
    "first, or parts still waiting at timeout, buffer overflow or end of input)",
    OUT_OF_ORDER_FRAGMENT: "a fragment that does not follow the previous part of its "
    "message (the parts received so far are quarantined with it)",
    UNSUPPORTED_TYPE: "a message type that AIS does not define (0, 28–63) or pyais cannot decode",
    IMPOSSIBLE_VALUE: "a value no valid transmitter sends (latitude beyond ±90 other than 91, "
    "longitude beyond ±180 other than 181, COG above 360, heading 360–510, MMSI 0)",
    NO_TIMESTAMP: "a position report without a tag-block or leading timestamp (only when a time "
    "is required, as in ingest)",
    OVERFLOW: "a live feed sent lines faster than they could be decoded and its buffer was "
    "full: the line is kept here, not decoded",
}

POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
# Minimum payload bits each type needs for the fields Rasid reads; shorter is "truncated".
MIN_BITS: dict[int, int] = {1: 149, 2: 149, 3: 149, 4: 134, 5: 420, 18: 139, 19: 312, 27: 79}
FRAGMENT_TIMEOUT_S = 60.0
DEFAULT_MAX_PENDING = 4096
RAW_KEEP = 400  # characters of a quarantined line that are kept


class Fix(NamedTuple):
    """One position report with a position (``lat``/``lon`` in degrees, WGS 84)."""

    time: float | None  # UNIX seconds of reception
    mmsi: int
    msg_type: int
    lat: float
    lon: float
    sog: float | None  # knots; None when not available
    cog: float | None  # degrees; None when not available
    heading: int | None  # degrees; None when not available
    status: int | None  # navigational status (types 1-3)
    line_no: int
    station: str


@dataclass(slots=True)
class FixColumns:
    """Fixes as columns, for the Parquet writer: NaN time, speed or course and -1 heading
    or status where the :class:`Fix` has None."""

    time: npt.NDArray[np.float64]
    mmsi: npt.NDArray[np.int64]
    msg_type: npt.NDArray[np.int64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    sog: npt.NDArray[np.float64]
    cog: npt.NDArray[np.float64]
    heading: npt.NDArray[np.int64]
    status: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.mmsi)

    @classmethod
    def of(cls, fixes: Sequence[Fix]) -> FixColumns:
        nan = float("nan")

        def floats(values: list[float | None]) -> npt.NDArray[np.float64]:
            return np.array([nan if x is None else x for x in values], np.float64)

        def ints(values: list[int | None]) -> npt.NDArray[np.int64]:
            return np.array([-1 if x is None else x for x in values], np.int64)

        return cls(
            time=floats([f.time for f in fixes]),
            mmsi=np.array([f.mmsi for f in fixes], np.int64),
            msg_type=np.array([f.msg_type for f in fixes], np.int64),
            lat=np.array([f.lat for f in fixes], np.float64),
            lon=np.array([f.lon for f in fixes], np.float64),
            sog=floats([f.sog for f in fixes]),
            cog=floats([f.cog for f in fixes]),
            heading=ints([f.heading for f in fixes]),
            status=ints([f.status for f in fixes]),
        )

    @classmethod
    def concat(cls, parts: Sequence[FixColumns]) -> FixColumns:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.of([])
        return cls(
            **{
                name: np.concatenate([getattr(p, name) for p in parts])
                for name in cls.__dataclass_fields__
            }
        )


@dataclass(slots=True)
class Message:
    """A decoded message that is not a :class:`Fix` (static reports, base stations, …)."""

    time: float | None
    msg_type: int
    mmsi: int
    fields: dict[str, Any]
    line_no: int
    station: str
    line_nos: tuple[int, ...] = ()  # every line of a multi-sentence message


@dataclass(slots=True)
class Quarantined:
    line_no: int
    reason: str
    raw: str
    time: float | None
    detail: str = ""


@dataclass
class Counts:
    """Line counts of one decoder; ``received == decoded + quarantined + pending`` always."""

    received: int = 0
    decoded: int = 0
    quarantined: int = 0
    pending: int = 0
    ignored: int = 0  # blank and comment lines (not AIS input)
    messages: int = 0  # decoded messages (a two-line message counts once)
    no_position: int = 0  # position reports with latitude 91 / longitude 181
    reasons: Counter[str] = field(default_factory=Counter)

    def balanced(self) -> bool:
        return self.received == self.decoded + self.quarantined + self.pending

    def copy(self) -> Counts:
        return replace(self, reasons=Counter(self.reasons))

    def minus(self, earlier: Counts) -> Counts:
        """What happened since ``earlier`` (``pending`` may fall: parts completed)."""
        reasons = Counter(self.reasons)
        reasons.subtract(earlier.reasons)
        return Counts(
            received=self.received - earlier.received,
            decoded=self.decoded - earlier.decoded,
            quarantined=self.quarantined - earlier.quarantined,
            pending=self.pending - earlier.pending,
            ignored=self.ignored - earlier.ignored,
            messages=self.messages - earlier.messages,
            no_position=self.no_position - earlier.no_position,
            reasons=Counter({k: v for k, v in reasons.items() if v}),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "decoded": self.decoded,
            "quarantined": self.quarantined,
            "pending": self.pending,
            "quarantine_reasons": dict(sorted(self.reasons.items())),
        }


# --- low-level helpers -------------------------------------------------------------------------

_NOT_PRINTABLE = bytes(range(0, 32)) + bytes(range(127, 256))
_MASKS = [(1 << (8 * k)) - 1 for k in range(0, 260)]


def nmea_checksum(data: bytes) -> int:
    """XOR of all bytes, folded on one integer (a few C-level operations, not a byte loop)."""
    n = len(data)
    if n == 0:
        return 0
    v = int.from_bytes(data, "big")
    masks = _MASKS
    while n > 1:
        half = n >> 1
        if half < 260:
            v = (v >> (half << 3)) ^ (v & masks[half])
        else:
            v = (v >> (half << 3)) ^ (v & ((1 << (half << 3)) - 1))
        n -= half
    return v


_ARMOUR = bytes(range(48, 88)) + bytes(range(96, 120))  # AIS 6-bit armour, values 0..63
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_B64 = bytes.maketrans(_ARMOUR, _B64)
_PAD = [b"", b"AAA", b"AA", b"A"]  # zero sextets that bring a payload to a multiple of 4


def payload_int(payload: bytes, fill: int) -> tuple[int, int]:
    """The payload as one integer (first bit most significant) and its length in bits."""
    extra = _PAD[len(payload) & 3]
    raw = binascii.a2b_base64(payload.translate(_TO_B64) + extra)
    value = int.from_bytes(raw, "big") >> (len(extra) * 6 + fill)
    return value, len(payload) * 6 - fill


def valid_armour(payload: bytes) -> bool:
    return not payload.translate(None, _ARMOUR)


def printable(raw: bytes) -> str:
    """The line as text, with every byte outside printable ASCII written as ``\\xNN``."""
    if raw.translate(None, _NOT_PRINTABLE) == raw:
        return raw.decode("ascii")
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in raw)


_HEX = frozenset(b"0123456789ABCDEFabcdef")


def _hex2(b: bytes) -> int:
    """A two-digit hex checksum, or -1 (matches no checksum) when it is not one."""
    if len(b) != 2 or b[0] not in _HEX or b[1] not in _HEX:
        return -1
    return int(b, 16)


def read_tag(tag: bytes) -> tuple[float | None, str, str, str]:
    """(time, station, reason, detail) of an NMEA 4.0 tag block's text (between its
    backslashes); ``reason`` is empty when the tag block is valid."""
    star = tag.find(b"*")
    if star < 0:
        return None, "", MALFORMED, "tag block without checksum"
    if nmea_checksum(tag[:star]) != _hex2(tag[star + 1 : star + 3]):
        return None, "", BAD_CHECKSUM, "tag block"
    time: float | None = None
    station = ""
    for item in tag[:star].split(b","):
        key = item[:2]
        if key == b"c:":
            try:
                stamp = int(item[2:])
            except ValueError:
                return None, "", MALFORMED, "tag block time"
            time = stamp / 1000.0 if stamp > 100_000_000_000 else float(stamp)
        elif key == b"s:":
            station = item[2:].decode("ascii")
    return time, station, "", ""


def parse_time(text: str) -> float | None:
    """A leading ISO-8601 timestamp as UNIX seconds (naive means UTC); None if unreadable."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# --- field decoding ---------------------------------------------------------------------------


def decode_position_fast(
    value: int, msg_type: int
) -> tuple[int, float, float, float, float, int, int, int]:
    """Fields of a 168-bit type 1/2/3/18 report: (mmsi, speed, lon, lat, course, heading,
    second, status) with exactly pyais's scaling (speed and course /10, lat/lon rounded
    to 6 decimals; status is -1 for type 18)."""
    mmsi = (value >> 130) & 0x3FFFFFFF
    if msg_type == 18:
        speed = ((value >> 112) & 1023) / 10.0
        lon_raw = (value >> 83) & 0xFFFFFFF
        lat_raw = (value >> 56) & 0x7FFFFFF
        course = ((value >> 44) & 4095) / 10.0
        heading = (value >> 35) & 511
        second = (value >> 29) & 63
        status = -1
    else:
        status = (value >> 126) & 15
        speed = ((value >> 108) & 1023) / 10.0
        lon_raw = (value >> 79) & 0xFFFFFFF
        lat_raw = (value >> 52) & 0x7FFFFFF
        course = ((value >> 40) & 4095) / 10.0
        heading = (value >> 31) & 511
        second = (value >> 25) & 63
    if lon_raw & 0x8000000:
        lon_raw -= 0x10000000
    if lat_raw & 0x4000000:
        lat_raw -= 0x8000000
    # pyais: round(raw / 600000, 6) computed exactly as ((10 * raw + 3) // 6) / 1e6
    lon = ((10 * lon_raw + 3) // 6) / 1e6
    lat = ((10 * lat_raw + 3) // 6) / 1e6
    return mmsi, speed, lon, lat, course, heading, second, status


def decode_pyais(value: int, bits: int, payload: bytes, fill: int) -> Any:
    """Decode with pyais (raises KeyError for a type it does not know)."""
    msg_type = value >> (bits - 6) if bits >= 6 else -1
    cls = MSG_CLASS[msg_type]
    return cls.from_vector(bit_vector(payload, fill))


# Field decoding from pyais's own field tables (``decoder_plan``: name, offset, width,
# signed, kind, converter), with the result of ``from_vector(...).asdict(enum_as_int=True)``
# but without building the message object: shifts on one integer, and text fields through
# base64 rather than one look-up per character. Only message classes whose decoding is
# pyais's generic one are read this way (and type 24, dispatched on its part number as
# pyais does); the tests compare the dictionaries with pyais's on every message type.
_SIXBIT = bytes((v + 64) if v < 32 else v for v in range(64))
_B64_TO_SIXBIT = bytes.maketrans(_B64, _SIXBIT)
_PLAN_TYPES = frozenset({1, 2, 3, 4, 5, 9, 10, 11, 18, 19, 27})
_Plan = tuple[tuple[str, int, int, bool, int, Any, bool, bool], ...]
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type[Payload]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        spare = {f.name for f in cls.fields() if f.metadata.get("is_spare")}
        plan = _PLANS[cls] = tuple(
            (name, offset, width, signed, kind, converter, name in spare, name in ENUM_FIELDS)
            for name, offset, width, signed, kind, converter in cls.decoder_plan()
        )
    return plan


def _text(value: int, bits: int, start: int, width: int) -> str:
    """pyais's ``get_str``: 6-bit text, trailing '@' and surrounding spaces removed."""
    if width <= 0 or start >= bits:
        return ""
    if start + width <= bits and width % 6 == 0:
        raw = (value >> (bits - start - width)) & ((1 << width) - 1)
        pad = -width % 24
        armour = binascii.b2a_base64((raw << pad).to_bytes((width + pad) >> 3, "big"), newline=False)  # fmt: skip
        text = armour[: width // 6].translate(_B64_TO_SIXBIT).decode("ascii")
    else:  # a field cut short by the end of the payload: character by character
        chars = []
        for i in range(start, start + width, 6):
            avail = min(6, bits - i)
            chars.append(_SIXBIT[(value >> (bits - i - avail)) & ((1 << avail) - 1)] if avail > 0 else 64)  # fmt: skip
        text = bytes(chars).decode("ascii")
    return text.rstrip("@").strip()


def decode_fields(value: int, bits: int, msg_type: int) -> dict[str, Any] | None:
    """The fields pyais decodes from a payload (as ``asdict(enum_as_int=True)``), or None
    for a type read by pyais itself (:func:`decode_pyais`)."""
    if msg_type not in _PLAN_TYPES:
        if msg_type != 24 or bits < 40:
            return None
        partno = (value >> (bits - 40)) & 3
        if partno == 0:
            cls: type[Payload] = MessageType24PartA
        elif partno == 1:
            mmsi = (value >> (bits - 38)) & 0x3FFFFFFF
            aux = is_auxiliary_craft(mmsi)
            cls = MessageType24PartBAuxiliaryCraft if aux else MessageType24PartB
        else:
            return None  # pyais refuses the part number
    else:
        cls = MSG_CLASS[msg_type]
    out: dict[str, Any] = {}
    val: Any
    for name, offset, width, signed, kind, converter, spare, enum in _plan(cls):
        if offset >= bits:
            if not spare:
                out[name] = None
            continue
        if spare:
            continue
        if kind == STR:
            val = _text(value, bits, offset, width)
        else:
            avail = min(width, bits - offset)
            val = (value >> (bits - offset - avail)) & ((1 << avail) - 1)
            if kind == INT:
                if signed and val >> (avail - 1):
                    val -= 1 << avail
            elif kind == FLOAT:
                if signed and val >> (avail - 1):
                    val -= 1 << avail
                val = float(val)
            elif kind == BOOL:
                val = bool(val)
            else:  # bytes, padded on the right to whole bytes
                nbytes = (avail + 7) // 8
                val = (val << (nbytes * 8 - avail)).to_bytes(nbytes, "big")
        if converter is not None:
            val = converter(val)
        if enum and val is not None:
            val = int(val)
        out[name] = val
    return out


def check_position(lat: float, lon: float, course: float | None, heading: int | None) -> str:
    """'' when plausible, 'na' when the position is "not available", else a detail text."""
    if lat == 91.0 or lon == 181.0:
        return "na"
    if not -90.0 <= lat <= 90.0:
        return f"latitude {lat}"
    if not -180.0 <= lon <= 180.0:
        return f"longitude {lon}"
    if course is not None and course > 360.0:
        return f"course {course}"
    if heading is not None and 360 <= heading < 511:
        return f"heading {heading}"
    return ""


_LINE_NO = attrgetter("line_no")


def split_block(buf: bytes) -> list[bytes]:
    """The lines of a block (split on ``\\n``; a last line without one counts too)."""
    lines = buf.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _subset(sc: fastpath.Scan, keep: npt.NDArray[np.int64]) -> fastpath.Scan:
    """The scan with only the fast lines at positions ``keep`` of ``sc.fast``."""
    return fastpath.Scan(
        starts=sc.starts,
        stops=sc.stops,
        **{
            name: getattr(sc, name)[keep]
            for name in fastpath.Scan.__dataclass_fields__
            if name not in ("starts", "stops")
        },
    )


# --- the decoder ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Part:
    line_no: int
    raw: bytes
    time: float | None
    payload: bytes
    fill: int


@dataclass(slots=True)
class _Group:
    count: int
    parts: list[_Part]
    first_time: float | None


class Decoder:
    """Feed lines (bytes, without or with their line end); read the outcome lists."""

    def __init__(
        self,
        *,
        require_time: bool = False,
        fast: bool = True,
        max_pending: int = DEFAULT_MAX_PENDING,
        fragment_timeout: float = FRAGMENT_TIMEOUT_S,
    ) -> None:
        self.require_time = require_time
        self.fast = fast
        self.max_pending = max_pending
        self.fragment_timeout = fragment_timeout
        self.counts = Counts()
        self.fixes: list[Fix] = []
        self.messages: list[Message] = []
        self.quarantine: list[Quarantined] = []
        self._columns: list[FixColumns] = []  # the block path's fixes, as columns
        self._loose: list[Fix] = []  # the per-line path's fixes (not yet in columns)
        self._pending: dict[tuple[str, str, bytes], _Group] = {}
        self._last_time: float | None = None
        self._tag_cache: tuple[bytes, float | None, str] = (b"\x00", None, "")

    # -- outcomes

    def _quarantine(
        self, line_no: int, reason: str, raw: bytes, time: float | None, detail: str = ""
    ) -> None:
        c = self.counts
        c.quarantined += 1
        c.reasons[reason] += 1
        self.quarantine.append(
            Quarantined(line_no, reason, printable(raw[:RAW_KEEP]), time, detail)
        )

    def _quarantine_group(self, group: _Group, reason: str) -> None:
        self.counts.pending -= len(group.parts)
        for part in group.parts:
            self._quarantine(part.line_no, reason, part.raw, part.time)

    # -- input

    def feed(self, line: bytes, line_no: int) -> None:
        raw = line.strip()
        if not raw or raw[0] == 35:  # '#'
            self.counts.ignored += 1
            return
        counts = self.counts
        counts.received += 1
        try:
            self._line(raw, line_no)
        except Exception as exc:  # never a crash: an unforeseen line is quarantined
            if counts.decoded + counts.quarantined + counts.pending < counts.received:
                self._quarantine(line_no, MALFORMED, raw, None, f"{type(exc).__name__}")

    def _line(self, raw: bytes, line_no: int) -> None:
        if raw.translate(None, _NOT_PRINTABLE) != raw:
            self._quarantine(line_no, BINARY_GARBAGE, raw, None)
            return
        time: float | None = None
        station = ""
        sentence = raw
        first = raw[0]
        if first == 92:  # '\' tag block
            end = raw.find(b"\\", 1)
            if end < 0:
                self._quarantine(line_no, MALFORMED, raw, None, "unterminated tag block")
                return
            tag = raw[1:end]
            sentence = raw[end + 1 :]
            if tag == self._tag_cache[0]:  # feeds repeat the tag block within one second
                _, time, station = self._tag_cache
                self._last_time = time
                self._sentence(sentence, raw, line_no, time, station)
                return
            time, station, reason, detail = read_tag(tag)
            if reason:
                self._quarantine(line_no, reason, raw, None, detail)
                return
            self._tag_cache = (tag, time, station)
        elif first != 33:  # not '!': maybe a leading ISO-8601 time
            bang = raw.find(b"!")
            if bang < 0:
                self._quarantine(line_no, MALFORMED, raw, None, "no AIS sentence")
                return
            prefix = raw[:bang].strip().rstrip(b",;").strip().decode("ascii")
            time = parse_time(prefix)
            if time is None:
                self._quarantine(line_no, MALFORMED, raw, None, "unreadable timestamp")
                return
            sentence = raw[bang:]
        if time is not None:
            self._last_time = time
        self._sentence(sentence, raw, line_no, time, station)

    def _sentence(
        self, sentence: bytes, raw: bytes, line_no: int, time: float | None, station: str
    ) -> None:
        star = sentence.find(b"*")
        if star < 0 or len(sentence) < star + 3:
            reason = TRUNCATED if sentence[:1] == b"!" else MALFORMED
            self._quarantine(line_no, reason, raw, time, "no checksum")
            return
        body = sentence[1:star]
        if sentence[:1] != b"!" or body[2:5] not in (b"VDM", b"VDO"):
            self._quarantine(line_no, MALFORMED, raw, time, "not AIVDM/AIVDO")
            return
        if nmea_checksum(body) != _hex2(sentence[star + 1 : star + 3]):
            self._quarantine(line_no, BAD_CHECKSUM, raw, time)
            return
        fields = body.split(b",")
        if len(fields) != 7:
            self._quarantine(line_no, MALFORMED, raw, time, f"{len(fields)} fields")
            return
        _talker, cnt_b, num_b, seq, channel, payload, fill_b = fields
        if not (cnt_b.isdigit() and num_b.isdigit() and fill_b.isdigit()):
            self._quarantine(line_no, MALFORMED, raw, time, "fragment numbers")
            return
        count, num, fill = int(cnt_b), int(num_b), int(fill_b)
        if not (1 <= count <= 9 and 1 <= num <= count and fill <= 5):
            self._quarantine(line_no, MALFORMED, raw, time, "fragment numbers or fill bits")
            return
        if not payload or not valid_armour(payload):
            self._quarantine(line_no, MALFORMED, raw, time, "payload characters")
            return
        if count == 1:
            self._decode(payload, fill, [(line_no, raw)], time, station)
            return
        self._fragment(
            (station, channel.decode("ascii"), seq),
            _Part(line_no, raw, time, payload, fill),
            count,
            num,
            station,
        )

    def _fragment(
        self, key: tuple[str, str, bytes], part: _Part, count: int, num: int, station: str
    ) -> None:
        pending = self._pending
        if pending:
            self._expire(part.time)
        group = pending.get(key)
        if group is None:
            if num != 1:
                self._quarantine(
                    part.line_no, ORPHAN_FRAGMENT, part.raw, part.time, f"part {num} of {count}"
                )
                return
            if len(pending) >= self.max_pending:
                oldest = next(iter(pending))
                self._quarantine_group(pending.pop(oldest), ORPHAN_FRAGMENT)
            pending[key] = _Group(count, [part], part.time)
            self.counts.pending += 1
            return
        expected = len(group.parts) + 1
        if num != expected or count != group.count:
            del pending[key]
            self._quarantine_group(group, OUT_OF_ORDER_FRAGMENT)
            if num == 1:  # a new message reusing the sequence id: start over with it
                pending[key] = _Group(count, [part], part.time)
                self.counts.pending += 1
            else:
                self._quarantine(
                    part.line_no,
                    OUT_OF_ORDER_FRAGMENT,
                    part.raw,
                    part.time,
                    f"part {num} of {count} after part {expected - 1}",
                )
            return
        group.parts.append(part)
        self.counts.pending += 1
        if num < count:
            return
        del pending[key]
        self.counts.pending -= count
        payload = b"".join(p.payload for p in group.parts)
        time = next((p.time for p in group.parts if p.time is not None), None)
        self._decode(
            payload, group.parts[-1].fill, [(p.line_no, p.raw) for p in group.parts], time, station
        )

    def _expire(self, now: float | None) -> None:
        if now is None:
            return
        limit = now - self.fragment_timeout
        pending = self._pending
        while pending:
            key = next(iter(pending))
            group = pending[key]
            if group.first_time is None or group.first_time >= limit:
                break
            del pending[key]
            self._quarantine_group(group, ORPHAN_FRAGMENT)

    def refuse(self, line: bytes, line_no: int, reason: str, detail: str = "") -> None:
        """Count a line as received and quarantine it undecoded (e.g. a live feed's overflow)."""
        raw = line.strip()
        if not raw:
            return
        self.counts.received += 1
        self._quarantine(line_no, reason, raw, None, detail)

    def flush(self) -> None:
        """End of input: fragments still waiting are orphans."""
        for group in self._pending.values():
            self._quarantine_group(group, ORPHAN_FRAGMENT)
        self._pending.clear()

    # -- decoding

    def _reject(
        self, lines: list[tuple[int, bytes]], reason: str, time: float | None, detail: str = ""
    ) -> None:
        for line_no, raw in lines:
            self._quarantine(line_no, reason, raw, time, detail)

    def _accept(self, lines: list[tuple[int, bytes]]) -> None:
        self.counts.decoded += len(lines)
        self.counts.messages += 1

    def _decode(
        self,
        payload: bytes,
        fill: int,
        lines: list[tuple[int, bytes]],
        time: float | None,
        station: str,
    ) -> None:
        value, bits = payload_int(payload, fill)
        if bits < 38:
            self._reject(lines, TRUNCATED, time, f"{bits} bits")
            return
        msg_type = value >> (bits - 6)
        if msg_type == 0 or msg_type > 27:
            self._reject(lines, UNSUPPORTED_TYPE, time, f"type {msg_type}")
            return
        if bits < MIN_BITS.get(msg_type, 38):
            self._reject(lines, TRUNCATED, time, f"type {msg_type} with {bits} bits")
            return
        line_no = lines[0][0]
        if bits == 168 and self.fast and (msg_type <= 3 or msg_type == 18):
            mmsi, speed, lon, lat, course, heading, _second, status = decode_position_fast(
                value, msg_type
            )
            self._position(
                lines,
                time,
                station,
                msg_type,
                mmsi,
                lat,
                lon,
                speed,
                course,
                heading,
                status if status >= 0 else None,
                None,
            )
            return
        data: dict[str, Any] | None = None
        if self.fast:
            try:
                data = decode_fields(value, bits, msg_type)
            except Exception:  # pyais below decides (and names the error)
                data = None
        if data is None:
            try:
                decoded = decode_pyais(value, bits, payload, fill)
            except KeyError:
                self._reject(lines, UNSUPPORTED_TYPE, time, f"type {msg_type}")
                return
            except Exception as exc:  # pyais raises plain errors on odd payloads
                self._reject(lines, MALFORMED, time, f"pyais: {exc}"[:200])
                return
            data = decoded.asdict(enum_as_int=True)
        mmsi = int(data.get("mmsi") or 0)
        if msg_type in POSITION_TYPES:
            status_v = data.get("status")
            self._position(
                lines,
                time,
                station,
                msg_type,
                mmsi,
                float(data["lat"]),
                float(data["lon"]),
                data.get("speed"),
                data.get("course"),
                data.get("heading"),
                int(status_v) if status_v is not None else None,
                data,
            )
            return
        if mmsi == 0:
            self._reject(lines, IMPOSSIBLE_VALUE, time, "MMSI 0")
            return
        self._accept(lines)
        self.messages.append(
            Message(time, msg_type, mmsi, data, line_no, station, tuple(n for n, _ in lines))
        )

    def _position(
        self,
        lines: list[tuple[int, bytes]],
        time: float | None,
        station: str,
        msg_type: int,
        mmsi: int,
        lat: float,
        lon: float,
        speed: float | None,
        course: float | None,
        heading: int | None,
        status: int | None,
        data: dict[str, Any] | None,
    ) -> None:
        if mmsi == 0:
            self._reject(lines, IMPOSSIBLE_VALUE, time, "MMSI 0")
            return
        if msg_type == 27:  # 6-bit speed (63 = n/a), 9-bit course in degrees (511 = n/a)
            sog = None if speed is None or speed >= 63 else float(speed)
            cog = None if course is None or course >= 511 else float(course)
        else:
            sog = None if speed is None or speed >= 102.3 else speed
            cog = None if course is None or course == 360.0 else course
        head = None if heading is None or heading == 511 else heading
        problem = check_position(lat, lon, course if msg_type != 27 else cog, heading)
        if problem and problem != "na":
            self._reject(lines, IMPOSSIBLE_VALUE, time, problem)
            return
        if self.require_time and time is None:
            self._reject(lines, NO_TIMESTAMP, None)
            return
        self._accept(lines)
        line_no = lines[0][0]
        if problem == "na":
            self.counts.no_position += 1
            fields = data if data is not None else {"lat": lat, "lon": lon, "speed": speed}
            self.messages.append(Message(time, msg_type, mmsi, fields, line_no, station))
            return
        fix = Fix(time, mmsi, msg_type, lat, lon, sog, cog, head, status, line_no, station)
        self.fixes.append(fix)
        self._loose.append(fix)
        if data is not None and msg_type == 19:  # class B extended: identity too
            self.messages.append(
                Message(time, msg_type, mmsi, data, line_no, station, tuple(n for n, _ in lines))
            )

    # -- draining

    def take(self) -> tuple[list[Fix], list[Message], list[Quarantined]]:
        """Hand over (and forget) what was decoded and quarantined since the last call."""
        out = (self.fixes, self.messages, self.quarantine)
        self.fixes, self.messages, self.quarantine = [], [], []
        self._columns, self._loose = [], []
        return out

    def take_block(self) -> tuple[list[Fix], list[Message], list[Quarantined], FixColumns]:
        """:meth:`take`, and the same fixes as columns (not necessarily in the same order)."""
        columns = self._columns
        if self._loose:
            columns.append(FixColumns.of(self._loose))
        out = self.take()
        return (*out, FixColumns.concat(columns))

    # -- a block of lines at once

    def feed_block(self, buf: bytes, first_line_no: int) -> int:
        """Feed every line of ``buf`` (split on ``\\n``, numbered from ``first_line_no``),
        with exactly the outcome of :meth:`feed` line by line: the lines of the common
        shape are decoded together (:mod:`rasid.maritime.fastpath`), the others one by one,
        and the fixes are listed in line order. Returns the number of lines."""
        if not self.fast:
            lines = split_block(buf)
            for i, line in enumerate(lines):
                self.feed(line, first_line_no + i)
            return len(lines)
        sc = fastpath.scan(buf)
        n = sc.lines
        fast = sc.fast
        times: list[float] = []
        stations: list[str] = []
        if len(fast):
            tags = [buf[a:b] for a, b in zip(sc.tag_starts.tolist(), sc.tag_stops.tolist(), strict=True)]  # fmt: skip
            known: dict[bytes, tuple[float, str] | None] = {}
            for tag in set(tags):
                time, station, reason, _ = read_tag(tag)
                # the tag block must end at the sentence (no other backslash) and give a time
                ok = not reason and time is not None and 92 not in tag
                known[tag] = (time, station) if ok and time is not None else None
            read = [known[tag] for tag in tags]
            if None in read:  # a bad tag block: those lines go the per-line way
                keep = np.array([r is not None for r in read])
                sc = _subset(sc, np.flatnonzero(keep))
                fast = sc.fast
                read = [r for r in read if r is not None]
            times = [r[0] for r in read]  # type: ignore[index]
            stations = [r[1] for r in read]  # type: ignore[index]
        slow_mask = np.ones(n, bool)
        slow_mask[fast] = False
        slow = np.flatnonzero(slow_mask).tolist()
        starts, stops = sc.starts.tolist(), sc.stops.tolist()
        mark = len(self.fixes)
        split = bisect_left(slow, int(fast[-1])) if len(fast) else len(slow)
        feed = self.feed
        for i in slow[:split]:  # the per-line lines before the last block line
            feed(buf[starts[i] : stops[i]], first_line_no + i)
        if len(fast):
            self._fast_fixes(sc, times, stations, first_line_no)
            self._last_time = times[-1]
        for i in slow[split:]:
            feed(buf[starts[i] : stops[i]], first_line_no + i)
        loose = len(self.fixes) - mark - len(fast)
        if loose and len(fast):  # per-line and block fixes in one block: line order
            segment = self.fixes[mark:]
            segment.sort(key=_LINE_NO)
            self.fixes[mark:] = segment
        return n

    def _fast_fixes(
        self, sc: fastpath.Scan, times: list[float], stations: list[str], first_line_no: int
    ) -> None:
        nf = len(sc.fast)
        c = self.counts
        c.received += nf
        c.decoded += nf
        c.messages += nf

        def optional(values: npt.NDArray[Any], missing: npt.NDArray[np.bool_]) -> list[Any]:
            out: list[Any] = values.tolist()
            for k in np.flatnonzero(missing).tolist():
                out[k] = None
            return out

        sog = optional(sc.sog, np.isnan(sc.sog))
        cog = optional(sc.cog, np.isnan(sc.cog))
        heading = optional(sc.heading, sc.heading < 0)
        status = optional(sc.status, sc.status < 0)
        line_nos = (sc.fast + first_line_no).tolist()
        self.fixes.extend(
            map(
                Fix,
                times,
                sc.mmsi.tolist(),
                sc.msg_type.tolist(),
                sc.lat.tolist(),
                sc.lon.tolist(),
                sog,
                cog,
                heading,
                status,
                line_nos,
                stations,
            )
        )
        self._columns.append(
            FixColumns(
                time=np.array(times, np.float64),
                mmsi=sc.mmsi,
                msg_type=sc.msg_type,
                lat=sc.lat,
                lon=sc.lon,
                sog=sc.sog,
                cog=sc.cog,
                heading=sc.heading,
                status=sc.status,
            )
        )

    @property
    def last_time(self) -> float | None:
        return self._last_time
