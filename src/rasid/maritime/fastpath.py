"""Vectorised decoding of the one line shape that makes up almost all of a feed.

A receiver's output is overwhelmingly single-sentence class A and class B position
reports behind a tag block::

    \\c:1768435200,s:rasid-sim*03\\!AIVDM,1,1,,A,181C;w001eSHinp7AS8auov1P000,0*68

:func:`scan` reads a whole block of lines at once with NumPy: it finds the lines of
exactly that shape (tag block, ``!AIVDM`` or ``!AIVDO``, one fragment, no sequence id,
channel A/B/1/2, a 28-character payload of valid 6-bit armour, fill 0, printable ASCII,
a matching NMEA checksum), and decodes their 168 payload bits into the fields of types
1, 2, 3 and 18 with the same scaling as :func:`rasid.maritime.nmea.decode_position_fast`
(and so as pyais). Every other line, and every line of that shape whose values the
per-line decoder would treat specially (another message type, MMSI 0, position not
available or impossible, course or heading out of range), is left to the per-line
decoder: :func:`scan` only answers for lines whose outcome is certain to be a plain
:class:`~rasid.maritime.nmea.Fix`. The tag block itself is checked by the caller (it
varies in length, and repeats for every line of one second).

Pure NumPy, no state: the caller (:meth:`rasid.maritime.nmea.Decoder.feed_block`) keeps
the counts, the tag-block checks and the order of outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Offsets from the end of a line's content (after any '\r'), for the shape above.
SENTENCE_LEN = 47  # "!AIVDM,1,1,,A," + 28 payload + ",0*hh"
PAYLOAD_CHARS = 28  # 168 bits

_ARMOUR_LUT = np.full(256, 255, np.uint8)
_ARMOUR_LUT[48:88] = np.arange(0, 40, dtype=np.uint8)
_ARMOUR_LUT[96:120] = np.arange(40, 64, dtype=np.uint8)
_HEX_LUT = np.full(256, 4096, np.int32)  # 4096: not a hex digit (no checksum matches)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX_LUT[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX_LUT[_c] = 10 + _i
_FRAGMENT = np.frombuffer(b",1,1,,", np.uint8)
_GATHER = np.arange(-(SENTENCE_LEN + 1), 0, dtype=np.int64)  # '\' then the sentence

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class Scan:
    """One block of lines: where each line is, and the decoded fields of the certain ones.

    ``starts[i]``/``stops[i]``: line ``i``'s bytes (without its ``\\n``). ``fast``: the
    indices (ascending) of the lines decoded here; the other arrays are indexed like
    ``fast``. ``tag_starts``/``tag_stops``: each fast line's tag-block text (between the
    backslashes), for the caller to check. ``sog``/``cog`` are NaN and ``heading``/
    ``status`` -1 where AIS says "not available" (status is -1 for type 18).
    """

    starts: IntArray
    stops: IntArray
    fast: IntArray
    tag_starts: IntArray
    tag_stops: IntArray
    msg_type: IntArray
    mmsi: IntArray
    lat: FloatArray
    lon: FloatArray
    sog: FloatArray
    cog: FloatArray
    heading: IntArray
    status: IntArray

    @property
    def lines(self) -> int:
        return len(self.starts)


def _bits(sextets: npt.NDArray[np.int64], offset: int, width: int) -> IntArray:
    """Unsigned field of ``width`` bits at bit ``offset`` of each row's payload."""
    k0, k1 = offset // 6, (offset + width - 1) // 6
    acc = sextets[:, k0].copy()
    for k in range(k0 + 1, k1 + 1):
        acc <<= 6
        acc |= sextets[:, k]
    acc >>= 6 * (k1 + 1) - (offset + width)
    acc &= (1 << width) - 1
    return acc


def _signed(raw: IntArray, width: int) -> IntArray:
    sign = 1 << (width - 1)
    return np.where(raw & sign, raw - (sign << 1), raw)


