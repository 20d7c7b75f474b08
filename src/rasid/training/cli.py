"""`rasid training …`: sessions, personnel and enrolment through the vetting gate."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from rasid.core.cli_support import (
    AS_OPTION,
    DRY_RUN_OPTION,
    ENCODING_OPTION,
    REJECTS_OPTION,
    SHEET_OPTION,
    VALID_ONLY_OPTION,
    finish_import,
    out_console,
    run,
    unit_of_work,
)
from rasid.core.errors import RasidError
from rasid.core.i18n import gettext as _

training_app = typer.Typer(
    help="Training: sessions, personnel, enrolment through the vetting gate.",
    no_args_is_help=True,
)
sessions_app = typer.Typer(help="Training sessions.", no_args_is_help=True)
personnel_app = typer.Typer(help="Personnel.", no_args_is_help=True)
training_app.add_typer(sessions_app, name="sessions")
training_app.add_typer(personnel_app, name="personnel")


@sessions_app.command("list")
def sessions_list(
    as_json: bool = typer.Option(
        False, "--json", help="[{id, course, start, end, capacity, enrolled}]"
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """The sessions you may see, earliest first."""
    from rasid.training import service

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            return [
                {
                    "id": r.session.id,
                    "course": r.course.title_en or r.course.title_ar,
                    "start": r.session.start_date.isoformat(),
                    "end": r.session.end_date.isoformat(),
                    "capacity": r.session.capacity,
                    "enrolled": r.enrolled,
                }
                for r in service.list_sessions(db, actor)
            ]

    rows = run(body)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        out_console.print(
            f"{r['id']}  {r['start']} → {r['end']}  {r['course']}  {r['enrolled']}/{r['capacity']}",
            highlight=False,
            markup=False,
        )


@personnel_app.command("list")
def personnel_list(
    as_json: bool = typer.Option(
        False,
        "--json",
        help="[{id, name_ar, name_latin, unit, vetting_status, vetting_valid_until}]",
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """The personnel you may see, with their vetting today (expiry computed)."""
    from rasid.training import service
    from rasid.training.models import TrainingUnit

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            today = date.today()
            out: list[dict[str, object]] = []
            for p in service.list_personnel(db, actor):
                unit = db.get(TrainingUnit, p.unit_id)
                status, until = service.person_vetting(db, p, today)
                out.append(
                    {
                        "id": p.id,
                        "name_ar": p.name_ar,
                        "name_latin": p.name_latin,
                        "unit": (unit.name_en or unit.name_ar) if unit else None,
                        "vetting_status": status,
                        "vetting_valid_until": until.isoformat() if until else None,
                    }
                )
            return out

    rows = run(body)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        out_console.print(
            f"{r['id']}  {r['name_ar']} ({r['name_latin']})  {r['unit']}  {r['vetting_status']}"
            + (f" → {r['vetting_valid_until']}" if r["vetting_valid_until"] else ""),
            highlight=False,
            markup=False,
        )


@training_app.command("enrol")
def enrol_command(
    session_id: int = typer.Argument(...),
    personnel_id: int = typer.Argument(...),
    as_user: str | None = AS_OPTION,
) -> None:
    """Enrol a person in a session; refused (exit 1, the reason on one line) unless the
    person and their unit are vetted for the whole session."""
    from rasid.core.cli_support import fail
    from rasid.training import service

    try:
        with unit_of_work(as_user) as (db, actor):
            enrolment_id = service.enrol(db, actor, session_id, personnel_id).id
    except RasidError as exc:
        message = exc.message
        run(lambda: _audit_refusal(as_user, session_id, personnel_id, message))
        fail(exc.translated(_))
    out_console.print(
        _("enrolled (enrolment %(id)s)") % {"id": enrolment_id}, highlight=False, markup=False
    )


def _audit_refusal(as_user: str | None, session_id: int, personnel_id: int, reason: str) -> None:
    from rasid.training import service

    with unit_of_work(as_user) as (db, actor):
        service.record_refusal(
            db, actor, "enrol", "training_session", session_id, reason, person_id=personnel_id
        )


@training_app.command("attend")
def attend_command(
    enrolment_id: int = typer.Argument(...),
    day: str = typer.Option(..., "--day", help="YYYY-MM-DD, a day of the session."),
    absent: bool = typer.Option(False, "--absent", help="Record an absence."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Record a day's attendance (a presence passes the vetting gate again)."""
    from rasid.core.cli_support import fail
    from rasid.training import certificates

    try:
        when = date.fromisoformat(day)
    except ValueError:
        fail(_("--day must be YYYY-MM-DD"))

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            certificates.record_attendance(db, actor, enrolment_id, when, present=not absent)

    run(body)
    out_console.print(_("attendance recorded"), highlight=False, markup=False)


