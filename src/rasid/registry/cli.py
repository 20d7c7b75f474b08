"""``rasid search`` and ``rasid registry …``."""

from __future__ import annotations

import json
import sys
from datetime import date

import typer

from rasid.core.cli_support import AS_OPTION, out_console, run, unit_of_work
from rasid.registry import search as search_service

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
