"""Registry import, export and batch screening: files in, files out.

Reading
    CSV is read with the :mod:`csv` module, UTF-8 with or without a byte-order mark (what
    Excel's "CSV UTF-8" writes); a file in another encoding is refused naming the first line
    that is not UTF-8 and, when it decodes as Windows-1256 (Arabic Windows) or starts with a
    UTF-16 mark, saying so (``--encoding cp1256`` reads such a file). The delimiter is the
    comma unless the header has only semicolons or tabs. XLSX is read with openpyxl in
    read-only mode (first sheet unless one is named). Rows are numbered as a spreadsheet
    shows them: the header is row 1, the first record row 2. Header names are compared
    without case, with spaces and hyphens read as ``_``; a few common spellings are accepted
    (``date_of_birth`` for ``dob``, ``lat`` for ``latitude`` …). Missing required columns
    refuse the file; unknown columns are a warning and are ignored; a row with more cells
    than the header is an error.

Importing (:func:`import_table`)
    Every row is mapped to the service's own input (``EntityIn`` / ``IncidentIn``) and
    written by ``registry.service`` inside a SAVEPOINT, so the dry run runs exactly the
    validation of the real import: a dry run rolls the whole transaction back at the end; a
    real import with any bad row rolls back too (all or nothing) unless the caller asked for
    valid rows only, in which case the good rows stay and the bad ones are returned with
    their reasons (see :func:`rejects_csv`). Problems name the row and the column.

    persons
        ``name_ar`` → name as written, ``name_latin`` → Latin name, ``aliases`` (separated by
        ``;``) → aliases, ``dob`` as ``YYYY-MM-DD`` (precision day) or ``YYYY`` (precision
        year), ``nationality`` ISO 3166-1 alpha-2, ``identifiers`` as
        ``kind:value;kind:value`` (``phone:+967777123456;passport:A1234567``), optionally
        ``birth_place``, ``kunya``, ``notes``. An identifier repeated within the file is an
        error on the later row; one already on a record the user can see is refused by the
        service.
    incidents
        ``title``, ``event_date`` (``YYYY-MM-DD``; ``YYYY-MM`` or ``YYYY`` give month or year
        precision), ``event_time``, ``event_type``/``sub_event_type`` (ACLED codebook; the
        event type is derived when only the sub-event type is given), ``governorate`` (ISO
        code or any spelling the gazetteer knows), ``district`` (gazetteer id or name),
        ``location``, ``latitude``, ``longitude``, ``geo_precision`` (1-3), ``fatalities``,
        ``injured``, ``narrative_ar``, ``narrative_en``, ``ref``, and one source: ``source``
        with ``reliability`` (A-F) and ``credibility`` (1-6), F and 6 ("cannot be judged")
        when not given.
    acled (ACLED export CSV, its own column names)
        * ``ref`` = ``event_id_cnty``; re-importing skips every event whose ref is already on
          an incident owned by the importing organisation ("already present"), so a file
          can be imported again, or a newer export over an older one, without duplicates;
        * ``title`` = "<sub_event_type> in <location>"; ``event_date`` as ``YYYY-MM-DD`` or
          ``16 May 2024``; ``time_precision`` 1/2/3 → day/month/year;
        * ``admin1`` → governorate through the gazetteer (ACLED's "Sadah", "Amanat al
          Asimah", "Al Hudaydah", "Hadramawt", "Marib", "Al Dhale'e" … all resolve);
          ``admin2`` → district only when the gazetteer finds it, in that governorate, at
          score 88 or more (else the district is left empty; the place keeps its name in
          ``location``);
        * ``latitude``/``longitude``, ``geo_precision``, ``fatalities``; ``notes`` →
          ``narrative_en``;
        * one source: the ``source`` text "via ACLED", graded by ``source_scale``. We cannot
          assess ACLED's underlying reports ourselves, so the grade is conservative: C3
          (fairly reliable, possibly true) by default, D3 when the scale includes "New media"
          (social media). Never higher than C3;
        * ``actor1``/``actor2`` → group records, reused by exact normalised name (case,
          spacing, Arabic letter forms) among the groups the importing user can see and
          among the groups created earlier in the same import, otherwise created with the
          import's owner and marking (``group_kind`` armed_group for ACLED inter codes 2-4,
          other for state and external forces). Collective labels are not groups and are
          not linked: civilians, protesters and rioters (inter codes 5-7, or the name
          "Civilians (Yemen)" …) and "Unidentified …" actors (linking hundreds of
          unrelated incidents to "Unidentified Armed Group" would mislead a link chart).
          Associated actors (``assoc_actor_*``), ``tags`` and ``civilian_targeting`` are not
          imported;
        * involvement roles by event type (ACLED's codebook says actor order does not say
          who attacked in battles):

          ===================================== ============ ============
          event type / sub-event type            actor1       actor2
          ===================================== ============ ============
          Battles                                perpetrator  perpetrator
          Explosions/Remote violence             perpetrator  target
          Violence against civilians             perpetrator  victim
          Riots                                  perpetrator  target
          Protests: Peaceful protest             (none)       (none)
          Protests: other sub-event types        target       perpetrator
          Strategic developments: Arrests        perpetrator  arrested
          Strategic developments: Disrupted
          weapons use                            target       perpetrator
          Strategic developments: Agreement      perpetrator  perpetrator
          Strategic developments: others         perpetrator  target
          ===================================== ============ ============

Exporting (:func:`export_incidents`, :func:`export_entities`)
    CSV (UTF-8 with a byte-order mark so that Excel shows Arabic), XLSX, GeoJSON (RFC 7946
    FeatureCollection) and KML 2.2, as bytes. Records without coordinates are kept in CSV and
    XLSX and left out of GeoJSON and KML (:func:`without_coordinates` counts them). Spreadsheet
    cells that would run as formulas (``=…``, ``@…``, ``+``/``-`` followed by anything but a
    number) are written as text: with a leading ``'`` in CSV, as string cells in XLSX. The
    persons columns are the import columns, so an export can be edited and imported elsewhere.
    TLP:RED records never leave the server: :func:`exportable` withholds them from any file.

Screening (:func:`screen_table`)
    Each incoming row's names (any of ``name``, ``full_name``, ``name_ar``, ``name_latin``,
    ``aliases`` …, or ``first_name`` … ``last_name`` searched as one name) and identifiers (``identifiers`` as ``kind:value;…`` or columns named by
    kind: ``passport``, ``phone`` …) are searched with ``registry.search.search`` restricted
    to persons (so the access rules apply: a record the user cannot see is never a
    candidate). A candidate's score is its best search score (1.0 for an exact identifier),
    then +0.05 when the date of birth agrees, -0.05 for the same year but another day, -0.15
    for another year, -0.05 when both nationalities are known and differ (kept within 0-1);
    the reason says all of it. The best ``top`` candidates are kept.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any, Literal, TypeVar

import openpyxl  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.access.markings import RED
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import savepoint
from rasid.core.errors import RasidError, ValidationFailed
from rasid.registry import gazetteer, names, service, taxonomy
from rasid.registry import search as search_service
from rasid.registry.models import Entity, EntityName, Incident, Involvement
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    MarkingIn,
    NameIn,
    SourceIn,
)

ImportKind = Literal["persons", "incidents", "acled"]
IMPORT_KINDS: tuple[str, ...] = ("persons", "incidents", "acled")
EXPORT_FORMATS: tuple[str, ...] = ("csv", "xlsx", "geojson", "kml")
Progress = Callable[[], None]
T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """Something wrong (or worth a warning) in one row and column; ``row`` 1 is the header."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class _Bad(Exception):
    """A cell that cannot be read; its message becomes a :class:`Problem`."""


# --------------------------------------------------------------------------------------------
# Reading CSV and XLSX


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: tuple[str, ...]

    @property
    def blank(self) -> bool:
        return not any(self.cells)


@dataclass(frozen=True)
class Table:
    name: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]


_EDGE_MARKS = "\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _clean(value: str) -> str:
    return value.strip().strip(_EDGE_MARKS).strip()


