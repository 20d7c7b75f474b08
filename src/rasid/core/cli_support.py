"""What every ``rasid`` command shares: settings, one unit of work, ``--as``, errors.

A command body runs inside :func:`unit_of_work`: one transaction, committed on
success and rolled back on any error; a refused access is still audited. Errors are
printed as one line on standard error with a non-zero exit status.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from rasid.core.actor import Actor, system_actor
from rasid.core.db import make_engine, make_session_factory
from rasid.core.errors import RasidError
from rasid.core.settings import Settings, get_settings

err_console = Console(stderr=True)
out_console = Console()

T = TypeVar("T")

AS_OPTION = typer.Option(
    None,
    "--as",
    metavar="USERNAME",
    help="Act as this user: the same access rules and audit as the web and API. "
    "Without it the command acts as the local system account (audited as 'system').",
)

# The options every row import shares (personnel, vetting, enrolments, equipment).
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Check every row, write nothing.")
VALID_ONLY_OPTION = typer.Option(False, "--valid-only", help="Import the good rows only.")
REJECTS_OPTION = typer.Option(
    None, "--rejects", help="With --valid-only: write the rejected rows here."
)
SHEET_OPTION = typer.Option(None, "--sheet")
ENCODING_OPTION = typer.Option(None, "--encoding")


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker[Session]:
    settings = get_settings()
    return make_session_factory(make_engine(settings.database_url))


def settings() -> Settings:
    return get_settings()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def unit_of_work(as_user: str | None = None) -> Iterator[tuple[Session, Actor]]:
    factory = session_factory()
    db = factory()
    actor: Actor | None = None
    try:
        if as_user:
            from rasid.identity.service import actor_for_username

            actor = actor_for_username(db, as_user)
        else:
            actor = system_actor()
        yield db, actor
        db.commit()
    except RasidError as exc:
        db.rollback()
        if exc.audit and actor is not None:
            _audit_refusal(factory, actor, exc)
        field = f" (field: {exc.field})" if exc.field else ""
        fail(f"{exc.message}{field}")
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def _audit_refusal(factory: sessionmaker[Session], actor: Actor, exc: RasidError) -> None:
    from rasid.audit import service as audit

    info: dict[str, Any] = dict(exc.audit or {})
    db = factory()
    try:
        audit.record(
            db,
            actor,
            str(info.pop("action", "access.refused")),
            object_type=info.get("object_type"),
            object_id=info.get("object_id"),
            outcome=str(info.get("outcome", "refused")),
            detail={"path": "cli"},
        )
        db.commit()
    finally:
        db.close()


def run(fn: Callable[[], T]) -> T:
    """Run a command body, turning configuration and database errors into one line."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        return fn()
    except RasidError as exc:
        fail(exc.message)
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "no such table" in reason or "does not exist" in reason:
            fail(f"the database is not set up ({reason}); run `rasid db upgrade` first")
        fail(f"database error: {reason}")


def read_secret_stdin(what: str) -> str:
    line = sys.stdin.readline()
    value = line.rstrip("\r\n")
    if not value:
        fail(f"no {what} on standard input")
    return value


class ImportReport(Protocol):
    """What a row import reports (rows read, valid, created, the problems by row)."""

    rows: int
    valid: int
    created: int
    dry_run: bool

    @property
    def problems(self) -> Sequence[object]: ...

    def as_dict(self) -> dict[str, Any]: ...


def finish_import(
    report: ImportReport,
    rejected: str,
    *,
    rejects: Path | None,
    valid_only: bool,
    as_json: bool,
    updated: int | None = None,
) -> None:
    """What every import command ends with: the rejects file (with --valid-only), the report
    as JSON or the problems on standard error and a summary line; exit 1 when rows were
    refused and nothing was imported."""
    if rejects is not None and valid_only:
        rejects.write_text(rejected, encoding="utf-8-sig")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for p in report.problems:
            err_console.print(str(p), highlight=False, markup=False)
        out_console.print(
            f"{report.rows} rows, {report.valid} valid, {report.created} created"
            + (f", {updated} updated" if updated is not None else "")
            + (" (dry run)" if report.dry_run else ""),
            highlight=False,
            markup=False,
        )
    if report.problems and not valid_only:
        raise typer.Exit(1)
