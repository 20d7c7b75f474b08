"""``rasid sync``: partner servers (peers), pull, push and the scheduled mode."""

from __future__ import annotations

import json
import sys

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from rasid.core.actor import Actor
from rasid.core.cli_support import (
    AS_OPTION,
    err_console,
    fail,
    out_console,
    run,
    session_factory,
    settings,
    unit_of_work,
)
from rasid.intel import federation

sync_app = typer.Typer(help="Federation with partner servers over TAXII 2.1.", no_args_is_help=True)
peer_app = typer.Typer(help="Partner servers.", no_args_is_help=True)
sync_app.add_typer(peer_app, name="peer")


@peer_app.command("add")
def peer_add(
    name: str = typer.Argument(..., help="A short name for the partner server."),
    url: str = typer.Argument(
        ..., help="The peer's TAXII 2.1 API root, e.g. https://host/taxii2/rasid/"
    ),
    collection: str = typer.Option(..., "--collection", help="The peer's collection to pull."),
    token_stdin: bool = typer.Option(
        False, "--token-stdin", help="Read the peer's API token from standard input."
    ),
    username: str = typer.Option(
        "", "--username", help="Our account on the peer (HTTP Basic); without it, Bearer."
    ),
    org: str = typer.Option(
        ..., "--org", help="The local organisation that stands for the peer's agencies."
    ),
    receiving_org: str = typer.Option(
        "", "--receiving-org", help="Who receives what the peer sends (default: your own)."
    ),
    push_collection: str = typer.Option(
        "", "--push-collection", help="The peer's collection to push to (e.g. to-moi-ct)."
    ),
    every: int = typer.Option(
        0, "--every", help="Minutes between scheduled syncs (0: only by hand)."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Define a partner server. The token is read from standard input, never an argument."""
    if not token_stdin:
        fail("Give the token on standard input with --token-stdin (never as an argument).")
    token = sys.stdin.readline().strip()

    def body() -> str:
        with unit_of_work(as_user) as (db, actor):
            peer = federation.add_peer(
                db,
                actor,
                federation.PeerIn(
                    name=name,
                    url=url,
                    collection=collection,
                    token=token,
                    username=username,
                    local_org=org,
                    receiving_org=receiving_org,
                    push_collection=push_collection,
                    interval_minutes=every,
                ),
                settings().data_dir,
            )
            return peer.name

    added = run(body)
    typer.echo(f"peer {added} added")


@peer_app.command("list")
def peer_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Partner servers with their last pull and push."""

    def body() -> list[dict[str, object]]:
        with unit_of_work(as_user) as (db, actor):
            out: list[dict[str, object]] = []
            for peer in federation.list_peers(db, actor):
                runs = federation.last_runs(db, peer.id, 20)
                last = {
                    d: next((r for r in runs if r.direction == d), None) for d in ("pull", "push")
                }
                out.append(
                    {
                        "name": peer.name,
                        "url": peer.url,
                        "collection": peer.collection,
                        "push_collection": peer.push_collection,
                        "every_minutes": peer.interval_minutes,
                        "cursor": peer.cursor,
                        **{
                            f"last_{d}": (
                                {
                                    "at": r.started_at.isoformat(),
                                    "status": r.status,
                                    "received": r.received,
                                    "created": r.created,
                                    "updated": r.updated,
                                    "refused": r.refused,
                                    "error": r.error,
                                }
                                if r
                                else None
                            )
                            for d, r in last.items()
                        },
                    }
                )
            return out

    peers = run(body)
    if as_json:
        typer.echo(json.dumps(peers, ensure_ascii=False))
        return
    for p in peers:
        out_console.print(
            f"{p['name']:<16} {p['url']}  {p['collection']}  cursor={p['cursor'] or '-'}",
            markup=False,
            highlight=False,
        )


def _actor(as_user: str | None) -> Actor:
    with unit_of_work(as_user) as (_db, actor):
        return actor


def _print(summary: federation.RunSummary, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        typer.echo(
            f"{summary.direction} {summary.peer}: {summary.status}; {summary.received} received, "
            f"{summary.created} created, {summary.updated} updated, {summary.unchanged} "
            f"unchanged, {summary.refused} refused; cursor {summary.cursor or '-'}"
        )
        for line in summary.errors[:20]:
            err_console.print(f"refused: {line}", markup=False, highlight=False)
    if summary.status != "ok":
        fail(summary.error)


def _with_progress(label: str, step: object) -> federation.RunSummary:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} objects"),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None)
        assert callable(step)
        result: federation.RunSummary = step(lambda n: bar.advance(task, n))
        return result


@sync_app.command("pull")
def pull_command(
    name: str = typer.Argument(..., help="The peer's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's summary as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Pull what is new on the peer (incremental, idempotent, resumable)."""

    def body() -> federation.RunSummary:
        actor = _actor(as_user)
        return _with_progress(
            f"pull {name}",
            lambda progress: federation.pull(
                session_factory(), actor, name, settings().data_dir, progress=progress
            ),
        )

    _print(run(body), as_json)


@sync_app.command("push")
def push_command(
    name: str = typer.Argument(..., help="The peer's name."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's summary as JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Push the reports released to the peer's organisation since the last push."""

    def body() -> federation.RunSummary:
        actor = _actor(as_user)
        return _with_progress(
            f"push {name}",
            lambda progress: federation.push(
                session_factory(), actor, name, settings().data_dir, progress=progress
            ),
        )

    _print(run(body), as_json)


@sync_app.command("schedule")
def schedule_command(
    once: bool = typer.Option(False, "--once", help="Run what is due once, then stop."),
    check: float = typer.Option(30.0, "--check-seconds", help="How often to look for due peers."),
    as_user: str | None = AS_OPTION,
) -> None:
    """The scheduled mode: pull (and push) each peer every --every minutes, until stopped."""

    def body() -> int:
        actor = _actor(as_user)
        done = federation.run_schedule(
            session_factory(),
            actor,
            settings().data_dir,
            once=once,
            check_seconds=check,
            report=lambda s: _print_quiet(s),
        )
        return sum(1 for s in done if s.status != "ok")

    failed = run(body)
    if failed:
        fail(f"{failed} sync runs failed; see rasid sync peer list.")


def _print_quiet(summary: federation.RunSummary) -> None:
    typer.echo(
        f"{summary.direction} {summary.peer}: {summary.status}; {summary.received} received, "
        f"{summary.created} created, {summary.updated} updated"
        + (f"; {summary.error}" if summary.error else "")
    )