@training_app.command("result")
def result_command(
    enrolment_id: int = typer.Argument(...),
    score: float | None = typer.Option(None, "--score", help="0 to 100."),
    passed: bool = typer.Option(..., "--pass/--fail", help="Pass issues the certificate."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Record a trainee's result; a pass prints the certificate's verification code."""
    from rasid.training import certificates

    def body() -> str | None:
        with unit_of_work(as_user) as (db, actor):
            return certificates.record_result(
                db, actor, enrolment_id, score, passed
            ).certificate_code

    code = run(body)
    out_console.print(
        _("certificate %(code)s (verify at /verify/%(code)s)") % {"code": code}
        if code
        else _("result recorded"),
        highlight=False,
        markup=False,
    )


@training_app.command("certificate")
def certificate_command(
    enrolment_id: int = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="PDF file to write."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000", "--base-url", help="Where /verify/CODE is served."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Write a passed trainee's bilingual certificate as PDF."""
    from rasid.training import certificates

    def body() -> bytes:
        with unit_of_work(as_user) as (db, actor):
            return certificates.certificate_pdf(db, actor, enrolment_id, base_url)

    data = run(body)
    out.write_bytes(data)
    out_console.print(f"{out} written ({len(data)} bytes)", highlight=False, markup=False)


@training_app.command("due")
def due_command(
    days: int = typer.Option(60, "--days", help="Within this many days."),
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Certificates expiring, refreshers due and vetting expiring within N days."""
    from rasid.training import reports

    def body() -> dict[str, list[dict[str, object]]]:
        with unit_of_work(as_user) as (db, actor):
            return reports.due(db, actor, days)

    lists = run(body)
    if as_json:
        typer.echo(json.dumps(lists, ensure_ascii=False))
        return
    for name, rows in lists.items():
        out_console.print(f"{name}: {len(rows)}", highlight=False, markup=False)
        for r in rows:
            out_console.print(f"  {r}", highlight=False, markup=False)


@training_app.command("roster")
def roster_command(
    session_id: int = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="The file for the partner."),
    fmt: str = typer.Option("csv", "--format", help="csv (UTF-8 with BOM) or xlsx."),
    as_user: str | None = AS_OPTION,
) -> None:
    """A session's roster as CSV or XLSX (names, rank, unit, status, vetting; no national
    IDs); the XLSX sheet reads right-to-left for a session taught in Arabic."""
    from rasid.audit import service as audit
    from rasid.core.cli_support import fail
    from rasid.training import reports

    if fmt not in ("csv", "xlsx"):
        fail(_("--format must be csv or xlsx"))

    def body() -> tuple[bytes, int]:
        with unit_of_work(as_user) as (db, actor):
            if fmt == "xlsx":
                data = reports.roster_xlsx(db, actor, session_id)
                rows = len(reports.roster_rows(db, actor, session_id)[1])
            else:
                text = reports.roster_csv(db, actor, session_id)
                data, rows = text.encode("utf-8-sig"), text.count("\n") - 1
            audit.record(db, actor, "export", object_type="training_session", object_id=session_id,
                         detail={"format": fmt, "rows": rows})  # fmt: skip
            return data, rows

    data, rows = run(body)
    out.write_bytes(data)
    out_console.print(f"{out} written ({rows} trainees)", highlight=False, markup=False)


@training_app.command("trained")
def trained_command(as_user: str | None = AS_OPTION) -> None:
    """Trained personnel by unit, governorate, course and year (JSON)."""
    from rasid.training import reports

    def body() -> dict[str, dict[str, int]]:
        with unit_of_work(as_user) as (db, actor):
            return reports.trained(db, actor)

    typer.echo(json.dumps(run(body), ensure_ascii=False))


@training_app.command("import-personnel")
def import_personnel_command(
    path: Path = typer.Argument(..., help="CSV (any common encoding) or XLSX."),
    dry_run: bool = DRY_RUN_OPTION,
    valid_only: bool = VALID_ONLY_OPTION,
    rejects: Path | None = REJECTS_OPTION,
    sheet: str | None = SHEET_OPTION,
    encoding: str | None = ENCODING_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Import personnel: all or nothing (every problem listed by row and column), or
    --valid-only with a rejects file; exit 1 when rows were refused."""
    from rasid.registry.io import read_table
    from rasid.training import imports

    def body() -> tuple[imports.PersonnelReport, str]:
        table = read_table(path, encoding=encoding, sheet=sheet)
        with unit_of_work(as_user) as (db, actor):
            report = imports.import_personnel(
                db, actor, table, dry_run=dry_run, valid_only=valid_only
            )
            return report, imports.rejects_csv(table, report)

    report, rejected = run(body)
    finish_import(report, rejected, rejects=rejects, valid_only=valid_only, as_json=as_json)


@training_app.command("import-vetting")
def import_vetting_command(
    path: Path = typer.Argument(..., help="CSV (any common encoding) or XLSX."),
    dry_run: bool = DRY_RUN_OPTION,
    valid_only: bool = VALID_ONLY_OPTION,
    rejects: Path | None = REJECTS_OPTION,
    sheet: str | None = SHEET_OPTION,
    encoding: str | None = ENCODING_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Import vetting results (ref, national_id or unit, status, requested_on, decided_on,
    valid_months, notes): all or nothing (every problem listed by row and column), or
    --valid-only with a rejects file; a changed decision flags the enrolments it concerns;
    exit 1 when rows were refused."""
    from rasid.registry.io import read_table
    from rasid.training import imports

    def body() -> tuple[imports.VettingReport, str]:
        table = read_table(path, encoding=encoding, sheet=sheet)
        with unit_of_work(as_user) as (db, actor):
            report = imports.import_vetting(
                db, actor, table, dry_run=dry_run, valid_only=valid_only
            )
            return report, imports.rejects_csv(table, report)

    report, rejected = run(body)
    finish_import(report, rejected, rejects=rejects, valid_only=valid_only, as_json=as_json,
                  updated=report.updated)  # fmt: skip


@training_app.command("import-enrolments")
def import_enrolments_command(
    session_id: int = typer.Argument(..., help="The session to enrol the file's people in."),
    path: Path = typer.Argument(..., help="CSV (any common encoding) or XLSX."),
    dry_run: bool = DRY_RUN_OPTION,
    valid_only: bool = VALID_ONLY_OPTION,
    rejects: Path | None = REJECTS_OPTION,
    sheet: str | None = SHEET_OPTION,
    encoding: str | None = ENCODING_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Enrol the people of a file (column national_id) in a session, each through the
    vetting gate, the session's places and overlaps: all or nothing (every problem listed
    by row and column with the reason), or --valid-only with a rejects file; every refused
    row is audited; exit 1 when rows were refused."""
    from rasid.registry.io import read_table
    from rasid.training import imports

    def body() -> tuple[imports.EnrolmentReport, str]:
        table = read_table(path, encoding=encoding, sheet=sheet)
        with unit_of_work(as_user) as (db, actor):
            report = imports.import_enrolments(
                db, actor, table, session_id, dry_run=dry_run, valid_only=valid_only
            )
            rejected = imports.rejects_csv(table, report)
        if report.refusals and not dry_run:
            # In their own unit of work: kept although the import itself wrote nothing.
            with unit_of_work(as_user) as (db, actor):
                imports.record_refusals(db, actor, report)
        return report, rejected

    report, rejected = run(body)
    finish_import(report, rejected, rejects=rejects, valid_only=valid_only, as_json=as_json)