def column_key(header: str) -> str:
    """How header names are compared: no case, spaces and hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", _clean(header).casefold())


def read_table(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> Table:
    """Read a CSV or XLSX file into a :class:`Table` (ValidationFailed, naming the line, if not)."""
    if not path.is_file():
        raise ValidationFailed("No such file: %(path)s.", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return parse_xlsx(path.read_bytes(), path.name, sheet=sheet)
    if suffix == ".xls":
        raise ValidationFailed(
            "%(file)s is in the old Excel 97-2003 format; save it as .xlsx or as CSV UTF-8.",
            file=path.name,
        )
    return parse_csv(path.read_bytes(), path.name, encoding=encoding)


def _encoding_hint(data: bytes) -> str:
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:
        return ""
    if sum(1 for ch in text if "\u0621" <= ch <= "\u064a") >= 2:
        return " It looks like Windows-1256 (the Arabic Windows encoding)."
    return ""


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    wanted = encoding or "utf-8-sig"
    try:
        codec = codecs.lookup(wanted)
    except LookupError:
        raise ValidationFailed(
            "Unknown encoding %(value)s.", field="encoding", value=wanted
        ) from None
    if encoding is None and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationFailed(
            '%(file)s, line 1: the file is UTF-16 ("Unicode text"), not UTF-8; save it as '
            '"CSV UTF-8" or import it with --encoding utf-16.',
            file=name,
        )
    try:
        return data.decode(codec.name)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = _encoding_hint(data) if codec.name.startswith("utf-8") else ""
        advice = (
            ' Save it from Excel as "CSV UTF-8", or import it with --encoding cp1256.'
            if hint
            else ' Save it as "CSV UTF-8", or give its encoding with --encoding.'
        )
        raise ValidationFailed(
            "%(file)s, line %(line)s: the file is not valid %(encoding)s.%(hint)s%(advice)s",
            file=name,
            line=line,
            encoding="UTF-8" if codec.name.startswith("utf-8") else codec.name,
            hint=hint,
            advice=advice,
        ) from None


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] and not counts[","] else ","


def parse_csv(data: bytes, name: str, *, encoding: str | None = None) -> Table:
    text = _decode(data, name, encoding)
    reader = csv.reader(StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            records.append((number, cells))
    except csv.Error as exc:
        raise ValidationFailed(
            "%(file)s, row %(row)s: the CSV is malformed (%(reason)s).",
            file=name,
            row=number + 1,
            reason=str(exc),
        ) from None
    return _table(name, records)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def parse_xlsx(data: bytes, name: str, *, sheet: str | None = None) -> Table:
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors alike
        raise ValidationFailed(
            "%(file)s is not a readable XLSX workbook (%(reason)s).",
            file=name,
            reason=type(exc).__name__,
        ) from None
    try:
        if sheet is not None:
            if sheet not in workbook.sheetnames:
                raise ValidationFailed(
                    "%(file)s has no sheet %(sheet)s (it has: %(sheets)s).",
                    field="sheet",
                    file=name,
                    sheet=sheet,
                    sheets=", ".join(workbook.sheetnames),
                )
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        records = [
            (number, [_cell_text(v) for v in values])
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return _table(name, records)


def _table(name: str, records: list[tuple[int, list[str]]]) -> Table:
    if not records or not any(_clean(c) for c in records[0][1]):
        raise ValidationFailed(
            "%(file)s has no header row (row 1 must name the columns).", file=name
        )
    header = [_clean(c) for c in records[0][1]]
    while header and not header[-1]:
        header.pop()
    rows = tuple(Row(number, tuple(_clean(c) for c in cells)) for number, cells in records[1:])
    return Table(name, tuple(header), rows)


# --------------------------------------------------------------------------------------------
# Columns of each kind of file


@dataclass(frozen=True)
class KindSpec:
    columns: tuple[str, ...]  # canonical names, in documented order
    required: tuple[tuple[str, ...], ...]  # each: at least one of these
    aliases: Mapping[str, str] = field(default_factory=dict)  # other spelling -> canonical
    known: frozenset[str] = frozenset()  # read quietly but not used


_REJECT_COLUMNS = frozenset({"row", "error"})

PERSONS = KindSpec(
    columns=(
        "name_ar",
        "name_latin",
        "aliases",
        "dob",
        "nationality",
        "identifiers",
        "birth_place",
        "kunya",
        "notes",
    ),
    required=(("name_ar", "name_latin"),),
    aliases={
        "arabic_name": "name_ar",
        "name_arabic": "name_ar",
        "latin_name": "name_latin",
        "name_en": "name_latin",
        "english_name": "name_latin",
        "alias": "aliases",
        "aka": "aliases",
        "date_of_birth": "dob",
        "birth_date": "dob",
        "birthdate": "dob",
        "identifier": "identifiers",
    },
    known=_REJECT_COLUMNS,
)

INCIDENTS = KindSpec(
    columns=(
        "ref",
        "title",
        "event_date",
        "event_time",
        "event_type",
        "sub_event_type",
        "governorate",
        "district",
        "location",
        "latitude",
        "longitude",
        "geo_precision",
        "fatalities",
        "injured",
        "narrative_ar",
        "narrative_en",
        "source",
        "reliability",
        "credibility",
    ),
    required=(("title",), ("event_date",)),
    aliases={
        "date": "event_date",
        "time": "event_time",
        "governorate_code": "governorate",
        "district_id": "district",
        "location_name": "location",
        "lat": "latitude",
        "lon": "longitude",
        "lng": "longitude",
        "long": "longitude",
    },
    known=_REJECT_COLUMNS,
)

ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)

ACLED = KindSpec(
    columns=ACLED_COLUMNS,
    required=tuple(
        (c,)
        for c in (
            "event_id_cnty",
            "event_date",
            "event_type",
            "sub_event_type",
            "actor1",
            "admin1",
            "location",
            "latitude",
            "longitude",
        )
    ),
    # columns of older ACLED exports
    known=_REJECT_COLUMNS | {"data_id", "iso3", "event_id_no_cnty", "geo_precis"},
)

SPECS: dict[str, KindSpec] = {"persons": PERSONS, "incidents": INCIDENTS, "acled": ACLED}


@dataclass(frozen=True)
class Columns:
    """Where each canonical column is in a table, and what the file calls it."""

    index: dict[str, int]
    labels: dict[str, str]
    width: int

    def label(self, canonical: str) -> str:
        return self.labels.get(canonical, canonical)

    def get(self, row: Row, canonical: str) -> str:
        at = self.index.get(canonical)
        if at is None or at >= len(row.cells):
            return ""
        return row.cells[at]

    def has(self, canonical: str) -> bool:
        return canonical in self.index


def resolve_columns(table: Table, spec: KindSpec) -> tuple[Columns, list[Problem]]:
    """Map the header to the spec: ValidationFailed for missing or doubled columns, warnings
    for unknown ones."""
    index: dict[str, int] = {}
    labels: dict[str, str] = {}
    warnings: list[Problem] = []
    for at, header in enumerate(table.header):
        key = column_key(header)
        canonical = spec.aliases.get(key, key)
        if not key:
            warnings.append(
                Problem(1, _letter(at), "this column has no name; its values are ignored")
            )
        elif canonical in spec.columns:
            if canonical in index:
                raise ValidationFailed(
                    "%(file)s, row 1: the column %(column)s appears twice (%(first)s and %(second)s).",
                    file=table.name,
                    column=canonical,
                    first=labels[canonical],
                    second=header,
                )
            index[canonical] = at
            labels[canonical] = header
        elif key not in spec.known:
            warnings.append(Problem(1, header, "unknown column; its values are ignored"))
    missing = [" or ".join(group) for group in spec.required if not any(c in index for c in group)]
    if missing:
        raise ValidationFailed(
            "%(file)s, row 1: missing column(s): %(columns)s.",
            file=table.name,
            columns="; ".join(missing),
        )
    return Columns(index, labels, len(table.header)), warnings


def _letter(at: int) -> str:
    """Spreadsheet column letter of a 0-based position (0 → A, 26 → AA)."""
    out = ""
    at += 1
    while at:
        at, rem = divmod(at - 1, 26)
        out = chr(65 + rem) + out
    return f"column {out}"


# --------------------------------------------------------------------------------------------
# Cells


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^\d{4}$")
_LIST_SPLIT = re.compile(r"[;؛]")


def parse_day(text: str, *, month: bool = False, year: bool = False) -> tuple[date, str]:
    """(date, precision) from ``YYYY-MM-DD`` (and ``YYYY-MM`` / ``YYYY`` when allowed)."""
    text = text.strip()
    m = _ISO_DATE.match(text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])), "day"
        except ValueError:
            raise _Bad(f"{text} is not a real date (no such day)") from None
    m = _ISO_MONTH.match(text)
    if m and month:
        if not 1 <= int(m[2]) <= 12:
            raise _Bad(f"{text} is not a real month")
        return date(int(m[1]), int(m[2]), 1), "month"
    if year and _YEAR.match(text):
        return date(int(text), 1, 1), "year"
    forms = "YYYY-MM-DD" + (", YYYY-MM" if month else "") + (" or YYYY" if year else "")
    raise _Bad(f"{text!r} is not a date; write it as {forms}")


def _acled_day(text: str) -> date:
    try:
        return parse_day(text)[0]
    except _Bad:
        if _ISO_DATE.match(text.strip()):
            raise
    for fmt in ("%d %B %Y", "%d %b %Y", "%d-%B-%Y", "%d-%b-%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise _Bad(f"{text!r} is not a date; write it as YYYY-MM-DD or as 16 May 2024")


def _number(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise _Bad(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise _Bad(f"{text!r} is not a number")
    return value


def _whole(text: str) -> int:
    value = _number(text)
    if not value.is_integer():
        raise _Bad(f"{text!r} is not a whole number")
    return int(value)


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in _LIST_SPLIT.split(text) if p.strip()]


_IDENTIFIER_ALIASES = {
    "mobile": "phone",
    "tel": "phone",
    "telephone": "phone",
    "phone_number": "phone",
    "e_mail": "email",
    "mail": "email",
    "nid": "national_id",
    "national_id_number": "national_id",
    "id_number": "national_id",
    "passport_no": "passport",
    "passport_number": "passport",
    "plate_number": "plate",
    "callsign": "call_sign",
}


def identifier_kind(text: str) -> str | None:
    key = column_key(text)
    key = _IDENTIFIER_ALIASES.get(key, key)
    return key if key in taxonomy.IDENTIFIER_KINDS else None


def parse_identifiers(text: str) -> list[tuple[str, str, str]]:
    """``kind:value;kind:value`` → [(kind, value, normalised)] (raises _Bad naming the bad part)."""
    out: list[tuple[str, str, str]] = []
    for part in _split_list(text):
        kind_text, sep, value = part.partition(":")
        if not sep or not value.strip():
            raise _Bad(
                f"{part!r} is not kind:value (for example phone:+967777123456;passport:A1234567)"
            )
        kind = identifier_kind(kind_text)
        if kind is None:
            raise _Bad(
                f"unknown kind of identifier {kind_text.strip()!r}; use one of "
                + ", ".join(taxonomy.IDENTIFIER_KINDS)
            )
        value = value.strip()
        if len(value) > 100:
            raise _Bad(f"the {kind} {value[:20]}… is longer than 100 characters")
        try:
            normalised = taxonomy.normalise_identifier(kind, value)
        except ValidationFailed as exc:
            raise _Bad(exc.message) from None
        out.append((kind, value, normalised))
    return out


class _Cells:
    """One row's cells, read with problems collected instead of raised."""

    def __init__(self, row: Row, cols: Columns) -> None:
        self.row = row
        self.cols = cols
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def text(self, name: str, limit: int | None = None) -> str:
        value = self.cols.get(self.row, name)
        if limit is not None and len(value) > limit:
            self.bad(name, f"longer than {limit} characters")
            return ""
        return value

    def bad(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.row.number, self.cols.label(name), message))

    def warn(self, name: str, message: str) -> None:
        self.warnings.append(Problem(self.row.number, self.cols.label(name), message))

    def read(self, name: str, parse: Callable[[str], T]) -> T | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return parse(raw)
        except _Bad as exc:
            self.bad(name, str(exc))
            return None


