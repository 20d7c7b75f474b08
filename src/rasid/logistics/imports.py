"""Equipment lists from CSV or XLSX (the registry's readers: encodings, sheets, line numbers).

Columns (header names in any case; Arabic alternatives accepted): ``type`` (the equipment
type by its part number / NSN, its English name or its Arabic name; النوع), ``serial``
(الرقم التسلسلي), and optionally ``donor`` (المانح), ``case_ref`` (مرجع الحالة) and ``site``
(الموقع). Every row is checked first — a type the importer may see (and only one matching),
a serial that is new for its type and not repeated in the file, lengths — and, as for the
personnel import (:mod:`rasid.training.imports`, whose machinery this reuses), with any
problem nothing is written and every problem is listed by row and column, unless
``valid_only``, which imports the good rows and returns the rejected ones for a rejects
file. ``dry_run`` checks without writing. The good rows go through
:func:`rasid.logistics.service.add_items`, one call per type (and donor, case, site), so
each serial is registered, starts its custody chain and is audited as if typed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access import service as access
from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.logistics import service
from rasid.logistics.models import EquipmentType, Item
from rasid.registry.io import Problem, Row, Table
from rasid.training.imports import RowReport, find_columns, rejects_csv, row_values

__all__ = ["COLUMNS", "EquipmentReport", "import_equipment", "rejects_csv"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("type", "equipment_type", "equipment", "part_number", "nsn", "النوع", "الصنف"),
    "serial": ("serial", "serial_number", "serial_no", "الرقم_التسلسلي", "الرقم"),
    "donor": ("donor", "المانح", "الجهة_المانحة"),
    "case_ref": ("case_ref", "case", "case_reference", "مرجع_الحالة"),
    "site": ("site", "location", "الموقع"),
}
REQUIRED = ("type", "serial")
LIMITS = {"serial": 80, "donor": 200, "case_ref": 80, "site": 200}


class EquipmentReport(RowReport):
    pass


@dataclass(frozen=True)
class _Line:
    type_id: int
    serial: str
    donor: str
    case_ref: str
    site: str


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _type_index(db: Session, actor: Actor) -> dict[str, set[int]]:
    """Visible types by part number, English name and Arabic name (compared without case)."""
    index: dict[str, set[int]] = {}
    for t in db.scalars(access.visible(actor, EquipmentType)):
        for name in {t.part_number, t.name_en, t.name_ar}:
            if name.strip():
                index.setdefault(_key(name), set()).add(t.id)
    return index


def _existing(db: Session, wanted: dict[int, set[str]]) -> set[tuple[int, str]]:
    """(type, serial) pairs of the file that exist already (whoever registered them: a
    serial is unique per type)."""
    found: set[tuple[int, str]] = set()
    for type_id, serials in wanted.items():
        ordered = sorted(serials)
        for start in range(0, len(ordered), 500):
            found |= {
                (type_id, s)
                for s in db.scalars(
                    select(Item.serial).where(
                        Item.type_id == type_id, Item.serial.in_(ordered[start : start + 500])
                    )
                )
            }
    return found


def import_equipment(
    db: Session, actor: Actor, table: Table, *, dry_run: bool = False, valid_only: bool = False
) -> EquipmentReport:
    service._require(actor, "write")
    service._owner(actor)
    cols = find_columns(table, COLUMNS, REQUIRED)
    types = _type_index(db, actor)
    report = EquipmentReport(dry_run=dry_run)
    checked: list[tuple[Row, _Line | None, list[Problem]]] = []
    for row in table.rows:
        if row.blank:
            continue
        report.rows += 1
        values = row_values(row, cols, COLUMNS)
        problems: list[Problem] = []

        def problem(name: str, message: str, row: Row = row, out: list[Problem] = problems) -> None:
            out.append(Problem(row.number, table.header[cols[name]], message))

        for name in REQUIRED:
            if not values[name]:
                problem(name, "required")
        for name, limit in LIMITS.items():
            if len(values[name]) > limit:
                problem(name, f"over {limit} characters")
        type_id: int | None = None
        if values["type"]:
            matches = types.get(_key(values["type"]), set())
            if not matches:
                problem("type", f"no equipment type {values['type']!r} (part number or name)")
            elif len(matches) > 1:
                problem("type", f"{values['type']!r} matches {len(matches)} equipment types; "
                                "use the part number")  # fmt: skip
            else:
                type_id = next(iter(matches))
        line = None
        if type_id is not None and not problems:
            line = _Line(type_id, values["serial"].upper(), values["donor"], values["case_ref"],
                         values["site"])  # fmt: skip
        checked.append((row, line, problems))
    wanted: dict[int, set[str]] = {}
    for _row, line, _p in checked:
        if line is not None:
            wanted.setdefault(line.type_id, set()).add(line.serial)
    existing = _existing(db, wanted)
    first: dict[tuple[int, str], int] = {}
    good: list[_Line] = []
    for row, line, problems in checked:
        if line is not None:
            pair = (line.type_id, line.serial)
            column = table.header[cols["serial"]]
            if pair in existing:
                problems.append(Problem(row.number, column,
                                        f"{line.serial} exists already for this type"))  # fmt: skip
            elif pair in first:
                problems.append(Problem(row.number, column,
                                        f"{line.serial} repeats row {first[pair]}"))  # fmt: skip
            first.setdefault(pair, row.number)
        if problems or line is None:
            report.reject(row, problems)
        else:
            good.append(line)
    report.valid = len(good)
    if dry_run or (report.problems and not valid_only):
        return report
    groups: dict[tuple[int, str, str, str], list[str]] = {}
    for line in good:
        groups.setdefault((line.type_id, line.donor, line.case_ref, line.site), []).append(
            line.serial
        )
    with audit.batched(db):
        for (type_id, donor, case_ref, site), serials in groups.items():
            items = service.add_items(
                db, actor, type_id, serials, donor=donor, case_ref=case_ref, site=site
            )
            report.created += len(items)
        audit.record(db, actor, "import", object_type="logistics_item",
                     detail={"file": table.name, **{k: v for k, v in report.as_dict().items() if k != "problems"}})  # fmt: skip
    return report
