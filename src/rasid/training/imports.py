"""Personnel import from CSV or XLSX (the registry's readers: encodings, sheets, line numbers).

Columns (header names in any case; Arabic alternatives accepted): ``name_ar`` (الاسم),
``national_id`` (الرقم الوطني), ``unit`` (the unit's code, الوحدة), and optionally
``name_latin``, ``rank`` (الرتبة), ``governorate``, ``phone``, ``email``. Every row is checked
first (required cells, a unit the importer may see, a national ID that is new to the
organisation and not repeated in the file): with any problem nothing is written and every
problem is listed by row and column — unless ``valid_only``, which imports the good rows and
returns the rejected ones for a rejects file. ``dry_run`` checks without writing.

Vetting results (:func:`import_vetting`) work the same way. Columns: ``ref`` (the case
reference, المرجع), the subject in one of two columns — ``national_id`` (a person's national
ID, الرقم الوطني) or ``unit`` (a unit's code, الوحدة), exactly one filled on each row —
``status`` (pending, approved, denied, suspended or cancelled; الحالة), ``requested_on``
(تاريخ الطلب) and ``decided_on`` (تاريخ القرار; needed unless pending), optionally
``valid_months`` (1-60, default 12; مدة الصلاحية) and ``notes`` (ملاحظات). Dates are ISO
``YYYY-MM-DD``. A reference already on file is a new decision on that case (it must be about
the same subject); a reference may repeat in the file for successive decisions. Every row
goes through :func:`rasid.training.service.record_vetting`, so a changed decision flags the
enrolments it concerns.

Enrolments (:func:`import_enrolments`) put the people of a file into one session. Column:
``national_id`` (الرقم الوطني); each row's person is found among those the importer may see.
Every row passes the checks of :func:`rasid.training.service.enrol` before anything is
written — the vetting gate (the person and every unit above them), places left (the file's
own rows count), a session at the same time, already enrolled, repeated in the file — and each
problem is listed by row and column with the refusal's reason. All or nothing unless
``valid_only``; the writes go through :func:`~rasid.training.service.enrol`, so the audit
trail is the one-by-one enrolment's. The rows the gate (or the session's capacity, an overlap,
an enrolment already on file) refuses are returned as :attr:`EnrolmentReport.refusals`; the
caller audits them with :func:`record_refusals` in a transaction of their own, so they stay on
record when nothing is enrolled.

The helpers (:class:`RowReport`, :func:`find_columns`, :func:`row_values`,
:func:`rejects_csv`, :func:`iso_day`) are shared with the equipment import of logistics.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import Conflict, Forbidden, ValidationFailed
from rasid.registry.io import Problem, Row, Table, column_key
from rasid.training import service
from rasid.training.models import (
    VETTING_STATUSES,
    Enrolment,
    TrainingPerson,
    TrainingSession,
    TrainingUnit,
    VettingCase,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "name_ar": ("name_ar", "الاسم", "الاسم_بالعربية", "arabic_name"),
    "national_id": ("national_id", "الرقم_الوطني", "nid", "id_number"),
    "unit": ("unit", "unit_code", "الوحدة"),
    "name_latin": ("name_latin", "latin_name", "name_en", "الاسم_باللاتينية"),
    "rank": ("rank", "الرتبة"),
    "governorate": ("governorate", "governorate_code", "المحافظة"),
    "phone": ("phone", "الهاتف"),
    "email": ("email", "البريد"),
}
REQUIRED = ("name_ar", "national_id", "unit")


@dataclass
class RowReport:
    """What an import found and did: rows read, valid, written; the problems by row and
    column; the rejected rows as they were (for the rejects file)."""

    rows: int = 0
    valid: int = 0
    created: int = 0
    problems: list[Problem] = field(default_factory=list)
    rejected_rows: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "created": self.created,
            "rejected": len(self.rejected_rows),
            "dry_run": self.dry_run,
            "problems": [p.as_dict() for p in self.problems],
        }

    def reject(self, row: Row, problems: list[Problem]) -> None:
        self.problems += problems
        self.rejected_rows.append((row.number, row.cells))


class PersonnelReport(RowReport):
    pass


def find_columns(
    table: Table, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[str, int]:
    """Where each known column is (its header or one of its alternatives, compared with
    :func:`column_key`); refused naming the required columns the header lacks."""
    found: dict[str, int] = {}
    keys = [column_key(h) for h in table.header]
    for name, aliases in columns.items():
        for i, key in enumerate(keys):
            if key in aliases:
                found[name] = i
                break
    missing = [n for n in required if n not in found]
    if missing:
        raise ValidationFailed(
            "%(file)s has no column %(columns)s (the header has: %(header)s).",
            field="header",
            file=table.name,
            columns=", ".join(missing),
            header=", ".join(table.header),
        )
    return found


def _columns(table: Table) -> dict[str, int]:
    return find_columns(table, COLUMNS, REQUIRED)


def row_values(row: Row, cols: Mapping[str, int], names: Iterable[str]) -> dict[str, str]:
    """The cells of one row by column name ("" for an absent column or a short row)."""
    out: dict[str, str] = {}
    for name in names:
        i = cols.get(name)
        out[name] = row.cells[i].strip() if i is not None and i < len(row.cells) else ""
    return out


_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def iso_day(text: str) -> date:
    """A ``YYYY-MM-DD`` date; ValueError with the reason (for a :class:`Problem`) if not."""
    m = _ISO_DAY.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a date; write it as YYYY-MM-DD")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"{text} is not a real date (no such day)") from None


def rejects_csv(table: Table, report: RowReport) -> str:
    """The rejected rows as they were, each with its problems, for correction."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "problems", *table.header])
    by_row: dict[int, list[str]] = {}
    for p in report.problems:
        by_row.setdefault(p.row, []).append(f"{p.column}: {p.message}" if p.column else p.message)
    for number, cells in report.rejected_rows:
        writer.writerow([number, "; ".join(by_row.get(number, [])), *cells])
    return out.getvalue()


