"""Personnel import from CSV or XLSX (the registry's readers: encodings, sheets, line numbers).

Columns (header names in any case; Arabic alternatives accepted): ``name_ar`` (الاسم),
``national_id`` (الرقم الوطني), ``unit`` (the unit's code, الوحدة), and optionally
``name_latin``, ``rank`` (الرتبة), ``governorate``, ``phone``, ``email``. Every row is checked
first (required cells, a unit the importer may see, a national ID that is new to the
organisation and not repeated in the file): with any problem nothing is written and every
problem is listed by row and column — unless ``valid_only``, which imports the good rows and
returns the rejected ones for a rejects file. ``dry_run`` checks without writing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.errors import ValidationFailed
from rasid.registry.io import Problem, Table, column_key
from rasid.training import service
from rasid.training.models import TrainingPerson, TrainingUnit

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
class PersonnelReport:
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


def _columns(table: Table) -> dict[str, int]:
    found: dict[str, int] = {}
    keys = [column_key(h) for h in table.header]
    for name, aliases in COLUMNS.items():
        for i, key in enumerate(keys):
            if key in aliases:
                found[name] = i
                break
    missing = [n for n in REQUIRED if n not in found]
    if missing:
        raise ValidationFailed(
            "%(file)s has no column %(columns)s (the header has: %(header)s).",
            field="header",
            file=table.name,
            columns=", ".join(missing),
            header=", ".join(table.header),
        )
    return found


def rejects_csv(table: Table, report: PersonnelReport) -> str:
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
