"""The marking rule of DESIGN.md, enforced by access.visible_filter, allowed and refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rasid.access import service as access
from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED, normalise_marking
from rasid.audit.models import AuditEntry
from rasid.core.actor import Actor, anonymous_actor, system_actor
from rasid.core.errors import NotFound, ValidationFailed
from rasid.identity import service as identity
from tests.conftest import World
from tests.protected_model import Dossier


def _org_id(db: Session, slug: str) -> int:
    return identity.get_org(db, slug).id


def _user_id(db: Session, username: str) -> int:
    return identity.get_user(db, username).id


def make(
    factory: sessionmaker[Session],
    title: str,
    marking: str,
    owner: str = "moi-ct",
    releasable_to: tuple[str, ...] = (),
    recipients: tuple[str, ...] = (),
) -> int:
    with factory.begin() as db:
        orgs = [_org_id(db, s) for s in releasable_to]
        users = [_user_id(db, u) for u in recipients]
        value = access.validate_marking(marking, orgs, users)
        row = Dossier(title=title, marking=value, owner_org_id=_org_id(db, owner))
        db.add(row)
        db.flush()
        access.set_grants(db, row, releasable_to=orgs, recipients=users)
        return row.id


def visible_titles(factory: sessionmaker[Session], actor: Actor) -> set[str]:
    with factory() as db:
        return {d.title for d in db.scalars(access.visible(actor, Dossier)).all()}


@pytest.fixture
def dossiers(world: World, factory: sessionmaker[Session]) -> dict[str, int]:
    return {
        "clear": make(factory, "clear", CLEAR),
        "green": make(factory, "green", GREEN),
        "amber-own": make(factory, "amber-own", AMBER),
        "amber-partner": make(factory, "amber-partner", AMBER, releasable_to=("partner",)),
        "strict": make(factory, "strict", AMBER_STRICT),
        "red": make(factory, "red", RED, recipients=("analyst",)),
        "cg-amber": make(factory, "cg-amber", AMBER, owner="coastguard"),
    }


# Who sees what, row by row: the table of DESIGN.md applied to concrete users.
EXPECTED = {
    # same organisation as the owner (moi-ct), named on the RED one
    "analyst": {"clear", "green", "amber-own", "amber-partner", "strict", "red"},
    # same organisation, not a named recipient: no RED
    "analyst2": {"clear", "green", "amber-own", "amber-partner", "strict"},
    # another organisation of the community; owns cg-amber
    "watch": {"clear", "green", "cg-amber"},
    # partner: AMBER only where released to it
    "partner": {"clear", "green", "amber-partner"},
    # outside the sharing community: TLP:CLEAR only
    "observer": {"clear"},
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_user_sees_exactly_what_the_marking_allows(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int], username: str
) -> None:
    assert visible_titles(factory, world.actor(username)) == EXPECTED[username]


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_counts_do_not_reveal_hidden_rows(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int], username: str
) -> None:
    with factory() as db:
        assert access.count_visible(db, world.actor(username), Dossier) == len(EXPECTED[username])
        # A filtered count is still restricted: the strict row exists but a partner counts zero.
        strict = access.count_visible(
            db, world.actor(username), Dossier, Dossier.marking == AMBER_STRICT
        )
        assert strict == (1 if username in {"analyst", "analyst2"} else 0)


def test_admin_role_does_not_widen_what_is_seen(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int]
) -> None:
    # Roles say what a user may do; markings say what a user may see.
    assert "red" not in visible_titles(factory, world.actor("admin"))


def test_anonymous_sees_nothing_and_system_sees_all(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int]
) -> None:
    assert visible_titles(factory, anonymous_actor(address="1.2.3.4")) == set()
    assert len(visible_titles(factory, system_actor())) == len(dossiers)


def test_reading_a_protected_record_is_audited_and_a_refusal_raises_not_found(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int]
) -> None:
    analyst = world.actor("analyst")
    with factory.begin() as db:
        row = access.get_visible(db, analyst, Dossier, dossiers["red"])
        assert row.title == "red"
        access.get_visible(db, analyst, Dossier, dossiers["clear"])
    with factory() as db:
        reads = db.scalars(select(AuditEntry).where(AuditEntry.action == "read")).all()
        assert [(r.object_type, r.object_id, r.username) for r in reads] == [
            ("test_dossier", str(dossiers["red"]), "analyst")
        ]  # the CLEAR read is not audited; the RED one is

    partner = world.actor("partner")
    with factory() as db, pytest.raises(NotFound) as hidden:
        access.get_visible(db, partner, Dossier, dossiers["red"])
    with factory() as db, pytest.raises(NotFound) as missing:
        access.get_visible(db, partner, Dossier, 999_999)
    # Same answer for hidden and missing (existence is secret), but only the hidden one is audited.
    assert hidden.value.message == missing.value.message.replace("999999", str(dossiers["red"]))
    assert hidden.value.audit is not None and hidden.value.audit["action"] == "access.refused"
    assert missing.value.audit is None


def test_can_see_matches_the_filter(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int]
) -> None:
    with factory() as db:
        partner = world.actor("partner")
        assert access.can_see(db, partner, Dossier, dossiers["amber-partner"])
        assert not access.can_see(db, partner, Dossier, dossiers["amber-own"])


def test_marking_validation_names_the_field(world: World, factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        access.validate_marking("TLP:PURPLE", [], [])
    assert exc.value.field == "marking"
    with pytest.raises(ValidationFailed) as exc:
        access.validate_marking(GREEN, [2], [])
    assert exc.value.field == "releasable_to"
    with pytest.raises(ValidationFailed) as exc:
        access.validate_marking(RED, [], [])
    assert exc.value.field == "recipients"
    assert normalise_marking("amber+strict") == AMBER_STRICT
    assert normalise_marking("white") == CLEAR


def test_releasing_to_a_new_org_and_withdrawing_it(
    world: World, factory: sessionmaker[Session], dossiers: dict[str, int]
) -> None:
    watch = world.actor("watch")
    assert "amber-own" not in visible_titles(factory, watch)
    with factory.begin() as db:
        row = db.get(Dossier, dossiers["amber-own"])
        assert row is not None
        access.set_grants(db, row, releasable_to=[_org_id(db, "coastguard")])
    assert "amber-own" in visible_titles(factory, watch)
    with factory.begin() as db:
        row = db.get(Dossier, dossiers["amber-own"])
        assert row is not None
        access.set_grants(db, row, releasable_to=[])
    assert "amber-own" not in visible_titles(factory, watch)