def import_personnel(
    db: Session, actor: Actor, table: Table, *, dry_run: bool = False, valid_only: bool = False
) -> PersonnelReport:
    service._require(actor, "write")
    owner = service._owner(actor)
    cols = _columns(table)
    units = {u.code: u for u in db.scalars(access.visible(actor, TrainingUnit))}
    taken = set(
        db.scalars(select(TrainingPerson.national_id).where(TrainingPerson.owner_org_id == owner))
    )
    report = PersonnelReport(dry_run=dry_run)
    good: list[tuple[int, dict[str, str], TrainingUnit]] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        if row.blank:
            continue
        report.rows += 1

        def cell(name: str, row_cells: tuple[str, ...] = row.cells) -> str:
            i = cols.get(name)
            return row_cells[i].strip() if i is not None and i < len(row_cells) else ""

        values = {name: cell(name) for name in COLUMNS}
        problems: list[Problem] = []
        for name in REQUIRED:
            if not values[name]:
                problems.append(Problem(row.number, table.header[cols[name]], "required"))
        unit = units.get(values["unit"].lower()) if values["unit"] else None
        if values["unit"] and unit is None:
            problems.append(Problem(row.number, table.header[cols["unit"]],
                                    f"no unit with the code {values['unit']!r}"))  # fmt: skip
        nid = values["national_id"]
        if nid and nid in taken:
            problems.append(Problem(row.number, table.header[cols["national_id"]],
                                    f"{nid} is already registered"))  # fmt: skip
        elif nid and nid in seen:
            problems.append(Problem(row.number, table.header[cols["national_id"]],
                                    f"{nid} repeats row {seen[nid]}"))  # fmt: skip
        if nid:
            seen.setdefault(nid, row.number)
        if len(values["name_ar"]) > 200:
            problems.append(
                Problem(row.number, table.header[cols["name_ar"]], "over 200 characters")
            )
        if problems:
            report.problems += problems
            report.rejected_rows.append((row.number, row.cells))
        else:
            assert unit is not None
            good.append((row.number, values, unit))
    report.valid = len(good)
    if dry_run or (report.problems and not valid_only):
        return report
    with audit.batched(db):
        for _number, values, unit in good:
            service.create_person(
                db, actor, name_ar=values["name_ar"], national_id=values["national_id"],
                unit_id=unit.id, name_latin=values["name_latin"], rank=values["rank"],
                governorate_code=values["governorate"], phone=values["phone"],
                email=values["email"],
            )  # fmt: skip
            report.created += 1
        audit.record(db, actor, "import", object_type="training_person",
                     detail={"file": table.name, **{k: v for k, v in report.as_dict().items() if k != "problems"}})  # fmt: skip
    return report


# --- vetting results ------------------------------------------------------------------------