# --------------------------------------------------------------------------------------------
# Rows → service input


@dataclass(frozen=True)
class ActorRef:
    name: str
    role: str
    column: str  # canonical column (actor1 / actor2)
    group_kind: str


@dataclass
class Mapped:
    """One row mapped to the service's input, or the problems that stopped it."""

    data: EntityIn | IncidentIn | None
    problems: list[Problem]
    warnings: list[Problem]
    fields: dict[str, str]  # service field (or its prefix) -> canonical column
    key: str = ""  # the ref that makes a re-import idempotent
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (kind, normalised)
    actors: list[ActorRef] = field(default_factory=list)


def _marking_fields(marking: MarkingIn) -> dict[str, Any]:
    return {
        "marking": marking.marking,
        "releasable_to": list(marking.releasable_to),
        "recipients": list(marking.recipients),
    }


def person_from_row(row: Row, cols: Columns, marking: MarkingIn) -> Mapped:
    cells = _Cells(row, cols)
    name_list: list[NameIn] = []
    fields: dict[str, str] = {"names": "name_ar" if cols.has("name_ar") else "name_latin"}
    for column, name_type in (("name_ar", "as_written"), ("name_latin", "latin")):
        value = cells.text(column, 300)
        if value:
            fields[f"names.{len(name_list)}"] = column
            name_list.append(NameIn(name=value, name_type=name_type))
    for alias in _split_list(cells.text("aliases")):
        if len(alias) > 300:
            cells.bad("aliases", "an alias is longer than 300 characters")
            continue
        fields[f"names.{len(name_list)}"] = "aliases"
        name_list.append(NameIn(name=alias, name_type="alias"))
    if not name_list and not cells.problems:
        cells.bad(fields["names"], "a person needs a name (name_ar or name_latin)")
    dob = cells.read("dob", lambda t: parse_day(t, year=True))
    if dob is not None and dob[0].year < 1900:
        cells.bad("dob", f"{dob[0].year} is not a plausible year of birth")
        dob = None
    nationality = cells.text("nationality").upper()
    if nationality and (len(nationality) != 2 or not nationality.isascii()):
        cells.bad(
            "nationality",
            f"{cells.text('nationality')!r} is not an ISO 3166-1 alpha-2 country code (e.g. YE)",
        )
    identifiers = cells.read("identifiers", parse_identifiers) or []
    birth_place = cells.text("birth_place", 200)
    kunya = cells.text("kunya", 100)
    fields |= {
        "identifiers": "identifiers",
        "birth_date": "dob",
        "nationality": "nationality",
        "birth_place": "birth_place",
        "kunya": "kunya",
        "notes": "notes",
    }
    keys = [(k, n) for k, _, n in identifiers]
    if cells.problems:
        return Mapped(None, cells.problems, cells.warnings, fields, identifiers=keys)
    data = EntityIn(
        kind="person",
        names=name_list,
        identifiers=[IdentifierIn(kind=k, value=v) for k, v, _ in identifiers],
        birth_date=dob[0] if dob else None,
        birth_date_precision=dob[1] if dob else None,
        nationality=nationality,
        birth_place=birth_place,
        kunya=kunya,
        notes=cells.text("notes"),
        **_marking_fields(marking),
    )
    return Mapped(data, [], cells.warnings, fields, identifiers=keys)


def governorate_code(text: str) -> str:
    """The ISO code the service would give ``text`` ("" when it would refuse it)."""
    text = text.strip()
    if not text:
        return ""
    if text.upper().startswith("YE-"):
        return text.upper()
    found = gazetteer.search_places(text, limit=1, kinds={"governorate"})
    return found[0].governorate_code if found and found[0].score >= 90 else ""


def district_id(
    text: str, governorate_code: str, *, min_score: float = 88.0, strict: bool = False
) -> str:
    """A district's gazetteer id from its id or name, within the governorate when known
    (``strict``: only when the governorate is known)."""
    text = text.strip()
    if not text or (strict and not governorate_code):
        return ""
    if text.isdigit():
        return text
    for match in gazetteer.search_places(text, limit=10, kinds={"district"}):
        if match.score < min_score:
            break
        if not governorate_code or match.governorate_code == governorate_code:
            return match.id
    return ""


