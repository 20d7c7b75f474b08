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

Decoding uses pyais. Single-sentence 168-bit position reports of types 1, 2, 3 and 18
take a faster path (:func:`decode_position_fast`): base64 translation of the 6-bit
armour in C and shifts on one integer, with the same field values as pyais (the tests
compare them field by field on the GPSD corpus and on simulated traffic).
"""

from __future__ import annotations

import binascii
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS

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
            star = tag.find(b"*")
            if star < 0:
                self._quarantine(line_no, MALFORMED, raw, None, "tag block without checksum")
                return
            if nmea_checksum(tag[:star]) != _hex2(tag[star + 1 : star + 3]):
                self._quarantine(line_no, BAD_CHECKSUM, raw, None, "tag block")
                return
            for item in tag[:star].split(b","):
                key = item[:2]
                if key == b"c:":
                    try:
                        stamp = int(item[2:])
                    except ValueError:
                        self._quarantine(line_no, MALFORMED, raw, None, "tag block time")
                        return
                    time = stamp / 1000.0 if stamp > 100_000_000_000 else float(stamp)
                elif key == b"s:":
                    station = item[2:].decode("ascii")
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
        try:
            decoded = decode_pyais(value, bits, payload, fill)
        except KeyError:
            self._reject(lines, UNSUPPORTED_TYPE, time, f"type {msg_type}")
            return
        except Exception as exc:  # pyais raises plain errors on odd payloads
            self._reject(lines, MALFORMED, time, f"pyais: {exc}"[:200])
            return
        data: dict[str, Any] = decoded.asdict(enum_as_int=True)
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
        self.fixes.append(
            Fix(time, mmsi, msg_type, lat, lon, sog, cog, head, status, line_no, station)
        )
        if data is not None and msg_type == 19:  # class B extended: identity too
            self.messages.append(
                Message(time, msg_type, mmsi, data, line_no, station, tuple(n for n, _ in lines))
            )

    # -- draining

    def take(self) -> tuple[list[Fix], list[Message], list[Quarantined]]:
        """Hand over (and forget) what was decoded and quarantined since the last call."""
        out = (self.fixes, self.messages, self.quarantine)
        self.fixes, self.messages, self.quarantine = [], [], []
        return out

    @property
    def last_time(self) -> float | None:
        return self._last_time