def _degrees(raw: IntArray) -> FloatArray:
    # pyais: round(raw / 600000, 6); exactly ((10 * raw + 3) // 6) / 1e6 (see nmea.py)
    return ((10 * raw + 3) // 6) / 1e6


def _select(is18: npt.NDArray[np.bool_], s: npt.NDArray[np.int64], a: int, b: int, w: int) -> IntArray:  # fmt: skip
    """Field at offset ``a`` (types 1-3) or ``b`` (type 18), ``w`` bits."""
    return np.where(is18, _bits(s, b, w), _bits(s, a, w))


def scan(buf: bytes) -> Scan:
    """Every line of ``buf`` (split on ``\\n``; a last line without one counts too)."""
    arr = np.frombuffer(buf, np.uint8)
    newlines = np.flatnonzero(arr == 10)
    if len(buf) and buf[-1] != 10:
        newlines = np.append(newlines, len(buf))
    stops = newlines.astype(np.int64)
    starts = np.empty_like(stops)
    if len(stops):
        starts[0] = 0
        starts[1:] = stops[:-1] + 1
    # content end: one trailing '\r' dropped (the per-line decoder strips it too)
    ends = stops.copy()
    nonempty = ends > starts
    cr = np.zeros(len(ends), bool)
    cr[nonempty] = arr[ends[nonempty] - 1] == 13
    ends -= cr
    cand = np.flatnonzero(ends - starts >= SENTENCE_LEN + 3)  # '\' + tag + '\' + sentence
    if len(cand):
        cand = cand[arr[starts[cand]] == 92]  # starts with a tag block
    empty_i = np.empty(0, np.int64)
    if not len(cand):
        e_f = np.empty(0, np.float64)
        return Scan(starts, stops, empty_i, empty_i, empty_i, empty_i, empty_i,
                    e_f, e_f, e_f, e_f, empty_i, empty_i)  # fmt: skip
    e = ends[cand]
    g = arr[e[:, None] + _GATHER]  # column 0: the tag block's closing '\', 1: '!'
    ok = (g[:, 0] == 92) & (g[:, 1] == 33) & (g[:, 2] == 65) & (g[:, 3] == 73)  # \!AI
    ok &= (g[:, 4] == 86) & (g[:, 5] == 68) & ((g[:, 6] == 77) | (g[:, 6] == 79))  # VDM/O
    ok &= (g[:, 7:13] == _FRAGMENT).all(axis=1)
    ch = g[:, 13]
    ok &= (ch == 65) | (ch == 66) | (ch == 49) | (ch == 50)  # A B 1 2
    ok &= (g[:, 14] == 44) & (g[:, 43] == 44) & (g[:, 44] == 48) & (g[:, 45] == 42)  # ,  ,0*
    checksum = _HEX_LUT[g[:, 46]] * 16 + _HEX_LUT[g[:, 47]]
    ok &= np.bitwise_xor.reduce(g[:, 2:45], axis=1) == checksum
    sext8 = _ARMOUR_LUT[g[:, 15:43]]
    ok &= (sext8 != 255).all(axis=1)
    msg_type = sext8[:, 0].astype(np.int64)
    ok &= ((msg_type >= 1) & (msg_type <= 3)) | (msg_type == 18)
    # every byte of the line printable ASCII (else: binary garbage, per line)
    bad = (arr < 32) | (arr > 126)
    bad[newlines[newlines < len(arr)]] = False
    if bad.any():
        cum = np.zeros(len(arr) + 1, np.int64)
        np.cumsum(bad, out=cum[1:])
        ok &= cum[e] - cum[starts[cand]] == 0
    keep = np.flatnonzero(ok)
    cand, e, sext8, msg_type = cand[keep], e[keep], sext8[keep], msg_type[keep]
    s = sext8.astype(np.int64)
    is18 = msg_type == 18
    mmsi = _bits(s, 8, 30)
    status = np.where(is18, -1, _bits(s, 38, 4))
    speed = _select(is18, s, 50, 46, 10)
    lon_raw = _signed(_select(is18, s, 61, 57, 28), 28)
    lat_raw = _signed(_select(is18, s, 89, 85, 27), 27)
    course = _select(is18, s, 116, 112, 12)
    heading = _select(is18, s, 128, 124, 9)
    lat, lon = _degrees(lat_raw), _degrees(lon_raw)
    # what the per-line decoder treats otherwise: MMSI 0, no position (91/181), values
    # out of range (|lat| > 90, |lon| > 180, course > 360, heading 360-510)
    certain = (mmsi != 0) & (lat != 91.0) & (lon != 181.0)
    certain &= (lat >= -90.0) & (lat <= 90.0) & (lon >= -180.0) & (lon <= 180.0)
    certain &= (course <= 3600) & ((heading < 360) | (heading == 511))
    keep = np.flatnonzero(certain)
    cand, e = cand[keep], e[keep]
    speed, course, heading = speed[keep], course[keep], heading[keep]
    sog = np.where(speed == 1023, np.nan, speed / 10.0)
    cog = np.where(course == 3600, np.nan, course / 10.0)
    return Scan(
        starts=starts,
        stops=stops,
        fast=cand,
        tag_starts=starts[cand] + 1,
        tag_stops=e - (SENTENCE_LEN + 1),
        msg_type=msg_type[keep],
        mmsi=mmsi[keep],
        lat=lat[keep],
        lon=lon[keep],
        sog=sog,
        cog=cog,
        heading=np.where(heading == 511, -1, heading),
        status=status[keep],
    )