VETTING_COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("ref", "reference", "case_ref", "vetting_ref", "المرجع", "رقم_الحالة"),
    "national_id": COLUMNS["national_id"],
    "unit": COLUMNS["unit"],
    "status": ("status", "decision", "الحالة", "القرار"),
    "requested_on": ("requested_on", "request_date", "requested", "تاريخ_الطلب"),
    "decided_on": ("decided_on", "decision_date", "decided", "تاريخ_القرار"),
    "valid_months": ("valid_months", "validity_months", "validity", "مدة_الصلاحية"),
    "notes": ("notes", "note", "ملاحظات"),
}
VETTING_REQUIRED = ("ref", "status", "requested_on")
# Arabic spellings of the decisions, as typed in the partner's spreadsheets.
STATUS_WORDS: dict[str, str] = {
    "موافق": "approved", "موافقة": "approved", "معتمد": "approved", "مرفوض": "denied",
    "رفض": "denied", "موقوف": "suspended", "ملغى": "cancelled", "ملغي": "cancelled",
    "قيد_الدراسة": "pending", "قيد_الانتظار": "pending",
}  # fmt: skip
RECORDED_STATUSES = tuple(s for s in VETTING_STATUSES if s != "expired")


@dataclass
class VettingReport(RowReport):
    updated: int = 0  # new decisions on cases already on file (``created`` counts new cases)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "updated": self.updated}


@dataclass(frozen=True)
class _Vetting:
    ref: str
    person_id: int | None
    unit_id: int | None
    status: str
    requested_on: date
    decided_on: date | None
    valid_months: int
    notes: str


def _people_by_nid(
    db: Session, actor: Actor, owner: int, nids: set[str]
) -> dict[str, TrainingPerson]:
    """Visible personnel by national ID (the importer's own organisation's first)."""
    out: dict[str, TrainingPerson] = {}
    wanted = sorted(nids)
    for start in range(0, len(wanted), 500):
        for p in db.scalars(
            access.visible(actor, TrainingPerson).where(
                TrainingPerson.national_id.in_(wanted[start : start + 500])
            )
        ):
            if p.national_id not in out or p.owner_org_id == owner:
                out[p.national_id] = p
    return out


def _vetting_row(
    row: Row,
    table: Table,
    cols: dict[str, int],
    people: dict[str, TrainingPerson],
    units: dict[str, TrainingUnit],
) -> tuple[_Vetting | None, list[Problem]]:
    values = row_values(row, cols, VETTING_COLUMNS)
    problems: list[Problem] = []

    def problem(name: str, message: str) -> None:
        column = table.header[cols[name]] if name in cols else name
        problems.append(Problem(row.number, column, message))

    for name in VETTING_REQUIRED:
        if not values[name]:
            problem(name, "required")
    ref = " ".join(values["ref"].split())  # as the service keeps it
    if len(ref) > 60:
        problem("ref", "over 60 characters")
    nid, code = values["national_id"], values["unit"]
    person_id: int | None = None
    unit_id: int | None = None
    subject_column = "national_id" if "national_id" in cols else "unit"
    if nid and code:
        problem(subject_column, "a vetting case is about one person or one unit, not both")
    elif not nid and not code:
        problem(subject_column, "required (a national ID or a unit code)")
    elif nid:
        person = people.get(nid)
        if person is None:
            problem("national_id", f"no person with the national ID {nid!r}")
        else:
            person_id = person.id
    else:
        unit = units.get(code.lower())
        if unit is None:
            problem("unit", f"no unit with the code {code!r}")
        else:
            unit_id = unit.id
    raw_status = values["status"]
    status = STATUS_WORDS.get(column_key(raw_status), raw_status.lower())
    if raw_status and status not in RECORDED_STATUSES:
        problem("status", f"{raw_status!r} is not one of {', '.join(RECORDED_STATUSES)}")
    days: dict[str, date | None] = {"requested_on": None, "decided_on": None}
    for name in days:
        if values[name]:
            try:
                days[name] = iso_day(values[name])
            except ValueError as exc:
                problem(name, str(exc))
    requested, decided = days["requested_on"], days["decided_on"]
    if status in RECORDED_STATUSES and status != "pending" and not values["decided_on"]:
        problem("decided_on", f"the decision ({status}) needs its date")
    if requested and decided and decided < requested:
        problem("decided_on", "the decision is dated before the request")
    months = service.DEFAULT_VALIDITY_MONTHS
    if values["valid_months"]:
        try:
            months = int(values["valid_months"])
        except ValueError:
            problem("valid_months", f"{values['valid_months']!r} is not a whole number")
        else:
            if not 1 <= months <= 60:
                problem("valid_months", "validity is 1 to 60 months")
    if problems or requested is None:
        return None, problems
    return _Vetting(ref, person_id, unit_id, status, requested, decided, months,
                    values["notes"]), []  # fmt: skip