_INCIDENT_FIELDS = {
    "title": "title",
    "event_date": "event_date",
    "event_time": "event_time",
    "event_type": "event_type",
    "sub_event_type": "sub_event_type",
    "governorate_code": "governorate",
    "district_id": "district",
    "location_name": "location",
    "lat": "latitude",
    "lon": "longitude",
    "geo_precision": "geo_precision",
    "fatalities": "fatalities",
    "injured": "injured",
    "narrative_ar": "narrative_ar",
    "narrative_en": "narrative_en",
    "ref": "ref",
    "sources": "source",
    "sources.0.description": "source",
    "sources.0.reliability": "reliability",
    "sources.0.credibility": "credibility",
}


def _count(cells: _Cells, name: str) -> int:
    value = cells.read(name, _whole)
    if value is not None and value < 0:
        cells.bad(name, "cannot be negative")
        return 0
    return value or 0


def incident_from_row(row: Row, cols: Columns, marking: MarkingIn) -> Mapped:
    cells = _Cells(row, cols)
    title = cells.text("title", 300)
    if not title and not cells.problems:
        cells.bad("title", "the title is required")
    day = cells.read("event_date", lambda t: parse_day(t, month=True, year=True))
    if day is None and not cells.text("event_date"):
        cells.bad("event_date", "the date is required")
    event_type = cells.text("event_type")
    sub_event_type = cells.text("sub_event_type")
    if sub_event_type and not event_type:
        try:
            event_type = taxonomy.acled_event_type_of(sub_event_type)
        except ValidationFailed as exc:
            cells.bad("sub_event_type", exc.message)
    governorate = cells.text("governorate")
    district = ""
    if cells.text("district"):
        district = district_id(cells.text("district"), governorate_code(governorate))
        if not district:
            near = ", ".join(gazetteer.nearest_names(cells.text("district"), kinds={"district"}))
            hint = f"; did you mean: {near}?" if near else ""
            cells.bad("district", f"unknown district {cells.text('district')!r}{hint}")
    lat = cells.read("latitude", _number)
    lon = cells.read("longitude", _number)
    geo = cells.read("geo_precision", _whole)
    ref = cells.text("ref", 40)
    sources: list[SourceIn] = []
    description = cells.text("source", 500)
    if description:
        credibility = cells.read("credibility", _whole)
        sources.append(
            SourceIn(
                description=description,
                reliability=cells.text("reliability") or "F",
                credibility=6 if credibility is None else credibility,
            )
        )
    fatalities, injured = _count(cells, "fatalities"), _count(cells, "injured")
    location = cells.text("location", 200)
    if cells.problems or day is None:
        return Mapped(None, cells.problems, cells.warnings, _INCIDENT_FIELDS, key=ref)
    data = IncidentIn(
        title=title,
        event_date=day[0],
        date_precision=day[1],
        event_time=cells.text("event_time"),
        event_type=event_type,
        sub_event_type=sub_event_type,
        governorate_code=governorate,
        district_id=district,
        location_name=location,
        lat=lat,
        lon=lon,
        geo_precision=geo,
        fatalities=fatalities,
        injured=injured,
        narrative_ar=cells.text("narrative_ar"),
        narrative_en=cells.text("narrative_en"),
        ref=ref,
        sources=sources,
        **_marking_fields(marking),
    )
    return Mapped(data, [], cells.warnings, _INCIDENT_FIELDS, key=ref)


# --- ACLED ---------------------------------------------------------------------------------------

ACLED_DEFAULT_GRADE = ("C", 3)
ACLED_NEW_MEDIA_GRADE = ("D", 3)

_GENERIC_INTER = {"5", "6", "7", "rioters", "protesters", "civilians"}
_GENERIC_NAME = re.compile(r"^(civilians|protesters|rioters)\b|^unidentified\b", re.IGNORECASE)
_ARMED_INTER = {"2", "3", "4", "rebel group", "rebel groups", "political militia"}
_ARMED_INTER |= {"political militias", "identity militia", "identity militias"}


def acled_roles(event_type: str, sub_event_type: str) -> tuple[str | None, str | None]:
    """Involvement roles of ACLED's actor1 and actor2 for one kind of event (see the table)."""
    if event_type == taxonomy.ACLED_BATTLES:
        return "perpetrator", "perpetrator"
    if event_type == taxonomy.ACLED_EXPLOSIONS:
        return "perpetrator", "target"
    if event_type == taxonomy.ACLED_VIOLENCE_AGAINST_CIVILIANS:
        return "perpetrator", "victim"
    if event_type == taxonomy.ACLED_RIOTS:
        return "perpetrator", "target"
    if event_type == taxonomy.ACLED_PROTESTS:
        return (None, None) if sub_event_type == "Peaceful protest" else ("target", "perpetrator")
    if sub_event_type == "Arrests":
        return "perpetrator", "arrested"
    if sub_event_type == "Disrupted weapons use":
        return "target", "perpetrator"
    if sub_event_type == "Agreement":
        return "perpetrator", "perpetrator"
    return "perpetrator", "target"


def _inter(text: str) -> str:
    text = text.strip().casefold()
    return text[:-2] if text.endswith(".0") else text


def acled_actor_is_group(name: str, inter: str) -> bool:
    """False for collective labels (civilians, protesters, rioters) and unidentified actors."""
    return (
        bool(name.strip())
        and _inter(inter) not in _GENERIC_INTER
        and not _GENERIC_NAME.match(name.strip())
    )


def acled_grade(source_scale: str) -> tuple[str, int]:
    return ACLED_NEW_MEDIA_GRADE if "new media" in source_scale.casefold() else ACLED_DEFAULT_GRADE


_ACLED_FIELDS = {
    "title": "sub_event_type",
    "event_date": "event_date",
    "date_precision": "time_precision",
    "event_type": "event_type",
    "sub_event_type": "sub_event_type",
    "governorate_code": "admin1",
    "district_id": "admin2",
    "location_name": "location",
    "lat": "latitude",
    "lon": "longitude",
    "geo_precision": "geo_precision",
    "fatalities": "fatalities",
    "narrative_en": "notes",
    "ref": "event_id_cnty",
    "sources": "source",
    "sources.0.description": "source",
    "sources.0.reliability": "source_scale",
    "sources.0.credibility": "source_scale",
}

_TIME_PRECISION = {"1": "day", "2": "month", "3": "year"}


def acled_from_row(row: Row, cols: Columns, marking: MarkingIn) -> Mapped:
    cells = _Cells(row, cols)
    ref = cells.text("event_id_cnty", 40)
    if not ref and not cells.problems:
        cells.bad("event_id_cnty", "the ACLED event id is required")
    day = cells.read("event_date", _acled_day)
    if day is None and not cells.text("event_date"):
        cells.bad("event_date", "the date is required")
    precision = "day"
    if cells.text("time_precision"):
        precision = _TIME_PRECISION.get(_inter(cells.text("time_precision")), "")
        if not precision:
            cells.bad("time_precision", "must be 1, 2 or 3")
    event_type, sub_event_type = cells.text("event_type"), cells.text("sub_event_type")
    location = cells.text("location", 200)
    title = f"{sub_event_type or event_type} in {location}" if location else sub_event_type
    admin1 = cells.text("admin1")
    district = district_id(cells.text("admin2"), governorate_code(admin1), strict=True)
    lat = cells.read("latitude", _number)
    lon = cells.read("longitude", _number)
    geo = cells.read("geo_precision", _whole)
    fatalities = _count(cells, "fatalities")
    source_text = cells.text("source")
    scale = cells.text("source_scale")
    description = f"{source_text} — via ACLED" if source_text else "ACLED"
    if scale:
        description += f" ({scale})"
    if len(description) > 500:
        cells.warn("source", "the source text was cut to 500 characters")
        description = description[:499] + "…"
    reliability, credibility = acled_grade(scale)
    actors: list[ActorRef] = []
    role1, role2 = acled_roles(event_type, sub_event_type)
    for column, inter, role in (("actor1", "inter1", role1), ("actor2", "inter2", role2)):
        name = cells.text(column, 300)
        if role is None or not acled_actor_is_group(name, cells.text(inter)):
            continue
        kind = "armed_group" if _inter(cells.text(inter)) in _ARMED_INTER else "other"
        actors.append(ActorRef(name, role, column, kind))
    if cells.problems or day is None:
        return Mapped(None, cells.problems, cells.warnings, _ACLED_FIELDS, key=ref)
    data = IncidentIn(
        title=title,
        event_date=day,
        date_precision=precision,
        event_type=event_type,
        sub_event_type=sub_event_type,
        governorate_code=admin1,
        district_id=district,
        location_name=location,
        lat=lat,
        lon=lon,
        geo_precision=geo,
        fatalities=fatalities,
        narrative_en=cells.text("notes"),
        ref=ref,
        sources=[
            SourceIn(description=description, reliability=reliability, credibility=credibility)
        ],
        **_marking_fields(marking),
    )
    return Mapped(data, [], cells.warnings, _ACLED_FIELDS, key=ref, actors=actors)


