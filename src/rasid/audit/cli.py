"""``rasid audit verify`` and ``rasid audit export``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rasid.audit import service
from rasid.audit.filters import build_filter
from rasid.core.cli_support import AS_OPTION, err_console, fail, out_console, run, unit_of_work

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Check the whole chain; exit 1 naming the first bad entry if any row was altered, deleted or reordered."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            service.require_auditor(actor)
            total = service.count_entries(db)
            with Progress(
                TextColumn("verifying audit chain"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("verify", total=total)
                result = service.verify_chain(db, progress=lambda n: bar.advance(task, n))
            service.record(
                db,
                actor,
                "audit.verify",
                object_type="audit_entry",
                outcome="ok" if result.ok else "failed",
                detail={"checked": result.checked, "problem": result.problem},
            )
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "ok": result.ok,
                        "checked": result.checked,
                        "head_seq": result.head_seq,
                        "head_hash": result.head_hash,
                        "problem": result.problem,
                        "bad_seq": result.bad_seq,
                    }
                )
            )
        if not result.ok:
            fail(f"audit chain broken: {result.problem}")
        if not as_json:
            out_console.print(
                f"audit chain intact: {result.checked} entries, head {result.head_hash}",
                highlight=False,
            )

    run(body)


@audit_app.command("export")
def export(
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    user: str = typer.Option("", "--user", help="Only this username."),
    action: str = typer.Option("", "--action", help="Only actions starting with this, e.g. login."),
    date_from: str = typer.Option("", "--from", help="From this date (YYYY-MM-DD, Aden time)."),
    date_to: str = typer.Option("", "--to", help="Up to and including this date."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Export audit entries as CSV (the export is itself audited)."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            flt = build_filter(user=user, action=action, date_from=date_from, date_to=date_to)
            rows = service.export_entries(db, actor, flt)
            with out.open("w", encoding="utf-8", newline="") as fh:
                for line in service.csv_lines(rows):
                    fh.write(line)
        out_console.print(f"{len(rows)} entries written to {out}", highlight=False)

    run(body)