def import_vetting(
    db: Session, actor: Actor, table: Table, *, dry_run: bool = False, valid_only: bool = False
) -> VettingReport:
    """Vetting decisions from a file (see the module docstring): all or nothing, or the
    valid rows only; each through :func:`rasid.training.service.record_vetting`."""
    service._require(actor, "write")
    owner = service._owner(actor)
    cols = find_columns(table, VETTING_COLUMNS, VETTING_REQUIRED)
    if "national_id" not in cols and "unit" not in cols:
        raise ValidationFailed(
            "%(file)s has no column %(columns)s (the header has: %(header)s).",
            field="header",
            file=table.name,
            columns="national_id / unit",
            header=", ".join(table.header),
        )
    rows = [r for r in table.rows if not r.blank]
    nid_col = cols.get("national_id")
    nids = {r.cells[nid_col] for r in rows if nid_col is not None and nid_col < len(r.cells)}
    people = _people_by_nid(db, actor, owner, nids - {""})
    units = {u.code: u for u in db.scalars(access.visible(actor, TrainingUnit))}
    on_file = {
        c.ref: (c.person_id, c.unit_id)
        for c in db.scalars(select(VettingCase).where(VettingCase.owner_org_id == owner))
    }
    report = VettingReport(dry_run=dry_run)
    good: list[_Vetting] = []
    subjects = dict(on_file)
    first_row: dict[str, int] = {}
    for row in rows:
        report.rows += 1
        case, problems = _vetting_row(row, table, cols, people, units)
        if case is not None:
            subject = (case.person_id, case.unit_id)
            known = subjects.get(case.ref)
            if known is not None and known != subject:
                where = (f"row {first_row[case.ref]}" if case.ref in first_row
                         else "the case on file")  # fmt: skip
                problems.append(Problem(row.number, table.header[cols["ref"]],
                                        f"case {case.ref} is about another subject ({where})"))  # fmt: skip
        if problems or case is None:
            report.reject(row, problems)
            continue
        subjects.setdefault(case.ref, (case.person_id, case.unit_id))
        first_row.setdefault(case.ref, row.number)
        good.append(case)
    report.valid = len(good)
    if dry_run or (report.problems and not valid_only):
        return report
    seen = set(on_file)
    with audit.batched(db):
        for case in good:
            service.record_vetting(
                db, actor, ref=case.ref, status=case.status, requested_on=case.requested_on,
                person_id=case.person_id, unit_id=case.unit_id, decided_on=case.decided_on,
                valid_months=case.valid_months, notes=case.notes,
            )  # fmt: skip
            if case.ref in seen:
                report.updated += 1
            else:
                report.created += 1
                seen.add(case.ref)
        audit.record(db, actor, "import", object_type="training_vetting",
                     detail={"file": table.name, **{k: v for k, v in report.as_dict().items() if k != "problems"}})  # fmt: skip
    return report


# --- enrolments ------------------------------------------------------------------------------

ENROLMENT_COLUMNS: dict[str, tuple[str, ...]] = {"national_id": COLUMNS["national_id"]}
ENROLMENT_REQUIRED = ("national_id",)


@dataclass(frozen=True)
class Refusal:
    """A row that :func:`rasid.training.service.enrol` would refuse: the person and why."""

    row: int
    person_id: int
    reason: str


@dataclass
class EnrolmentReport(RowReport):
    session_id: int = 0
    file: str = ""
    refusals: list[Refusal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "session_id": self.session_id,
                "refused": len(self.refusals)}  # fmt: skip


def _enrolled_elsewhere(
    db: Session, session: TrainingSession, person_ids: list[int]
) -> dict[int, int]:
    """Person → the (lowest) other session at the same time they are enrolled in."""
    out: dict[int, int] = {}
    for start in range(0, len(person_ids), 500):
        for person_id, other in db.execute(
            select(Enrolment.person_id, func.min(TrainingSession.id))
            .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
            .where(
                Enrolment.person_id.in_(person_ids[start : start + 500]),
                Enrolment.status != "withdrawn",
                TrainingSession.id != session.id,
                TrainingSession.start_date <= session.end_date,
                TrainingSession.end_date >= session.start_date,
            )
            .group_by(Enrolment.person_id)
        ).all():
            out[int(person_id)] = int(other)
    return out