MAPPERS: dict[str, Callable[[Row, Columns, MarkingIn], Mapped]] = {
    "persons": person_from_row,
    "incidents": incident_from_row,
    "acled": acled_from_row,
}


# --------------------------------------------------------------------------------------------
# Importing


@dataclass
class ImportReport:
    file: str
    kind: str
    dry_run: bool = False
    valid_only: bool = False
    rows: int = 0  # non-blank rows read
    valid: int = 0  # rows that passed (imported unless the run was rolled back)
    skipped: int = 0  # already present (same ref, same organisation)
    groups_created: int = 0
    outcome: str = ""  # "dry_run", "aborted" or "imported"
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rejected_rows: list[tuple[Row, list[Problem]]] = field(default_factory=list)
    rejects_file: str | None = None

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def imported(self) -> int:
        return self.valid if self.outcome == "imported" else 0

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "dry_run": self.dry_run,
            "valid_only": self.valid_only,
            "outcome": self.outcome,
            "rows": self.rows,
            "valid": self.valid,
            "imported": self.imported,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "warnings": len(self.warnings),
            "groups_created": self.groups_created if self.outcome == "imported" else 0,
            "groups_to_create": self.groups_created,
            "errors": [p.as_dict() for p in self.problems],
            "warning_details": [p.as_dict() for p in self.warnings],
            "rejects_file": self.rejects_file,
        }


def group_key(name: str) -> str:
    """Exact-name key for reusing a group: Unicode, case, spacing and Arabic letter forms."""
    text = unicodedata.normalize("NFKC", name)
    if names.is_arabic(text):
        text = names.normalise_arabic(text)
    return " ".join(text.casefold().split())


def _begin_for_savepoints(db: Session) -> None:
    """Open the outer transaction on SQLite before the first SAVEPOINT.

    The pysqlite driver begins a transaction only before a data-changing statement, so a
    SAVEPOINT issued first would itself start the transaction and its RELEASE would commit
    it: the row would survive the final rollback of a dry run.
    """
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")


def _existing_refs(db: Session, actor: Actor, org_id: int, refs: Iterable[str]) -> set[str]:
    """References already used by the organisation's incidents that the importer may see
    (a hidden incident's reference is not revealed by skipping the row)."""
    wanted = sorted({r for r in refs if r})
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found |= set(
            db.scalars(
                select(Incident.ref).where(
                    Incident.owner_org_id == org_id,
                    Incident.ref.in_(chunk),
                    access.visible_filter(actor, Incident),
                )
            )
        )
    return found


class _Importer:
    def __init__(
        self,
        db: Session,
        actor: Actor,
        table: Table,
        kind: str,
        cols: Columns,
        marking: MarkingIn,
        report: ImportReport,
    ) -> None:
        self.db, self.actor, self.table, self.kind = db, actor, table, kind
        self.cols, self.marking, self.report = cols, marking, report
        self.mapper = MAPPERS[kind]
        self.seen_keys: dict[str, int] = {}
        self.seen_identifiers: dict[tuple[str, str], int] = {}
        self.existing: set[str] = set()
        self.groups: dict[str, int] | None = None

    def prepare(self) -> None:
        if self.kind in ("incidents", "acled"):
            key_column = "ref" if self.kind == "incidents" else "event_id_cnty"
            refs = (self.cols.get(row, key_column) for row in self.table.rows)
            assert self.actor.org_id is not None
            self.existing = _existing_refs(self.db, self.actor, self.actor.org_id, refs)

    def _group_cache(self) -> dict[str, int]:
        if self.groups is None:
            rows = self.db.execute(
                select(EntityName.name, Entity.id)
                .join(Entity, Entity.id == EntityName.entity_id)
                .where(
                    Entity.kind == "group",
                    Entity.merged_into_id.is_(None),
                    access.visible_filter(self.actor, Entity),
                )
                .order_by(Entity.id)
            ).all()
            self.groups = {}
            for name, entity_id in rows:
                self.groups.setdefault(group_key(str(name)), int(entity_id))
        return self.groups

    def reject(self, row: Row, problems: list[Problem]) -> None:
        self.report.problems.extend(problems)
        self.report.rejected_rows.append((row, problems))

    def column_for(self, mapped: Mapped, field_name: str | None) -> str:
        """The file's column for a service field (``sources.0.reliability`` → source_scale)."""
        if not field_name:
            return ""
        if self.cols.has(field_name):
            return self.cols.label(field_name)
        name = field_name
        while name:
            if name in mapped.fields:
                return self.cols.label(mapped.fields[name])
            name = name.rpartition(".")[0]
        if field_name in ("marking", "releasable_to", "recipients"):
            return "--" + field_name.replace("_", "-")
        return field_name

    def row(self, row: Row) -> None:
        if row.blank:
            return
        self.report.rows += 1
        mapped = self.mapper(row, self.cols, self.marking)
        if mapped.key and mapped.key in self.existing:
            self.report.skipped += 1
            return
        problems = list(mapped.problems)
        extra = [c for c in row.cells[self.cols.width :] if c]
        if extra:
            problems.append(
                Problem(
                    row.number,
                    "",
                    f"this row has {self.cols.width + len(extra)} or more cells but the header "
                    f"names {self.cols.width} columns (a comma without quotes?)",
                )
            )
        if mapped.key:
            first = self.seen_keys.setdefault(mapped.key, row.number)
            if first != row.number:
                column = "event_id_cnty" if self.kind == "acled" else "ref"
                problems.append(
                    Problem(
                        row.number, self.cols.label(column), f"{mapped.key} repeats row {first}"
                    )
                )
        for kind, normalised in mapped.identifiers:
            first = self.seen_identifiers.setdefault((kind, normalised), row.number)
            if first != row.number:
                problems.append(
                    Problem(
                        row.number,
                        self.cols.label("identifiers"),
                        f"the {kind} {normalised} is also in row {first}",
                    )
                )
        if problems or mapped.data is None:
            self.reject(row, problems)
            return
        new_groups: dict[str, int] = {}
        try:
            with savepoint(self.db):
                warnings = self.write(mapped, new_groups)
        except RasidError as exc:
            column = self.column_for(mapped, exc.field)
            self.reject(row, [Problem(row.number, column, exc.message)])
            return
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            self.reject(row, [Problem(row.number, "", f"the database refused the row: {reason}")])
            return
        if new_groups:
            self._group_cache().update(new_groups)
            self.report.groups_created += len(new_groups)
        self.report.valid += 1
        self.report.warnings.extend(mapped.warnings)
        for message in warnings:
            column = self.cols.label("latitude") if "coordinates" in message else ""
            self.report.warnings.append(Problem(row.number, column, message))

    def write(self, mapped: Mapped, new_groups: dict[str, int]) -> list[str]:
        if isinstance(mapped.data, EntityIn):
            _, warnings = service.create_entity(self.db, self.actor, mapped.data)
            return warnings
        assert isinstance(mapped.data, IncidentIn)
        data = mapped.data
        involvements: list[InvolvementIn] = []
        for actor in mapped.actors:
            involvements.append(
                InvolvementIn(entity_id=self.group_id(actor, new_groups), role=actor.role)
            )
        if involvements:
            data = data.model_copy(update={"involvements": involvements})
        _, warnings = service.create_incident(self.db, self.actor, data)
        return warnings

    def group_id(self, actor: ActorRef, new_groups: dict[str, int]) -> int:
        key = group_key(actor.name)
        found = new_groups.get(key) or self._group_cache().get(key)
        if found is not None:
            return found
        try:
            entity, _ = service.create_entity(
                self.db,
                self.actor,
                EntityIn(
                    kind="group",
                    names=[NameIn(name=actor.name, name_type="as_written")],
                    group_kind=actor.group_kind,
                    notes="Created by an ACLED import (the actor's name as ACLED codes it).",
                    **_marking_fields(self.marking),
                ),
            )
        except RasidError as exc:
            exc.field = actor.column
            raise
        new_groups[key] = entity.id
        return entity.id


