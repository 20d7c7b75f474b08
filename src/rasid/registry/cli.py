"""``rasid search`` and ``rasid registry import | export | screen``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rasid.access.markings import RED, normalise_marking
from rasid.audit import service as audit
from rasid.core.cli_support import AS_OPTION, err_console, fail, out_console, run, unit_of_work
from rasid.registry import io as registry_io
from rasid.registry import search as search_service
from rasid.registry.schemas import MarkingIn

registry_app = typer.Typer(
    help="Incidents, persons, groups, vehicles, vessels and places.", no_args_is_help=True
)


def hit_json(hit: search_service.Hit) -> dict[str, object]:
    return {
        "id": hit.id,
        "type": hit.type,
        "names": hit.names,
        "score": hit.score,
        "reason": hit.reason,
    }


def search_command(
    query: str = typer.Argument(
        ...,
        help="A name, identifier, reference or place; '-' reads one query per line "
        "from standard input.",
    ),
    type_: str | None = typer.Option(
        None, "--type", help="person, group, vehicle, vessel, place or incident."
    ),
    governorate: str | None = typer.Option(
        None, "--governorate", help="ISO 3166-2 code, e.g. YE-SD."
    ),
    date_from: str | None = typer.Option(
        None, "--from", help="Only records with incidents from this date (YYYY-MM-DD)."
    ),
    date_to: str | None = typer.Option(None, "--to", help="… up to this date."),
    marking: str | None = typer.Option(
        None, "--marking", help="Only records with this TLP marking."
    ),
    limit: int = typer.Option(10, "--limit", help="Results per query."),
    as_json: bool = typer.Option(
        False,
        "--json",
        help='Print {"query", "results": [{id, type, names, score, reason}]} '
        "(one line per query with '-').",
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Search every record you may see, across Arabic and Latin spellings."""

    def parse_day(value: str | None, field: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            from rasid.core.cli_support import fail

            fail(f"{field}: {value!r} is not a date (YYYY-MM-DD)")

    flt = search_service.SearchFilter(
        type=type_,
        governorate_code=governorate,
        date_from=parse_day(date_from, "--from"),
        date_to=parse_day(date_to, "--to"),
        marking=marking,
    )

    def body() -> None:
        queries = [line.strip() for line in sys.stdin] if query == "-" else [query]
        with unit_of_work(as_user) as (db, actor):
            for q in queries:
                if not q:
                    continue
                hits = search_service.search(db, actor, q, flt, limit=limit)
                if as_json:
                    typer.echo(
                        json.dumps(
                            {"query": q, "results": [hit_json(h) for h in hits]}, ensure_ascii=False
                        )
                    )
                    continue
                out_console.print(f"[bold]{q}[/bold]: {len(hits)} result(s)", highlight=False)
                for h in hits:
                    out_console.print(
                        f"  {h.score:5.2f}  {h.type:<8} #{h.id:<7} {' / '.join(h.names[:3])}  — {h.reason}",
                        highlight=False,
                        markup=False,
                    )

    run(body)


# --- import, export, screen ---------------------------------------------------------------------


@contextmanager
def _progress_bar(total: int, label: str) -> Iterator[Callable[[], None]]:
    """A Rich progress bar on standard error, advanced once per row."""
    with Progress(
        TextColumn(label, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _say(line: str, *, err: bool = False) -> None:
    (err_console if err else out_console).print(line, highlight=False, markup=False, soft_wrap=True)


_MAX_LINES = 200


def _list(prefix: str, items: list[registry_io.Problem]) -> None:
    for item in items[:_MAX_LINES]:
        _say(f"{prefix}{item}", err=True)
    if len(items) > _MAX_LINES:
        _say(f"{prefix}… and {len(items) - _MAX_LINES} more (use --json for all)", err=True)


@registry_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="CSV (UTF-8) or XLSX file; row 1 names the columns."),
    kind: str = typer.Option(
        ...,
        "--kind",
        help="persons (name_ar, name_latin, aliases, dob, nationality, identifiers …), "
        "incidents (title, event_date, governorate, latitude, longitude …) or acled "
        "(an ACLED export).",
    ),
    marking: str = typer.Option(
        "TLP:AMBER", "--marking", help="TLP marking of every imported record."
    ),
    releasable_to: list[str] | None = typer.Option(
        None,
        "--releasable-to",
        metavar="ORG",
        help="Release the TLP:AMBER records to this organisation (repeatable).",
    ),
    recipients: list[str] | None = typer.Option(
        None,
        "--recipient",
        metavar="USERNAME",
        help="A named recipient of TLP:RED records (repeatable).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check every row with the real validation and write nothing."
    ),
    valid_only: bool = typer.Option(
        False,
        "--valid-only",
        help="Import the good rows; write the rejected ones, with reasons, to the rejects file.",
    ),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="Where --valid-only writes rejected rows (default FILE.rejects.csv).",
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Encoding of a CSV file that is not UTF-8, e.g. cp1256."
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="XLSX sheet (default: the first)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Import persons, incidents or ACLED events: all or nothing, or --valid-only.

    Every bad row is reported with its row number (the header is row 1) and its column. The imported records belong to your organisation. Exit status 1 when rows were refused and nothing was written (also a dry run that found errors).
    """
    if kind not in registry_io.IMPORT_KINDS:
        fail(f"--kind must be persons, incidents or acled, not {kind!r}")
    if dry_run and valid_only:
        fail("--dry-run and --valid-only cannot be used together")
    rejects_path = rejects or file.with_name(file.stem + ".rejects.csv")

    def body() -> registry_io.ImportReport:
        table = registry_io.read_table(file, encoding=encoding, sheet=sheet)
        marking_in = MarkingIn(
            marking=marking, releasable_to=releasable_to or [], recipients=recipients or []
        )
        with unit_of_work(as_user) as (db, actor):
            with _progress_bar(len(table.rows), file.name) as advance:
                report = registry_io.import_table(
                    db,
                    actor,
                    table,
                    kind,
                    marking=marking_in,
                    dry_run=dry_run,
                    valid_only=valid_only,
                    progress=advance,
                )
            if report.outcome == "imported":
                if report.rejected_rows:
                    rejects_path.write_bytes(registry_io.rejects_csv(table, report))
                    report.rejects_file = str(rejects_path)
                audit.record(
                    db,
                    actor,
                    "import",
                    object_type="registry_entity" if kind == "persons" else "registry_incident",
                    detail={
                        "file": file.name,
                        "kind": kind,
                        "marking": marking_in.marking,
                        "rows": report.rows,
                        "imported": report.imported,
                        "skipped": report.skipped,
                        "rejected": report.rejected,
                        "groups_created": report.groups_created,
                    },
                )
        return report

    report = run(body)
    dry = report.outcome == "dry_run"
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        line = (
            f"{file.name}: {_plural(report.rows, 'row')} read, "
            f"{report.valid if dry else report.imported} {'valid' if dry else 'imported'}, "
            f"{report.skipped} already present, {report.rejected} rejected, "
            f"{_plural(len(report.warnings), 'warning')}"
        )
        if kind == "acled":
            done = "to create" if dry else "created"
            groups = report.groups_created if dry or report.outcome == "imported" else 0
            line += f", {_plural(groups, 'group')} {done}"
        _say(("dry run, nothing written: " if dry else "") + line)
        if report.rejects_file:
            _say(f"rejected rows and their reasons: {report.rejects_file}")
    if report.problems and report.outcome != "imported":
        what = (
            "dry run, nothing was written"
            if dry
            else "nothing was imported (fix them, or import the others with --valid-only)"
        )
        have = "has" if report.rejected == 1 else "have"
        err_console.print(
            f"[bold red]error:[/] {_plural(report.rejected, 'row')} of {report.rows} {have} "
            f"errors; {what}",
            highlight=False,
            soft_wrap=True,
        )
        _list("  ", report.problems)
        _list("warning: ", report.warnings)
        raise typer.Exit(1)
    if not as_json:
        _list("rejected: ", report.problems)
        _list("warning: ", report.warnings)


_ENTITY_KINDS = registry_io.ENTITY_KINDS_PLURAL


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)")


def _governorate(value: str | None) -> str | None:
    if not value:
        return None
    code = registry_io.governorate_code(value)
    if not code:
        fail(f"--governorate: unknown governorate {value!r} (give an ISO code such as YE-SD)")
    return code


@registry_app.command("export")
def export_command(
    kind: str = typer.Option(
        ..., "--kind", help="incidents, persons, groups, vehicles, vessels or places."
    ),
    fmt: str | None = typer.Option(
        None, "--format", help="csv, xlsx, geojson or kml (default: from --out's extension)."
    ),
    out: Path = typer.Option(..., "--out", help="File to write."),
    governorate: str | None = typer.Option(
        None, "--governorate", help="Only this governorate (ISO code such as YE-SD, or a name)."
    ),
    date_from: str | None = typer.Option(
        None, "--from", help="Incidents from this date (YYYY-MM-DD)."
    ),
    date_to: str | None = typer.Option(None, "--to", help="… up to this date."),
    marking: str | None = typer.Option(None, "--marking", help="Only records with this marking."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Export the records you may see, filtered, as CSV, XLSX, GeoJSON or KML (audited).

    TLP:RED records never leave the server: they are left out and counted. GeoJSON and KML hold only the records with coordinates.
    """
    if kind != "incidents" and kind not in _ENTITY_KINDS:
        fail(f"--kind must be incidents, {', '.join(_ENTITY_KINDS)}; not {kind!r}")
    chosen = (fmt or out.suffix.lstrip(".")).lower()
    chosen = "geojson" if chosen == "json" else chosen
    if chosen not in registry_io.EXPORT_FORMATS:
        fail("--format must be csv, xlsx, geojson or kml (or give --out one of those extensions)")
    if kind != "incidents" and (date_from or date_to):
        fail("--from and --to filter incidents only")
    day_from, day_to = _day(date_from, "--from"), _day(date_to, "--to")

    def body() -> dict[str, object]:
        marking_value = normalise_marking(marking) if marking else None
        if marking_value == RED:
            fail("TLP:RED records never leave the server; they cannot be exported")
        code = _governorate(governorate)
        with unit_of_work(as_user) as (db, actor):
            data, summary = registry_io.export_list(
                db,
                actor,
                kind,
                chosen,
                governorate_code=code,
                date_from=day_from,
                date_to=day_to,
                marking=marking_value,
            )
            out.write_bytes(data)
        return summary | {"file": str(out)}

    summary = run(body)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    count = int(str(summary["count"]))
    line = f"exported {count} {kind if count != 1 else kind[:-1]} to {out} ({chosen})"
    if summary["left_out"]:
        line += f"; {summary['left_out']} without coordinates left out of the map file"
    if summary["red_withheld"]:
        line += f"; {summary['red_withheld']} TLP:RED withheld"
    _say(line)


@registry_app.command("screen")
def screen_command(
    file: Path = typer.Argument(
        ...,
        help="CSV or XLSX list (detainees, passengers, a watch list) with any of the columns "
        "name, name_ar, name_latin, aliases, dob, nationality, identifiers, passport, phone ….",
    ),
    out: Path = typer.Option(..., "--out", help="Results file, .csv or .xlsx."),
    top: int = typer.Option(3, "--top", help="Candidates per row."),
    encoding: str | None = typer.Option(
        None, "--encoding", help="Encoding of a CSV file that is not UTF-8, e.g. cp1256."
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="XLSX sheet (default: the first)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Screen a list against the persons you may see: best candidates with score and reason."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        fail("--out must end in .csv or .xlsx")

    def body() -> dict[str, object]:
        table = registry_io.read_table(file, encoding=encoding, sheet=sheet)
        with unit_of_work(as_user) as (db, actor):
            with _progress_bar(len(table.rows), f"screening {file.name}") as advance:
                results = registry_io.screen_table(db, actor, table, top=top, progress=advance)
            out.write_bytes(registry_io.screen_output(table, results, fmt, top=top))
            matched = sum(1 for r in results if r.candidates)
            audit.record(
                db,
                actor,
                "screen",
                object_type="registry_entity",
                detail={"file": file.name, "rows": len(results), "with_candidates": matched},
            )
        return {
            "file": str(file),
            "rows": len(results),
            "with_candidates": matched,
            "out": str(out),
        }

    summary = run(body)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    _say(
        f"screened {summary['rows']} rows: {summary['with_candidates']} with candidates; "
        f"results in {out}"
    )