def _session_for_import(db: Session, actor: Actor, session_id: int) -> TrainingSession:
    """The session, refused as :func:`rasid.training.service.enrol` refuses it."""
    session: TrainingSession = service._get(db, actor, TrainingSession, session_id)
    if session.owner_org_id != actor.org_id:
        raise Forbidden("Only the organisation running a session enrols trainees in it.")
    return session


def import_enrolments(
    db: Session,
    actor: Actor,
    table: Table,
    session_id: int,
    *,
    dry_run: bool = False,
    valid_only: bool = False,
) -> EnrolmentReport:
    """Enrol the people of a file in a session (see the module docstring): every row
    checked first without writing; all or nothing, or the valid rows only."""
    service._require(actor, "write")
    owner = service._owner(actor)
    session = _session_for_import(db, actor, session_id)
    cols = find_columns(table, ENROLMENT_COLUMNS, ENROLMENT_REQUIRED)
    column = table.header[cols["national_id"]]
    rows = [r for r in table.rows if not r.blank]
    nids = {row_values(r, cols, ENROLMENT_COLUMNS)["national_id"] for r in rows} - {""}
    people = _people_by_nid(db, actor, owner, nids)
    enrolled = set(
        db.scalars(
            select(Enrolment.person_id).where(
                Enrolment.session_id == session.id, Enrolment.status != "withdrawn"
            )
        )
    )
    elsewhere = _enrolled_elsewhere(db, session, sorted({p.id for p in people.values()}))
    free = max(session.capacity - len(enrolled), 0)
    report = EnrolmentReport(dry_run=dry_run, session_id=session.id, file=table.name)
    good: list[TrainingPerson] = []
    first_row: dict[int, int] = {}
    for row in rows:
        report.rows += 1
        nid = row_values(row, cols, ENROLMENT_COLUMNS)["national_id"]
        person = people.get(nid) if nid else None
        if person is None:
            message = f"no person with the national ID {nid!r}" if nid else "required"
            report.reject(row, [Problem(row.number, column, message)])
            continue
        if person.id in first_row:
            report.reject(row, [Problem(row.number, column,
                                        f"{nid} repeats row {first_row[person.id]}")])  # fmt: skip
            continue
        first_row[person.id] = row.number
        name = person.name_latin or person.name_ar
        refused: list[str] = []
        if person.id in enrolled:
            refused.append(Conflict("%(person)s is already enrolled in this session.",
                                    person=name).message)  # fmt: skip
        if person.id in elsewhere:
            refused.append(Conflict(
                "Refused: %(person)s is enrolled in session %(other)s at the same time.",
                person=name, other=elsewhere[person.id]).message)  # fmt: skip
        try:
            service.check_gate(db, person, session)
        except Forbidden as exc:
            refused.append(exc.message)
        if len(good) >= free:
            full = Conflict("Refused: the session is full (%(capacity)s places).",
                            capacity=session.capacity).message  # fmt: skip
            if good:
                left = "the last place" if free == 1 else f"the {free} places left"
                full = f"{full.rstrip('.')}; rows above in this file take {left}."
            refused.append(full)
        if refused:
            report.reject(row, [Problem(row.number, column, m) for m in refused])
            report.refusals.append(Refusal(row.number, person.id, " ".join(refused)))
            continue
        good.append(person)
    report.valid = len(good)
    if dry_run or (report.problems and not valid_only):
        return report
    with audit.batched(db):
        for person in good:
            service.enrol(db, actor, session.id, person.id)
            report.created += 1
        audit.record(db, actor, "import", object_type="training_enrolment",
                     detail={"file": table.name, **{k: v for k, v in report.as_dict().items() if k != "problems"}})  # fmt: skip
    return report


def record_refusals(db: Session, actor: Actor, report: EnrolmentReport) -> int:
    """Audit each refused row of an enrolment import (call it in a transaction of its own,
    so the refusals are kept when the import wrote nothing); how many were recorded."""
    for refusal in report.refusals:
        service.record_refusal(
            db, actor, "enrol", "training_session", report.session_id, refusal.reason,
            person_id=refusal.person_id, source="import", file=report.file, row=refusal.row,
        )  # fmt: skip
    return len(report.refusals)
