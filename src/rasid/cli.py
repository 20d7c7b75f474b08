"""The ``rasid`` command."""

from __future__ import annotations

import typer
from rich.table import Table

from rasid import __version__
from rasid.audit.cli import audit_app
from rasid.core.cli_support import fail, out_console, run, settings, unit_of_work
from rasid.identity.cli import orgs_app, tokens_app, users_app
from rasid.intel.cli import intel_app
from rasid.intel.sync_cli import sync_app
from rasid.logistics.cli import logistics_app
from rasid.maritime.cli import maritime_app
from rasid.registry.cli import registry_app, search_command
from rasid.training.cli import training_app

app = typer.Typer(
    name="rasid",
    help="Rasid (راصد): security-cooperation platform. Settings come from RASID_DATA_DIR, "
    "RASID_DATABASE_URL and RASID_SECRET_KEY.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(registry_app, name="registry")
app.add_typer(intel_app, name="intel")
app.add_typer(sync_app, name="sync")
app.add_typer(maritime_app, name="maritime")
app.add_typer(training_app, name="training")
app.add_typer(logistics_app, name="logistics")
app.command("search")(search_command)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", help="Worker processes (use PostgreSQL for more than one)."
    ),
) -> None:
    """Serve the web pages and the API."""
    import uvicorn

    cfg = settings()
    if workers > 1 and cfg.database_url.startswith("sqlite"):
        out_console.print(
            "note: several workers on SQLite serialise their writes; PostgreSQL scales better"
        )
    uvicorn.run(
        "rasid.web.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the schema to the newest version."""
    from rasid.core.migrate import upgrade

    cfg = settings()

    def body() -> None:
        from rasid.core.db import make_engine
        from rasid.core.migrate import analyze

        upgrade(cfg.database_url, revision)
        engine = make_engine(cfg.database_url)
        analyze(engine)
        engine.dispose()
        out_console.print(f"database at {revision}: {_safe_url(cfg.database_url)}", highlight=False)

    run(body)


@db_app.command("optimize")
def db_optimize() -> None:
    """Refresh the query planner's statistics (run after large imports)."""
    from rasid.core.db import make_engine
    from rasid.core.migrate import analyze

    engine = make_engine(settings().database_url)
    run(lambda: analyze(engine))
    engine.dispose()
    out_console.print("statistics refreshed", highlight=False)


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from rasid.core.db import make_engine
    from rasid.core.migrate import current_revision, head_revision

    cfg = settings()
    engine = make_engine(cfg.database_url)
    current = current_revision(engine)
    head = head_revision(cfg.database_url)
    typer.echo(f"current {current or 'none'}, newest {head}")
    if current != head:
        raise typer.Exit(1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def demo(
    partner: bool = typer.Option(
        False,
        "--partner",
        help="Load the partner embassy's own server instead (see `make demo-partner`).",
    ),
) -> None:
    """Load the demo organisations, users of every role and every module's demo data (safe to run twice)."""
    from rasid import demo as demo_data

    if partner:

        def partner_body() -> None:
            with unit_of_work(None) as (db, actor):
                created = demo_data.load_partner(db, actor)
            summary = ", ".join(f"{count} {name}" for name, count in created.items())
            out_console.print(
                f"partner server: {summary}; users "
                + ", ".join(u.username for u in demo_data.PARTNER_USERS)
                + f" (password {demo_data.DEMO_PASSWORD})",
                highlight=False,
            )

        run(partner_body)
        return

    def body() -> None:
        with unit_of_work(None) as (db, actor):
            created = demo_data.load(db, actor)
        created.update(_maritime_demo())
        created.update(_training_demo())
        table = Table(
            title="Rasid demo accounts (password for all: " + demo_data.DEMO_PASSWORD + ")"
        )
        for column in ("username", "organisation", "roles"):
            table.add_column(column)
        for user in demo_data.USERS:
            table.add_row(user.username, user.org, ", ".join(user.roles))
        out_console.print(table)
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        out_console.print(
            f"created: {summary} (what existed was kept). The admin account sets up two-factor "
            "authentication at first sign-in (any TOTP app, or `oathtool --totp -b KEY`).",
            highlight=False,
        )

    run(body)


def _maritime_demo() -> dict[str, int]:
    """The watch's last 20 hours of simulated traffic (every anomaly), ingested once, and the
    demo's live feed definition (`make demo` serves and runs it)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from rasid.maritime import live, simulate
    from rasid.maritime import service as maritime
    from rasid.maritime.models import IngestRun, MaritimeFeed

    cfg = settings()
    with unit_of_work("watch") as (db, actor):
        if db.scalar(select(func.count()).select_from(IngestRun)):
            return {}
        out = cfg.data_dir / "demo-ais-day.nmea"
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=21)
        simulate.write(out, "red-sea-day", 20, seed=7, rate=0.25, vessels=12, start=start)
        summary = maritime.ingest(db, actor, [out], cfg.data_dir)
        if db.scalar(select(MaritimeFeed.id).where(MaritimeFeed.name == "demo-traffic")) is None:
            live.add_feed(db, actor, "demo-traffic", f"tcp://127.0.0.1:{DEMO_AIS_PORT}")
    return {"AIS positions": summary.positions, "maritime alerts": summary.alerts}


DEMO_AIS_PORT = 10110


def _training_demo() -> dict[str, int]:
    """Training units, vetting, personnel, courses and sessions (see rasid.training.demo)."""
    from rasid.training import demo as training_demo

    with unit_of_work("trainer") as (db, actor):
        created = training_demo.load(db, actor)
    with unit_of_work("logistics") as (db, actor):
        created.update(training_demo.load_logistics(db, actor))
    return created


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        fail("interrupted", 130)


if __name__ == "__main__":
    main()
