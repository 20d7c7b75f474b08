"""Logistics: serials, hand-overs signed by both sides with an immutable custody chain,
end-use checks that find an item missing, the accountability figures and their refusals."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rasid.audit.models import AuditEntry
from rasid.cli import app
from rasid.core.errors import Conflict, Forbidden, ValidationFailed
from rasid.core.settings import Settings
from rasid.logistics import service
from rasid.training import service as training
from tests.conftest import World

TODAY = date.today()


@pytest.fixture
def kit(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    officer = world.actor("analyst")
    with factory.begin() as db:
        store = training.create_unit(
            db, officer, code="store", name_ar="المخزن", name_en="Central store"
        )
        aden = training.create_unit(
            db, officer, code="aden", name_ar="قطاع عدن", name_en="Aden Sector"
        )
        radios = service.add_type(
            db,
            officer,
            name_ar="جهاز لاسلكي",
            name_en="VHF radio",
            category="comms",
            part_number="5820-01-555-1234",
            enhanced=True,
        )
        service.add_items(
            db,
            officer,
            radios.id,
            ["R-001", "R-002", "R-003"],
            donor="Partner embassy",
            case_ref="FMF-2026-01",
        )
        return {"store": store.id, "aden": aden.id, "radios": radios.id}


def test_handover_custody_check_and_accountability(
    world: World, factory: sessionmaker[Session], kit: dict[str, int]
) -> None:
    issuer, receiver = world.actor("analyst"), world.actor("analyst2")
    with factory.begin() as db, pytest.raises(Conflict, match="R-002"):
        service.add_items(db, issuer, kit["radios"], ["R-009", "r-002"])  # an existing serial
    with factory.begin() as db:
        h = service.issue_handover(
            db,
            issuer,
            ref="HO-1",
            to_unit_id=kit["aden"],
            serials=["R-001", "R-002", "R-003"],
            from_donor="Partner embassy",
        )
        with pytest.raises(Forbidden):
            service.accept_handover(db, issuer, h.id)  # the issuer does not sign for the receiver
    with factory.begin() as db:
        service.accept_handover(db, receiver, h.id)
        check = service.schedule_check(
            db, issuer, unit_id=kit["aden"], kind="initial", scheduled_for=TODAY
        )
        service.schedule_check(
            db,
            issuer,
            unit_id=kit["aden"],
            kind="enhanced",
            scheduled_for=TODAY - timedelta(days=3),
        )
    with factory.begin() as db, pytest.raises(ValidationFailed) as not_held:
        service.record_check(
            db, issuer, check.id, {"R-001": ("present", ""), "R-404": ("present", "")}, TODAY
        )
    assert not_held.value.field == "serials.1"
    with factory.begin() as db:
        service.record_check(
            db,
            issuer,
            check.id,
            {
                "R-001": ("present", ""),
                "R-002": ("missing", "not in the armoury"),
                "R-003": ("damaged", "cracked case"),
            },
            TODAY,
        )
    with factory() as db:
        figures = service.accountability(db, issuer).as_dict()
        assert figures == {
            "serials_total": 3,
            "serials_verified_12m": 2,
            "missing": 1,
            "open_deficiencies": 2,
            "overdue_checks": 1,
        }
        item_id = db.scalar(text("SELECT id FROM logistics_item WHERE serial = 'R-002'"))
        chain = [e.kind for e in service.custody_chain(db, issuer, item_id)]
        assert chain == ["registered", "handover", "check"]
        audited = {
            e.action
            for e in db.scalars(
                select(AuditEntry).where(AuditEntry.object_type.like("logistics_%"))
            )
        }
        assert {"create", "accept", "update"} <= audited
    # a missing item cannot be handed over; the chain cannot be rewritten
    with factory.begin() as db, pytest.raises(Conflict, match="missing"):
        service.issue_handover(
            db,
            issuer,
            ref="HO-2",
            to_unit_id=kit["store"],
            serials=["R-002"],
            from_unit_id=kit["aden"],
        )
    with factory.begin() as db, pytest.raises(DatabaseError):
        db.execute(text("UPDATE logistics_custody_event SET kind = 'x'"))
    # who must not see: the partner and the observer see no equipment
    with factory() as db:
        for who in ("partner", "observer"):
            assert service.accountability(db, world.actor(who)).serials_total == 0


def test_cli_accountability(world: World, cli_env: Settings, kit: dict[str, int]) -> None:
    result = CliRunner().invoke(app, ["logistics", "accountability", "--json", "--as", "analyst"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "serials_total": 3,
        "serials_verified_12m": 0,
        "missing": 0,
        "open_deficiencies": 0,
        "overdue_checks": 0,
    }


def test_support_requests_workflow_board_and_overdue(
    world: World, factory: sessionmaker[Session], kit: dict[str, int], cli_env: Settings
) -> None:
    from rasid.logistics import requests

    officer = world.actor("analyst")
    with factory.begin() as db:
        urgent = requests.create(
            db,
            officer,
            category="technical",
            unit_id=kit["aden"],
            title="Radio R-001 dead",
            priority="urgent",
            today=TODAY - timedelta(days=5),
        )
        normal = requests.create(
            db, officer, category="logistical", unit_id=kit["store"], title="Batteries"
        )
        assert urgent.due_date == TODAY - timedelta(
            days=3
        ) and normal.due_date == TODAY + timedelta(days=14)
        with pytest.raises(ValidationFailed) as bad:
            requests.create(db, officer, category="food", unit_id=kit["aden"], title="x")
        assert bad.value.field == "category"
        requests.move(db, officer, urgent.id, "triaged")
        with pytest.raises(Conflict, match="moves to in_progress, waiting, closed"):
            requests.move(db, officer, urgent.id, "resolved")
        requests.comment(db, officer, urgent.id, "Spare handset sent from the store.")
    with factory() as db:
        assert [r.id for r in requests.overdue(db, officer)] == [urgent.id]
        columns = requests.board(db, officer)
        assert [r.id for r in columns["triaged"]] == [urgent.id] and [
            r.id for r in columns["new"]
        ] == [normal.id]
        assert requests.overdue(db, world.actor("partner")) == []
    listed = CliRunner().invoke(
        app, ["logistics", "requests", "list", "--overdue", "--json", "--as", "analyst"]
    )
    assert [r["id"] for r in json.loads(listed.stdout)] == [urgent.id]
    moved = CliRunner().invoke(
        app, ["logistics", "requests", "move", str(urgent.id), "in_progress", "--as", "analyst"]
    )
    assert moved.exit_code == 0 and "in_progress" in moved.stdout


def test_checks_are_scheduled_on_delivery_and_yearly_for_enhanced_items(
    world: World, factory: sessionmaker[Session], kit: dict[str, int]
) -> None:
    issuer, receiver = world.actor("analyst"), world.actor("analyst2")
    with factory.begin() as db:
        h = service.issue_handover(db, issuer, ref="HO-1", to_unit_id=kit["aden"],
                                   serials=["R-001", "R-002"], from_donor="Partner embassy")  # fmt: skip
        service.accept_handover(db, receiver, h.id)
        [initial] = service.list_checks(db, issuer, status="scheduled")
        assert (initial.kind, initial.unit_id) == ("initial", kit["aden"])
        assert initial.scheduled_for == TODAY + timedelta(days=service.INITIAL_CHECK_DAYS)
        # Asking for the initial inventory again moves it; a unit has one open check per kind.
        moved = service.schedule_check(db, issuer, unit_id=kit["aden"], kind="initial",
                                       scheduled_for=TODAY)  # fmt: skip
        assert moved.id == initial.id and moved.scheduled_for == TODAY
        service.record_check(db, issuer, initial.id,
                             {"R-001": ("present", ""), "R-002": ("present", "")}, TODAY)  # fmt: skip
        [enhanced] = service.list_checks(db, issuer, status="scheduled")
        assert enhanced.kind == "enhanced" and enhanced.scheduled_for == TODAY + timedelta(days=365)
        # A transfer between units is not a delivery: no initial inventory is added.
        h2 = service.issue_handover(db, issuer, ref="HO-2", to_unit_id=kit["store"],
                                    serials=["R-001"], from_unit_id=kit["aden"])  # fmt: skip
        service.accept_handover(db, receiver, h2.id)
        assert [c.id for c in service.list_checks(db, issuer, status="scheduled")] == [enhanced.id]
        entries = db.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "logistics_check")
        ).all()
        assert any("delivery HO-1" in (e.after or "") for e in entries)