def import_table(
    db: Session,
    actor: Actor,
    table: Table,
    kind: str,
    *,
    marking: MarkingIn | None = None,
    dry_run: bool = False,
    valid_only: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate and write every row through the registry service (see the module docstring).

    A dry run, or a run with any bad row without ``valid_only``, is rolled back here; otherwise
    the good rows are left in the session's transaction for the caller to commit
    (``outcome == "imported"``). Problems with the whole file (columns, marking, rights) raise.
    """
    if kind not in IMPORT_KINDS:
        raise ValidationFailed(
            "Unknown kind %(value)s; use persons, incidents or acled.", field="kind", value=kind
        )
    marking = marking or MarkingIn()
    service.require_write(actor)
    if actor.org_id is None:
        raise ValidationFailed(
            "Imported records must belong to an organisation: use --as USERNAME.", field="as"
        )
    service.resolve_marking(db, actor, marking)
    cols, column_warnings = resolve_columns(table, SPECS[kind])
    report = ImportReport(table.name, kind, dry_run=dry_run, valid_only=valid_only)
    report.warnings.extend(column_warnings)
    _begin_for_savepoints(db)
    importer = _Importer(db, actor, table, kind, cols, marking, report)
    importer.prepare()
    for row in table.rows:
        importer.row(row)
        if progress is not None:
            progress()
    if dry_run:
        db.rollback()
        report.outcome = "dry_run"
    elif report.problems and not valid_only:
        db.rollback()
        report.outcome = "aborted"
    else:
        report.outcome = "imported"
    return report


def rejects_csv(table: Table, report: ImportReport) -> bytes:
    """The rejected rows with their original cells plus ``row`` and ``error`` columns."""
    header = list(table.header)
    row_col = "row" if "row" not in {column_key(h) for h in header} else "import_row"
    error_col = "error" if "error" not in {column_key(h) for h in header} else "import_error"
    records: list[list[object]] = []
    for row, problems in report.rejected_rows:
        cells = list(row.cells) + [""] * max(0, len(header) - len(row.cells))
        message = "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in problems)
        records.append([*cells, row.number, message])
    width = max([len(header), *(len(r) - 2 for r in records)])
    header += [""] * (width - len(header))
    return _csv_bytes([*header, row_col, error_col], records)


# --------------------------------------------------------------------------------------------
# Writing CSV, XLSX, GeoJSON and KML

_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().]*\d[\d\s().]*$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_cell(value: str) -> bool:
    """True when a spreadsheet would run the text as a formula."""
    if not value:
        return False
    if value[0] in "=@\t\r":
        return True
    return value[0] in "+-" and not _NUMBER_LIKE.match(value)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return "'" + text if _text_cell(text) else text


def _csv_bytes(header: Sequence[str], records: Iterable[Sequence[object]]) -> bytes:
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for record in records:
        writer.writerow([_csv_value(v) for v in record])
    return out.getvalue().encode("utf-8-sig")


def _xlsx_bytes(header: Sequence[str], records: Iterable[Sequence[object]], title: str) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "export")

    def cell(value: object) -> object:
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            if text.startswith("=") or _text_cell(text):
                forced = WriteOnlyCell(sheet, value=text)
                forced.data_type = "s"
                return forced
            return text
        return value

    sheet.append([cell(h) for h in header])
    for record in records:
        sheet.append([cell(v) for v in record])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_bytes(
    header: Sequence[str], records: Sequence[Sequence[object]], fmt: str, *, title: str = "export"
) -> bytes:
    """A plain table as CSV (UTF-8 with BOM) or XLSX."""
    if fmt == "csv":
        return _csv_bytes(header, records)
    if fmt == "xlsx":
        return _xlsx_bytes(header, records, title)
    raise ValidationFailed(
        "Unknown table format %(value)s; use csv or xlsx.", field="format", value=fmt
    )


def _xml_text(value: object) -> str:
    return _XML_ILLEGAL.sub("", "" if value is None else str(value))


def _has_point(record: Mapping[str, object]) -> bool:
    return isinstance(record.get("latitude"), float) and isinstance(record.get("longitude"), float)


def _geojson(records: Sequence[dict[str, object]], rename: Mapping[str, str]) -> bytes:
    features = []
    for record in records:
        if not _has_point(record):
            continue
        props = {
            rename.get(k, k): v for k, v in record.items() if k not in ("latitude", "longitude")
        }
        features.append(
            {
                "type": "Feature",
                "id": record["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [record["longitude"], record["latitude"]],
                },
                "properties": props,
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


KML_NS = "http://www.opengis.net/kml/2.2"


def _kml(
    records: Sequence[dict[str, object]],
    *,
    document: str,
    name_key: str,
    when_key: str | None,
    describe: Callable[[Mapping[str, object]], str],
) -> bytes:
    ET.register_namespace("", KML_NS)

    def sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
        if text is not None:
            element.text = _xml_text(text)
        return element

    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = sub(root, "Document")
    sub(doc, "name", document)
    for record in records:
        if not _has_point(record):
            continue
        placemark = sub(doc, "Placemark", None)
        placemark.set("id", f"rasid-{record['id']}")
        sub(placemark, "name", record.get(name_key) or record["id"])
        sub(placemark, "description", describe(record))
        if when_key and record.get(when_key):
            sub(sub(placemark, "TimeStamp"), "when", record[when_key])
        extended = sub(placemark, "ExtendedData")
        for key, value in record.items():
            if key in ("latitude", "longitude") or value in (None, ""):
                continue
            data = sub(extended, "Data")
            data.set("name", key)
            sub(data, "value", value)
        point = sub(placemark, "Point")
        sub(point, "coordinates", f"{record['longitude']},{record['latitude']}")
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def without_coordinates(rows: Iterable[Entity | Incident]) -> int:
    """How many records GeoJSON and KML leave out (no latitude and longitude)."""
    return sum(1 for r in rows if r.lat is None or r.lon is None)


def _check_format(fmt: str) -> str:
    fmt = fmt.strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(
            "Unknown export format %(value)s; use csv, xlsx, geojson or kml.",
            field="format",
            value=fmt,
        )
    return fmt


# --- incidents -----------------------------------------------------------------------------------

INCIDENT_EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "ref",
    "title",
    "event_date",
    "date_precision",
    "event_time",
    "event_type",
    "sub_event_type",
    "governorate",
    "district",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "fatalities",
    "injured",
    "narrative_ar",
    "narrative_en",
    "sources",
    "involved",
    "marking",
    "owner_org",
    "updated_at",
)


def incident_record(
    incident: Incident, owner: str = "", involved: Sequence[tuple[str, str]] = ()
) -> dict[str, object]:
    return {
        "id": incident.id,
        "ref": incident.ref,
        "title": incident.title,
        "event_date": incident.event_date.isoformat(),
        "date_precision": incident.date_precision,
        "event_time": incident.event_time,
        "event_type": incident.event_type,
        "sub_event_type": incident.sub_event_type,
        "governorate": incident.governorate_code,
        "district": incident.district_id,
        "location": incident.location_name,
        "latitude": incident.lat,
        "longitude": incident.lon,
        "geo_precision": incident.geo_precision,
        "fatalities": incident.fatalities,
        "injured": incident.injured,
        "narrative_ar": incident.narrative_ar,
        "narrative_en": incident.narrative_en,
        "sources": "; ".join(
            f"{s.description} [{s.reliability}{s.credibility}]" for s in incident.sources
        ),
        "involved": "; ".join(f"{label} ({role})" for label, role in involved),
        "marking": incident.marking,
        "owner_org": owner,
        "updated_at": incident.updated_at.isoformat(timespec="seconds"),
    }


def export_incidents(
    rows: Sequence[Incident],
    fmt: str,
    *,
    owners: Mapping[int, str] | None = None,
    involved: Mapping[int, Sequence[tuple[str, str]]] | None = None,
) -> bytes:
    """Incidents as CSV, XLSX, GeoJSON or KML (GeoJSON/KML only those with coordinates)."""
    fmt = _check_format(fmt)
    owners, involved = owners or {}, involved or {}
    records = [
        incident_record(r, owners.get(r.owner_org_id, ""), involved.get(r.id, ())) for r in rows
    ]
    if fmt in ("csv", "xlsx"):
        matrix = [[rec[c] for c in INCIDENT_EXPORT_COLUMNS] for rec in records]
        return table_bytes(INCIDENT_EXPORT_COLUMNS, matrix, fmt, title="incidents")
    if fmt == "geojson":
        return _geojson(records, {"event_date": "date", "event_type": "type"})
    return _kml(
        records,
        document="Rasid incidents",
        name_key="title",
        when_key="event_date",
        describe=lambda r: " · ".join(
            str(v)
            for v in (
                r["ref"],
                r["event_date"],
                r["sub_event_type"] or r["event_type"],
                r["marking"],
            )
            if v
        ),
    )


def involved_labels(
    db: Session, actor: Actor, incidents: Sequence[Incident]
) -> dict[int, list[tuple[str, str]]]:
    """(label, role) of the involved records each incident's reader may see."""
    out: dict[int, list[tuple[str, str]]] = {}
    ids = [i.id for i in incidents]
    for start in range(0, len(ids), 500):
        rows = db.execute(
            select(Involvement.incident_id, Entity.label, Involvement.role)
            .join(Entity, Entity.id == Involvement.entity_id)
            .where(
                Involvement.incident_id.in_(ids[start : start + 500]),
                access.visible_filter(actor, Entity),
            )
            .order_by(Involvement.id)
        ).all()
        for incident_id, label, role in rows:
            out.setdefault(int(incident_id), []).append((str(label), str(role)))
    return out


# --- entities ------------------------------------------------------------------------------------

_ENTITY_COMMON = ("id", "kind", "label", "name_ar", "name_latin", "aliases", "identifiers")
_ENTITY_KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("dob", "nationality", "birth_place", "kunya"),
    "group": ("group_kind",),
    "vehicle": ("make", "model", "colour"),
    "vessel": ("flag", "vessel_type"),
    "place": ("gazetteer_kind", "gazetteer_id"),
}
_ENTITY_TAIL = (
    "governorate",
    "latitude",
    "longitude",
    "notes",
    "marking",
    "owner_org",
    "updated_at",
)


