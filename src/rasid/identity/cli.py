"""``rasid orgs``, ``rasid users`` and ``rasid tokens``."""

from __future__ import annotations

import json
from typing import Any

import typer

from rasid.core.cli_support import (
    AS_OPTION,
    fail,
    out_console,
    read_secret_stdin,
    run,
    unit_of_work,
)
from rasid.identity import service

orgs_app = typer.Typer(
    help="Organisations (ministries, units, embassies, agencies…).", no_args_is_help=True
)
users_app = typer.Typer(help="User accounts and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(
    help="API tokens for machines (TAXII peers, scripts).", no_args_is_help=True
)


@orgs_app.command("add")
def orgs_add(
    slug: str = typer.Argument(
        ..., help="Short name: lower-case letters, digits, hyphens (e.g. moi-ct)."
    ),
    name_ar: str = typer.Option(..., "--name-ar", help="Name in Arabic."),
    name_en: str = typer.Option(..., "--name-en", help="Name in English."),
    country: str = typer.Option(..., "--country", help="ISO 3166-1 alpha-2 code, e.g. YE."),
    kind: str = typer.Option(
        "agency",
        "--kind",
        help="ministry, directorate, unit, coast_guard, embassy, agency, "
        "partner_service, international or other.",
    ),
    not_in_community: bool = typer.Option(
        False,
        "--not-in-community",
        help="Outside the sharing community: sees TLP:CLEAR but not TLP:GREEN.",
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Add an organisation."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            org = service.create_org(
                db,
                actor,
                slug=slug,
                name_ar=name_ar,
                name_en=name_en,
                country=country,
                kind=kind,
                in_community=not not_in_community,
            )
            out_console.print(f"organisation {org.slug} created", highlight=False)

    run(body)


@orgs_app.command("list")
def orgs_list(
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON: [{slug, name_ar, name_en, country, kind}]."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """List organisations."""

    def body() -> None:
        with unit_of_work(as_user) as (db, _actor):
            orgs = service.list_orgs(db)
            if as_json:
                data = [
                    {
                        "slug": o.slug,
                        "name_ar": o.name_ar,
                        "name_en": o.name_en,
                        "country": o.country,
                        "kind": o.kind,
                    }
                    for o in orgs
                ]
                typer.echo(json.dumps(data, ensure_ascii=False))
                return
            for o in orgs:
                out_console.print(
                    f"{o.slug:<24} {o.country}  {o.kind:<16} {o.name_en} / {o.name_ar}",
                    highlight=False,
                )

    run(body)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, . _ -"),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    role: list[str] = typer.Option(
        ...,
        "--role",
        help="Role; repeat for several: admin, analyst, liaison, maritime, "
        "training, logistics, auditor, viewer.",
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    name_ar: str = typer.Option("", "--name-ar", help="Display name in Arabic."),
    name_en: str = typer.Option("", "--name-en", help="Display name in English."),
    language: str = typer.Option("ar", "--language", help="Interface language: ar or en."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Add a user. The password comes from standard input (--password-stdin)."""
    if not password_stdin:
        fail("give the password on standard input with --password-stdin")
    password = read_secret_stdin("password")

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            user = service.create_user(
                db,
                actor,
                username=username,
                org_slug=org,
                roles=role,
                password=password,
                display_name_ar=name_ar,
                display_name_en=name_en,
                language=language,
            )
            out_console.print(f"user {user.username} created", highlight=False)

    run(body)


@users_app.command("list")
def users_list(
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON: [{username, org, roles, active}]."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """List users."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            users = service.list_users(db, actor)
            if as_json:
                data = [
                    {
                        "username": u.username,
                        "org": u.org.slug,
                        "roles": u.roles,
                        "active": u.active,
                    }
                    for u in users
                ]
                typer.echo(json.dumps(data, ensure_ascii=False))
                return
            for u in users:
                state = "active" if u.active else "disabled"
                out_console.print(
                    f"{u.username:<20} {u.org.slug:<20} {state:<9} {','.join(u.roles)}",
                    highlight=False,
                )

    run(body)


@users_app.command("disable")
def users_disable(username: str, as_user: str | None = AS_OPTION) -> None:
    """Disable a user: ends all their sessions and revokes all their API tokens at once."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            service.disable_user(db, actor, username)
            out_console.print(
                f"user {username} disabled; sessions ended and tokens revoked", highlight=False
            )

    run(body)


@users_app.command("enable")
def users_enable(username: str, as_user: str | None = AS_OPTION) -> None:
    """Enable a disabled user."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            service.update_user(db, actor, username, active=True)
            out_console.print(f"user {username} enabled", highlight=False)

    run(body)


@users_app.command("set-password")
def users_set_password(
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input."
    ),
    as_user: str | None = AS_OPTION,
) -> None:
    """Set a user's password (administrators); ends the user's other sessions."""
    if not password_stdin:
        fail("give the password on standard input with --password-stdin")
    password = read_secret_stdin("password")

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            service.set_password(db, actor, username, password)
            out_console.print(f"password of {username} changed", highlight=False)

    run(body)


@users_app.command("reset-mfa")
def users_reset_mfa(username: str, as_user: str | None = AS_OPTION) -> None:
    """Turn off a user's two-factor authentication (an administrator must enrol again at next sign-in)."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            service.disable_mfa(db, actor, username)
            out_console.print(f"two-factor authentication of {username} reset", highlight=False)

    run(body)


@tokens_app.command("create")
def tokens_create(
    user: str = typer.Option(..., "--user", help="The user the token acts as."),
    expires_days: int = typer.Option(
        90, "--expires-days", help="Days until the token expires (1–3650)."
    ),
    name: str = typer.Option("", "--name", help="What the token is for."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Create an API token and print it alone on standard output (it is stored hashed: shown once)."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            new = service.create_token(db, actor, user, name=name, expires_days=expires_days)
            plaintext = new.plaintext
        typer.echo(plaintext)

    run(body)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: int = typer.Argument(..., help="Token id (see `rasid tokens list`)."),
    as_user: str | None = AS_OPTION,
) -> None:
    """Revoke an API token."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            service.revoke_token(db, actor, token_id)
            out_console.print(f"token {token_id} revoked", highlight=False)

    run(body)


@tokens_app.command("list")
def tokens_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_user: str | None = AS_OPTION,
) -> None:
    """List API tokens (never their values)."""

    def body() -> None:
        with unit_of_work(as_user) as (db, actor):
            rows = service.list_tokens(db, actor, all_users=True)
            names = {u.id: u.username for u in service.list_users(db, actor)}
            data: list[dict[str, Any]] = [
                {
                    "id": t.id,
                    "user": names.get(t.user_id),
                    "name": t.name,
                    "prefix": t.prefix,
                    "expires_at": t.expires_at.isoformat(),
                    "revoked": t.revoked_at is not None,
                }
                for t in rows
            ]
            if as_json:
                typer.echo(json.dumps(data, ensure_ascii=False))
                return
            for d in data:
                out_console.print(
                    f"{d['id']:>5} {d['user']:<20} {d['prefix']}… expires {d['expires_at'][:10]}"
                    f"{'  revoked' if d['revoked'] else ''}  {d['name']}",
                    highlight=False,
                )

    run(body)
