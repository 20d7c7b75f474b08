"""`rasid logistics …`: the accountability report's figures."""

from __future__ import annotations

import json

import typer

from rasid.core.cli_support import AS_OPTION, out_console, run, unit_of_work

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