def entity_columns(kinds: Iterable[str]) -> tuple[str, ...]:
    wanted = set(kinds)
    middle = tuple(c for k, cols in _ENTITY_KIND_COLUMNS.items() if k in wanted for c in cols)
    return _ENTITY_COMMON + middle + _ENTITY_TAIL


def entity_record(entity: Entity, owner: str = "") -> dict[str, object]:
    main = {entity.label_ar, entity.label_latin}
    aliases = [n.name for n in entity.names if n.name not in main]
    dob = ""
    if entity.birth_date is not None:
        dob = (
            str(entity.birth_date.year)
            if entity.birth_date_precision == "year"
            else entity.birth_date.isoformat()
        )
    return {
        "id": entity.id,
        "kind": entity.kind,
        "label": entity.label,
        "name_ar": entity.label_ar,
        "name_latin": entity.label_latin,
        "aliases": "; ".join(aliases),
        "identifiers": ";".join(f"{i.kind}:{i.value}" for i in entity.identifiers),
        "dob": dob,
        "nationality": entity.nationality,
        "birth_place": entity.birth_place,
        "kunya": entity.kunya,
        "group_kind": entity.group_kind,
        "make": entity.make,
        "model": entity.model,
        "colour": entity.colour,
        "flag": entity.flag,
        "vessel_type": entity.vessel_type,
        "gazetteer_kind": entity.gazetteer_kind,
        "gazetteer_id": entity.gazetteer_id,
        "governorate": entity.governorate_code,
        "latitude": entity.lat,
        "longitude": entity.lon,
        "notes": entity.notes,
        "marking": entity.marking,
        "owner_org": owner,
        "updated_at": entity.updated_at.isoformat(timespec="seconds"),
    }


def export_entities(
    rows: Sequence[Entity],
    fmt: str,
    *,
    owners: Mapping[int, str] | None = None,
    kind: str | None = None,
) -> bytes:
    """Entities as CSV, XLSX, GeoJSON or KML; the columns fit the kinds exported."""
    fmt = _check_format(fmt)
    owners = owners or {}
    columns = entity_columns({r.kind for r in rows} | ({kind} if kind else set()))
    records = [
        {c: v for c, v in entity_record(r, owners.get(r.owner_org_id, "")).items() if c in columns}
        for r in rows
    ]
    if fmt in ("csv", "xlsx"):
        matrix = [[rec[c] for c in columns] for rec in records]
        return table_bytes(columns, matrix, fmt, title=f"{kind or 'record'}s")
    if fmt == "geojson":
        return _geojson(records, {"kind": "type"})
    return _kml(
        records,
        document=f"Rasid {kind or 'record'}s",
        name_key="label",
        when_key=None,
        describe=lambda r: " · ".join(str(v) for v in (r["kind"], r["marking"]) if v),
    )


def exportable(rows: Iterable[Entity | Incident]) -> tuple[list[Any], int]:
    """The rows that may leave the server in a file, and how many TLP:RED ones were withheld."""
    kept: list[Any] = []
    withheld = 0
    for row in rows:
        if row.marking == RED:
            withheld += 1
        else:
            kept.append(row)
    return kept, withheld


ENTITY_KINDS_PLURAL = {
    "persons": "person",
    "groups": "group",
    "vehicles": "vehicle",
    "vessels": "vessel",
    "places": "place",
}
EXPORT_KINDS = ("incidents", *ENTITY_KINDS_PLURAL)
_EXPORT_PAGE = 500
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
}


def export_list(
    db: Session,
    actor: Actor,
    kind: str,
    fmt: str,
    *,
    governorate_code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    marking: str | None = None,
) -> tuple[bytes, dict[str, object]]:
    """A filtered list as a file, through the same access rule as every read; audited.

    TLP:RED records never leave the server: they are left out and counted.
    """
    chosen = _check_format(fmt)
    if kind not in EXPORT_KINDS:
        raise ValidationFailed(
            "Unknown list %(value)s; use one of %(kinds)s.",
            field="kind",
            value=kind,
            kinds=", ".join(EXPORT_KINDS),
        )
    if marking == RED:
        raise ValidationFailed(
            "TLP:RED records never leave the server; they cannot be exported.", field="marking"
        )
    if kind != "incidents" and (date_from or date_to):
        raise ValidationFailed("Dates filter incidents only.", field="date_from")
    filters = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in {
            "governorate": governorate_code,
            "from": date_from,
            "to": date_to,
            "marking": marking,
        }.items()
        if v
    }
    rows: list[Any] = []
    if kind == "incidents":
        flt = service.IncidentFilter(
            governorate_code=governorate_code, date_from=date_from, date_to=date_to, marking=marking
        )
        while True:
            page, total = service.list_incidents(
                db, actor, flt, limit=_EXPORT_PAGE, offset=len(rows)
            )
            rows.extend(page)
            if not page or len(rows) >= total:
                break
    else:
        eflt = service.EntityFilter(
            kind=ENTITY_KINDS_PLURAL[kind], governorate_code=governorate_code, marking=marking
        )
        while True:
            epage, total = service.list_entities(
                db, actor, eflt, limit=_EXPORT_PAGE, offset=len(rows)
            )
            rows.extend(epage)
            if not epage or len(rows) >= total:
                break
    kept, withheld = exportable(rows)
    owners = service.owner_slugs(db, {r.owner_org_id for r in kept})
    if kind == "incidents":
        data = export_incidents(
            kept, chosen, owners=owners, involved=involved_labels(db, actor, kept)
        )
    else:
        data = export_entities(kept, chosen, owners=owners, kind=ENTITY_KINDS_PLURAL[kind])
    unplaced = without_coordinates(kept)
    audit.record(
        db,
        actor,
        "export",
        object_type="registry_incident" if kind == "incidents" else "registry_entity",
        detail={
            "format": chosen,
            "kind": kind,
            "count": len(kept),
            "filters": filters,
            "red_withheld": withheld,
        },
    )
    summary: dict[str, object] = {
        "kind": kind,
        "format": chosen,
        "count": len(kept),
        "without_coordinates": unplaced,
        "left_out": unplaced if chosen in ("geojson", "kml") else 0,
        "red_withheld": withheld,
        "filters": filters,
    }
    return data, summary


