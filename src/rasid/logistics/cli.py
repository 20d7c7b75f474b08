"""`rasid logistics …`: the accountability report's figures, support requests, and the
equipment-list import."""

from __future__ import annotations

import json
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

logistics_app = typer.Typer(
    help="Equipment accountability (end-use monitoring).", no_args_is_help=True
)


@logistics_app.command("accountability")
def accountability_command(
    as_json: bool = typer.Option(
        False,
        "--json",
        help="{serials_total, serials_verified_12m, missing, open_deficiencies, overdue_checks}",
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Serials accountable, verified at a check in the last 12 months, missing, open
    deficiencies and overdue checks, over the equipment you may see."""
    from rasid.logistics import service

    def body() -> dict[str, int]:
        with unit_of_work(as_user) as (db, actor):
            return service.accountability(db, actor).as_dict()

    figures = run(body)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    for key, value in figures.items():
        out_console.print(f"{key}: {value}", highlight=False, markup=False)


requests_app = typer.Typer(help="Technical and logistical support requests.", no_args_is_help=True)
logistics_app.add_typer(requests_app, name="requests")


@requests_app.command("add")
def requests_add(
    unit_id: int = typer.Option(..., "--unit", help="The requesting unit's id."),
    category: str = typer.Option(..., "--category", help="technical or logistical"),
    title: str = typer.Option(..., "--title"),
    priority: str = typer.Option("normal", "--priority", help="low, normal, high or urgent"),
    description: str = typer.Option("", "--description"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Open a support request (due date from its priority)."""
    from rasid.logistics import requests

    def body() -> tuple[int, str]:
        with unit_of_work(as_user) as (db, actor):
            r = requests.create(db, actor, category=category, unit_id=unit_id, title=title,
                                priority=priority, description=description)  # fmt: skip
            return r.id, r.due_date.isoformat()

    rid, due = run(body)
    out_console.print(f"request {rid} opened, due {due}", highlight=False, markup=False)


@requests_app.command("list")
def requests_list(
    only_overdue: bool = typer.Option(
        False, "--overdue", help="Open requests past their due date."
    ),
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = AS_OPTION,
) -> None:
    """The requests you may see (by status), or the overdue ones."""
    from rasid.logistics import requests

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            rows = (
                requests.overdue(db, actor)
                if only_overdue
                else [r for column in requests.board(db, actor).values() for r in column]
            )
            return [
                {"id": r.id, "category": r.category, "priority": r.priority, "title": r.title,
                 "status": r.status, "unit_id": r.unit_id, "due_date": r.due_date.isoformat()}
                for r in rows
            ]  # fmt: skip

    rows = run(body)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        out_console.print(
            f"{r['id']}  {r['status']}  {r['priority']}  due {r['due_date']}  {r['title']}",
            highlight=False,
            markup=False,
        )


@requests_app.command("move")
def requests_move(
    request_id: int = typer.Argument(...),
    status: str = typer.Argument(..., help="triaged, in_progress, waiting, resolved or closed"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Move a request along its workflow."""
    from rasid.logistics import requests

    def body() -> str:
        with unit_of_work(as_user) as (db, actor):
            return requests.move(db, actor, request_id, status).status

    out_console.print(f"request {request_id}: {run(body)}", highlight=False, markup=False)


@logistics_app.command("import-equipment")
def import_equipment_command(
    path: Path = typer.Argument(..., help="CSV (any common encoding) or XLSX."),
    dry_run: bool = DRY_RUN_OPTION,
    valid_only: bool = VALID_ONLY_OPTION,
    rejects: Path | None = REJECTS_OPTION,
    sheet: str | None = SHEET_OPTION,
    encoding: str | None = ENCODING_OPTION,
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = AS_OPTION,
) -> None:
    """Register delivered equipment from a list (type by part number or name, serial, donor,
    case_ref, site): all or nothing (every problem listed by row and column), or
    --valid-only with a rejects file; exit 1 when rows were refused."""
    from rasid.logistics import imports
    from rasid.registry.io import read_table

    def body() -> tuple[imports.EquipmentReport, str]:
        table = read_table(path, encoding=encoding, sheet=sheet)
        with unit_of_work(as_user) as (db, actor):
            report = imports.import_equipment(
                db, actor, table, dry_run=dry_run, valid_only=valid_only
            )
            return report, imports.rejects_csv(table, report)

    report, rejected = run(body)
    finish_import(report, rejected, rejects=rejects, valid_only=valid_only, as_json=as_json)
