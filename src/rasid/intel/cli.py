"""``rasid intel reports list`` and ``rasid intel export-stix``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rasid.core.cli_support import AS_OPTION, out_console, run, unit_of_work
from rasid.core.jsonfile import read_json
from rasid.intel import misp as misp_export
from rasid.intel import service
from rasid.intel import stix as stix_export

intel_app = typer.Typer(help="Intelligence reports and STIX 2.1.", no_args_is_help=True)
reports_app = typer.Typer(help="Intelligence reports.", no_args_is_help=True)
intel_app.add_typer(reports_app, name="reports")


@reports_app.command("list")
def list_command(
    status: str | None = typer.Option(None, "--status", help="draft, approved or released."),
    marking: str | None = typer.Option(None, "--marking", help="Only this TLP marking."),
    limit: int = typer.Option(50, "--limit", help="At most this many reports."),
    as_json: bool = typer.Option(
        False, "--json", help="Print [{id, title, marking, owner_org, status}]."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """The reports you may see, most recently changed first."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            rows, _total = service.list_reports(
                db, actor, service.ReportFilter(status=status, marking=marking), limit=limit
            )
            slugs = service.org_slugs(db, {r.owner_org_id for r in rows})
            items = [
                {
                    "id": r.id,
                    "title": r.title,
                    "marking": r.marking,
                    "owner_org": slugs.get(r.owner_org_id, ""),
                    "status": r.status,
                }
                for r in rows
            ]
        if as_json:
            typer.echo(json.dumps(items, ensure_ascii=False))
            return
        for item in items:
            out_console.print(
                f"#{item['id']:<6} {item['status']:<9} {item['marking']:<17} "
                f"{item['owner_org']:<12} {item['title']}",
                highlight=False,
                markup=False,
            )

    run(body)


@intel_app.command("export-stix")
def export_stix_command(
    report_id: int = typer.Argument(..., help="The report's id."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Print a report as a STIX 2.1 bundle (what you may see of it; audited as 'export')."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            bundle = stix_export.report_bundle(db, actor, report_id)
        typer.echo(json.dumps(bundle, ensure_ascii=False, indent=2))

    run(body)


@intel_app.command("export-misp")
def export_misp_command(
    report_id: int = typer.Argument(..., help="The report's id."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Print a report as a MISP event (JSON; audited as 'export')."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            event = misp_export.report_event(db, actor, report_id)
        typer.echo(json.dumps(event, ensure_ascii=False, indent=2))

    run(body)


@intel_app.command("export-misp-feed")
def export_misp_feed_command(
    out: Path = typer.Option(..., "--out", help="The feed directory (created if missing)."),
    report_ids: list[int] | None = typer.Option(
        None,
        "--report",
        help="A report to put in the feed (repeat it). Default: every released report you "
        "may see that may leave the server (not AMBER+STRICT or RED).",
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Write a MISP feed directory: manifest.json, hashes.csv and one file per event."""

    def body() -> int:
        with unit_of_work(as_user) as (db, actor):
            ids = report_ids or misp_export.feed_report_ids(db, actor)
            manifest = misp_export.feed_directory(db, actor, ids, out)
        return len(manifest)

    count = run(body)
    typer.echo(f"{count} events written to {out}")


@intel_app.command("import-stix")
def import_stix_command(
    path: Path = typer.Argument(..., help="A STIX 2.1 bundle (JSON file)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Import a STIX 2.1 bundle into reports and registry records of your organisation.

    The whole bundle is checked first; any error refuses it and nothing is written. Objects
    already imported with the same id and ``modified`` are left alone (idempotent).
    """
    from rasid.intel import stix_import

    def body() -> dict[str, object]:
        data = read_json(path)
        with unit_of_work(as_user) as (db, actor):
            return stix_import.import_bundle(db, actor, data).as_dict()

    result = run(body)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(
        "{received} objects: {created} created, {updated} updated, {unchanged} unchanged, "
        "{skipped} without a Rasid record".format(**result)
    )


@intel_app.command("import-misp")
def import_misp_command(
    path: Path = typer.Argument(
        ..., help="A MISP event (JSON file) or a MISP feed directory (manifest.json + events)."
    ),
    recipients: list[str] | None = typer.Option(
        None,
        "--recipient",
        help="A user who may read tlp:red events (repeat it); tlp:red is refused without.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Import MISP events as draft reports of your organisation (idempotent by event uuid).

    Everything is checked first; any error refuses the whole import and nothing is written.
    Attributes of types Rasid has no observable for are listed, not silently dropped.
    """
    from rasid.intel import misp_import

    def body() -> dict[str, object]:
        with unit_of_work(as_user) as (db, actor):
            return misp_import.import_path(db, actor, path, recipients or []).as_dict()

    result = run(body)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    typer.echo(
        "{received} events: {created} created, {updated} updated, {unchanged} unchanged, "
        "{skipped} skipped".format(**result)
    )
    for event in result["events"]:  # type: ignore[attr-defined]
        if event["action"] == "skipped":
            typer.echo(f"skipped {event['uuid']}: {event['reason']}")
    skipped = result["skipped_attributes"]
    typer.echo(f"{len(skipped)} attributes not imported")  # type: ignore[arg-type]
    for attr in skipped:  # type: ignore[attr-defined]
        typer.echo(f"  {attr['event']} {attr['type']}: {attr['value']} ({attr['reason']})")
