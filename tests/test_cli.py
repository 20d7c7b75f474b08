"""The `rasid` command: the interfaces other tools rely on, errors, `--as`, `audit verify`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.settings import Settings
from tests.conftest import PASSWORD

RUNNER = CliRunner()


def rasid(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def _bootstrap() -> None:
    assert (
        rasid(
            "orgs",
            "add",
            "moi-ct",
            "--name-ar",
            "وحدة مكافحة الإرهاب",
            "--name-en",
            "CT Unit",
            "--country",
            "YE",
            "--kind",
            "ministry",
        )[0]
        == 0
    )
    assert (
        rasid(
            "users",
            "add",
            "boss",
            "--org",
            "moi-ct",
            "--role",
            "admin",
            "--role",
            "auditor",
            "--password-stdin",
            input=PASSWORD + "\n",
        )[0]
        == 0
    )
    assert (
        rasid(
            "users",
            "add",
            "ana",
            "--org",
            "moi-ct",
            "--role",
            "analyst",
            "--password-stdin",
            input=PASSWORD + "\n",
        )[0]
        == 0
    )


def test_orgs_and_users_round_trip_as_json(cli_env: Settings) -> None:
    _bootstrap()
    code, out, _ = rasid("orgs", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "slug": "moi-ct",
            "name_ar": "وحدة مكافحة الإرهاب",
            "name_en": "CT Unit",
            "country": "YE",
            "kind": "ministry",
        }
    ]
    code, out, _ = rasid("users", "list", "--json")
    assert json.loads(out) == [
        {"username": "ana", "org": "moi-ct", "roles": ["analyst"], "active": True},
        {"username": "boss", "org": "moi-ct", "roles": ["admin", "auditor"], "active": True},
    ]
    assert rasid("users", "disable", "ana")[0] == 0
    assert json.loads(rasid("users", "list", "--json")[1])[0]["active"] is False


def test_token_is_printed_alone_and_works(cli_env: Settings) -> None:
    _bootstrap()
    code, out, _ = rasid("tokens", "create", "--user", "ana", "--expires-days", "7")
    assert code == 0
    token = out.strip()
    assert out == token + "\n" and token.startswith("rsd_")
    from fastapi.testclient import TestClient

    from rasid.web.app import create_app

    with TestClient(create_app(cli_env)) as client:
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()[
                "username"
            ]
            == "ana"
        )
        tokens = json.loads(rasid("tokens", "list", "--json")[1])
        assert rasid("tokens", "revoke", str(tokens[0]["id"]))[0] == 0
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["orgs", "add", "x", "--name-ar", "ا", "--name-en", "x", "--country", "YE"],
            None,
            "short name",
        ),
        (
            ["orgs", "add", "new-org", "--name-ar", "ا", "--name-en", "x", "--country", "Yemen"],
            None,
            "country",
        ),
        (
            ["users", "add", "newbie", "--org", "nowhere", "--role", "viewer", "--password-stdin"],
            PASSWORD,
            "nowhere",
        ),
        (
            ["users", "add", "newbie", "--org", "moi-ct", "--role", "king", "--password-stdin"],
            PASSWORD,
            "king",
        ),
        (
            ["users", "add", "newbie", "--org", "moi-ct", "--role", "viewer", "--password-stdin"],
            "short",
            "12",
        ),
        (
            ["users", "add", "newbie", "--org", "moi-ct", "--role", "viewer"],
            None,
            "--password-stdin",
        ),
        (["users", "disable", "ghost"], None, "ghost"),
        (["tokens", "create", "--user", "ana", "--expires-days", "0"], None, "expire"),
        (["users", "list", "--as", "ana"], None, "not allow"),
        (
            [
                "orgs",
                "add",
                "x-org",
                "--name-ar",
                "ا",
                "--name-en",
                "x",
                "--country",
                "YE",
                "--as",
                "ana",
            ],
            None,
            "not allow",
        ),
    ],
)
def test_errors_are_one_clear_line_and_non_zero(
    cli_env: Settings, args: list[str], stdin: str | None, message: str
) -> None:
    _bootstrap()
    code, _out, err = rasid(*args, input=(stdin + "\n") if stdin else None)
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:"), err
    assert message in " ".join(lines), err
    assert "Traceback" not in err


def test_as_user_is_audited_as_that_user_and_system_otherwise(cli_env: Settings) -> None:
    _bootstrap()
    assert (
        rasid(
            "orgs",
            "add",
            "cg",
            "--name-ar",
            "خفر",
            "--name-en",
            "CG",
            "--country",
            "YE",
            "--as",
            "boss",
        )[0]
        == 0
    )
    engine = create_engine(cli_env.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.username, AuditEntry.via, AuditEntry.object_type)
            .where(AuditEntry.action == "create")
            .order_by(AuditEntry.seq)
        ).all()
    engine.dispose()
    assert rows[0] == ("system", "system", "organisation")
    assert rows[-1] == ("boss", "cli", "organisation")


def test_audit_verify_exits_non_zero_on_tampering(cli_env: Settings) -> None:
    _bootstrap()
    code, out, _ = rasid("audit", "verify")
    assert code == 0 and "intact" in out
    assert rasid("audit", "verify", "--as", "ana")[0] != 0  # analysts are not auditors
    engine = create_engine(cli_env.database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_entry_no_update"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE audit_entry SET after = '{}' WHERE seq = 2"))
    engine.dispose()
    code, out, err = rasid("audit", "verify", "--json")
    assert code == 1
    assert json.loads(out)["bad_seq"] == 2
    assert "entry 2" in err and "altered" in err


def test_audit_export_writes_csv(cli_env: Settings, tmp_path: Path) -> None:
    _bootstrap()
    target = tmp_path / "audit.csv"
    code, _out, _ = rasid("audit", "export", "--out", str(target), "--action", "create")
    assert code == 0 and target.read_text(encoding="utf-8").count("\n") == 4  # header + 3 creates


def test_demo_is_safe_to_run_twice(cli_env: Settings) -> None:
    code, out, _ = rasid("demo")
    assert code == 0 and "admin" in out and "rasid-demo-2026" in out
    code, _, _ = rasid("demo")
    assert code == 0
    users = json.loads(rasid("users", "list", "--json")[1])
    roles = {role for u in users for role in u["roles"]}
    assert roles == {
        "admin",
        "analyst",
        "liaison",
        "maritime",
        "training",
        "logistics",
        "auditor",
        "viewer",
    }
    assert len(users) == len({u["username"] for u in users})
    orgs = json.loads(rasid("orgs", "list", "--json")[1])
    assert {"moi-ct", "ycg-ops", "partner-embassy"} <= {o["slug"] for o in orgs}
    assert len({o["country"] for o in orgs}) >= 2


def test_real_command_help_and_database_errors(tmp_path: Path) -> None:
    """Run the installed `rasid` executable as a user would."""
    exe = Path(sys.executable).with_name("rasid")
    env = os.environ | {"RASID_DATA_DIR": str(tmp_path)}
    env.pop("RASID_DATABASE_URL", None)
    for command in (
        [],
        ["orgs"],
        ["users", "add"],
        ["tokens", "create"],
        ["audit", "verify"],
        ["serve"],
    ):
        result = subprocess.run(
            [str(exe), *command, "--help"], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0 and "Usage" in result.stdout, command
    # Before `rasid db upgrade` the database has no tables: one clear line, non-zero.
    result = subprocess.run(
        [str(exe), "orgs", "list"], env=env, capture_output=True, text=True, check=False
    )
    assert (
        result.returncode == 1
        and "rasid db upgrade" in result.stderr
        and "Traceback" not in result.stderr
    )
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    result = subprocess.run(
        [str(exe), "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [str(exe), "db", "current"], env=env, capture_output=True, text=True, check=False
    )
    current, newest = result.stdout.split(",")
    assert result.returncode == 0 and current.split()[-1] == newest.split()[-1] != "none"