# --------------------------------------------------------------------------------------------
# Screening a list against the registry

SCREEN_NAME_COLUMNS: dict[str, str] = {
    "name": "name",
    "full_name": "name",
    "fullname": "name",
    "الاسم": "name",
    "name_ar": "name_ar",
    "arabic_name": "name_ar",
    "name_arabic": "name_ar",
    "name_latin": "name_latin",
    "latin_name": "name_latin",
    "name_en": "name_latin",
    "english_name": "name_latin",
    "aliases": "aliases",
    "alias": "aliases",
    "aka": "aliases",
    "also_known_as": "aliases",
}
# Names split over several columns are searched as one name, in this order.
SCREEN_NAME_PARTS: dict[str, int] = {
    "first_name": 0,
    "given_name": 0,
    "father_name": 1,
    "middle_name": 1,
    "grandfather_name": 2,
    "family_name": 3,
    "last_name": 3,
    "surname": 3,
}
SCREEN_DOB_COLUMNS = ("dob", "date_of_birth", "birth_date", "birthdate")
SCREEN_NATIONALITY_COLUMNS = ("nationality", "citizenship")


@dataclass(frozen=True)
class Candidate:
    id: int
    label: str
    score: float
    reason: str
    marking: str


@dataclass(frozen=True)
class ScreenResult:
    row: Row
    candidates: list[Candidate]
    note: str = ""


@dataclass(frozen=True)
class _ScreenColumns:
    names: list[tuple[int, str]]  # (position, role: name / name_ar / name_latin / aliases)
    parts: list[int]  # positions of name parts (first, father, grandfather, family), in order
    identifier_lists: list[int]
    identifier_columns: list[tuple[int, str]]  # (position, kind)
    dob: int | None
    nationality: int | None


def _screen_columns(table: Table) -> _ScreenColumns:
    names_at: list[tuple[int, str]] = []
    parts: list[tuple[int, int]] = []
    lists: list[int] = []
    by_kind: list[tuple[int, str]] = []
    dob: int | None = None
    nationality: int | None = None
    for at, header in enumerate(table.header):
        key = column_key(header)
        if key in SCREEN_NAME_COLUMNS:
            names_at.append((at, SCREEN_NAME_COLUMNS[key]))
        elif key in SCREEN_NAME_PARTS:
            parts.append((SCREEN_NAME_PARTS[key], at))
        elif key in ("identifiers", "identifier"):
            lists.append(at)
        elif identifier_kind(key) is not None:
            by_kind.append((at, identifier_kind(key) or key))
        elif key in SCREEN_DOB_COLUMNS and dob is None:
            dob = at
        elif key in SCREEN_NATIONALITY_COLUMNS and nationality is None:
            nationality = at
    if not names_at and not parts and not lists and not by_kind:
        raise ValidationFailed(
            "%(file)s, row 1: no name or identifier column (use name, name_ar, name_latin, "
            "aliases, first_name/last_name, identifiers, passport, phone …).",
            file=table.name,
        )
    ordered = [at for _, at in sorted(parts)]
    return _ScreenColumns(names_at, ordered, lists, by_kind, dob, nationality)


def _cell(row: Row, at: int | None) -> str:
    return row.cells[at] if at is not None and at < len(row.cells) else ""


def _dob_evidence(wanted: tuple[date, str] | None, entity: Entity) -> tuple[float, str]:
    if wanted is None or entity.birth_date is None:
        return 0.0, ""
    day, precision = wanted
    if day.year != entity.birth_date.year:
        return -0.15, f"year of birth differs ({day.year} / {entity.birth_date.year})"
    if precision == "year" or entity.birth_date_precision == "year":
        return 0.05, f"year of birth matches ({day.year})"
    if day == entity.birth_date:
        return 0.05, f"date of birth matches ({day.isoformat()})"
    return -0.05, f"same year of birth, another day ({entity.birth_date.isoformat()})"


def screen_row(
    db: Session, actor: Actor, row: Row, cols: _ScreenColumns, *, top: int = 3
) -> ScreenResult:
    queries: list[str] = []
    for at, role in cols.names:
        value = _cell(row, at)
        queries.extend(_split_list(value) if role == "aliases" else [value])
    queries.append(" ".join(_cell(row, at) for at in cols.parts))
    for at in cols.identifier_lists:
        for part in _split_list(_cell(row, at)):
            _, sep, value = part.partition(":")
            queries.append(value if sep else part)
    for at, _kind in cols.identifier_columns:
        queries.extend(_split_list(_cell(row, at)))
    queries = [q for q in dict.fromkeys(q.strip() for q in queries) if q]
    if not queries:
        return ScreenResult(row, [], "no name or identifier in this row")
    flt = search_service.SearchFilter(type="person")
    hits: dict[int, list[search_service.Hit]] = {}
    for query in queries:
        for hit in search_service.search(db, actor, query, flt, limit=10):
            hits.setdefault(hit.id, []).append(hit)
    if not hits:
        return ScreenResult(row, [])
    wanted_dob: tuple[date, str] | None = None
    try:
        if _cell(row, cols.dob):
            wanted_dob = parse_day(_cell(row, cols.dob), year=True)
    except _Bad:
        wanted_dob = None
    wanted_nat = _cell(row, cols.nationality).upper()
    entities = {e.id: e for e in db.scalars(select(Entity).where(Entity.id.in_(list(hits))))}
    candidates: list[Candidate] = []
    for entity_id, found in hits.items():
        hit = max(found, key=lambda h: h.score)
        entity = entities.get(entity_id)
        score = hit.score
        reasons = [hit.reason]
        exact = (h.reason for h in found if h.reason.startswith("exact") and h.reason != hit.reason)
        reasons += [f"also {r}" for r in dict.fromkeys(exact)]
        if entity is not None:
            delta, why = _dob_evidence(wanted_dob, entity)
            if why:
                score += delta
                reasons.append(why)
            if len(wanted_nat) == 2 and entity.nationality and entity.nationality != wanted_nat:
                score -= 0.05
                reasons.append(f"nationality differs ({wanted_nat} / {entity.nationality})")
        candidates.append(
            Candidate(
                entity_id,
                hit.label,
                round(min(1.0, max(0.0, score)), 4),
                "; ".join(reasons),
                hit.marking,
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.id))
    return ScreenResult(row, candidates[:top])


def screen_table(
    db: Session, actor: Actor, table: Table, *, top: int = 3, progress: Progress | None = None
) -> list[ScreenResult]:
    """The best ``top`` registry candidates (persons the actor may see) for every row."""
    if top < 1:
        raise ValidationFailed("--top must be at least 1.", field="top")
    cols = _screen_columns(table)
    results: list[ScreenResult] = []
    for row in table.rows:
        if not row.blank:
            results.append(screen_row(db, actor, row, cols, top=top))
        if progress is not None:
            progress()
    return results


def screen_output(
    table: Table, results: Sequence[ScreenResult], fmt: str, *, top: int = 3
) -> bytes:
    """The incoming rows, each followed by its candidates: id, name, score, reason, marking."""
    header = list(table.header)
    header += ["row", "candidates", "note"]
    for k in range(1, top + 1):
        header += [
            f"match_{k}_id",
            f"match_{k}_name",
            f"match_{k}_score",
            f"match_{k}_reason",
            f"match_{k}_marking",
        ]
    records: list[list[object]] = []
    for result in results:
        cells: list[object] = list(result.row.cells[: len(table.header)])
        cells += [""] * (len(table.header) - len(cells))
        cells += [result.row.number, len(result.candidates), result.note]
        for k in range(top):
            if k < len(result.candidates):
                c = result.candidates[k]
                cells += [c.id, c.label, c.score, c.reason, c.marking]
            else:
                cells += ["", "", "", "", ""]
        records.append(cells)
    return table_bytes(header, records, fmt, title="screening")
