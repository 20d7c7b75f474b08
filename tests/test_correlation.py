"""Correlation of reports, registry records and incidents, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from rasid.core.errors import NotFound
from rasid.identity import service as identity
from rasid.intel import correlation, service
from rasid.intel.schemas import ObservableIn, ReportIn, ReportLinkIn
from rasid.registry import service as registry
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    NameIn,
    SourceIn,
)
from tests.conftest import World, login
from tests.test_intel import new_report, report_in

PHONE = "777123456"
NORMALISED = "+967777123456"


@dataclass
class Setup:
    first: int  # moi-ct, phone
    second: int  # moi-ct, same phone
    guard: int  # coastguard, same phone
    linking: int  # moi-ct, links the person, no observable
    person: int  # moi-ct TLP:AMBER person with the phone
    incident: int  # moi-ct TLP:AMBER incident involving the person


def _phone_report(title: str) -> ReportIn:
    return report_in(title=title, observables=[ObservableIn(kind="phone", value=PHONE)])


def make(factory: sessionmaker[Session], world: World) -> Setup:
    first = new_report(factory, world, _phone_report("Skiff at Mukalla"))
    second = new_report(factory, world, _phone_report("Courier in Aden"))
    guard = new_report(factory, world, _phone_report("Coast guard sighting"), username="watch")
    with factory.begin() as db:
        person, _ = registry.create_entity(
            db,
            world.actor("analyst"),
            EntityIn(
                kind="person",
                marking="TLP:AMBER",
                names=[NameIn(name="سالم باعوضة")],
                identifiers=[IdentifierIn(kind="phone", value="0777123456")],
            ),
        )
        incident, _ = registry.create_incident(
            db,
            world.actor("analyst"),
            IncidentIn(
                title="Weapons seized at checkpoint",
                event_date=date(2025, 3, 1),
                marking="TLP:AMBER",
                sources=[SourceIn(description="بلاغ", reliability="B", credibility=2)],
                involvements=[InvolvementIn(entity_id=person.id, role="suspect")],
            ),
        )
        person_id, incident_id = person.id, incident.id
    linking = new_report(
        factory,
        world,
        report_in(
            title="Network overview",
            links=[ReportLinkIn(object_type="registry_entity", object_id=person_id)],
        ),
    )
    return Setup(first, second, guard, linking, person_id, incident_id)


def _by_kind(rows: list[correlation.Correlation], kind: str) -> correlation.Correlation | None:
    return next((c for c in rows if c.kind == kind), None)


def test_reports_entities_and_incidents_correlate_for_whoever_may_see_them(
    world: World, factory: sessionmaker[Session]
) -> None:
    s = make(factory, world)
    with factory() as db:
        rows = correlation.correlations(db, world.actor("analyst"), s.first)
    phone = _by_kind(rows, "phone")
    assert phone is not None
    assert (phone.value, phone.too_common) == (NORMALISED, False)
    # the coast guard's report is hidden from the analyst: not listed
    assert [r.id for r in phone.reports] == [s.second, s.linking]
    assert phone.reports[0].title == "Courier in Aden"
    assert phone.reports[0].marking == "TLP:AMBER"
    assert [(e.id, e.kind) for e in phone.entities] == [(s.person, "person")]
    assert [(i.id, i.title) for i in phone.incidents] == [
        (s.incident, "Weapons seized at checkpoint")
    ]

    # the report linking the person correlates back through the link
    with factory() as db:
        rows = correlation.correlations(db, world.actor("analyst"), s.linking)
    link = _by_kind(rows, "registry_entity")
    assert link is not None
    assert link.value == "سالم باعوضة"
    assert [i.id for i in link.incidents] == [s.incident]
    assert link.reports == []

    # the coast guard sees neither the moi-ct reports nor the person: no hint at all
    with factory() as db:
        assert correlation.correlations(db, world.actor("watch"), s.guard) == []


def test_another_organisation_sees_only_its_own_side(
    world: World, factory: sessionmaker[Session]
) -> None:
    s = make(factory, world)
    # a second coast guard report with the same phone correlates to the first one only
    other = new_report(factory, world, _phone_report("Second sighting"), username="watch")
    with factory() as db:
        rows = correlation.correlations(db, world.actor("watch"), other)
        assert len(rows) == 1
        assert [r.id for r in rows[0].reports] == [s.guard]
        assert rows[0].entities == [] and rows[0].incidents == []
        # and a report the reader may not open has no correlations for them either
        with pytest.raises(NotFound):
            correlation.correlations(db, world.actor("watch"), s.first)


def test_common_values_stop_correlating_above_the_threshold(
    world: World, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    s = make(factory, world)
    # two other reports (one hidden from the analyst) and one person: three occurrences
    monkeypatch.setenv(correlation.ENV_MAX, "3")
    with factory() as db:
        phone = _by_kind(correlation.correlations(db, world.actor("analyst"), s.first), "phone")
        assert phone is not None and not phone.too_common
    monkeypatch.setenv(correlation.ENV_MAX, "2")
    with factory() as db:
        rows = correlation.correlations(db, world.actor("analyst"), s.first)
        phone = _by_kind(rows, "phone")
        assert phone is not None
        assert phone.too_common
        assert (phone.reports, phone.entities, phone.incidents) == ([], [], [])
        assert phone.model_dump()["value"] == NORMALISED
    monkeypatch.setenv(correlation.ENV_MAX, "not a number")
    assert correlation.max_occurrences() == correlation.DEFAULT_MAX
    monkeypatch.delenv(correlation.ENV_MAX)
    assert correlation.max_occurrences() == 100


def test_correlations_api_and_report_page(
    world: World, factory: sessionmaker[Session], client: TestClient
) -> None:
    s = make(factory, world)
    with factory.begin() as db:
        tokens = {
            u: identity.create_token(db, world.actor("admin"), u).plaintext
            for u in ("analyst", "watch")
        }
    auth = {u: {"Authorization": f"Bearer {t}"} for u, t in tokens.items()}
    got = client.get(f"/api/v1/intel/reports/{s.first}/correlations", headers=auth["analyst"])
    assert got.status_code == 200
    body = got.json()
    phone = next(c for c in body if c["kind"] == "phone")
    assert phone["value"] == NORMALISED
    assert phone["too_common"] is False
    assert [r["id"] for r in phone["reports"]] == [s.second, s.linking]
    assert phone["entities"][0] == {"id": s.person, "label": "سالم باعوضة", "kind": "person"}
    assert phone["incidents"] == [{"id": s.incident, "title": "Weapons seized at checkpoint"}]
    hidden = client.get(f"/api/v1/intel/reports/{s.first}/correlations", headers=auth["watch"])
    assert hidden.status_code == 404
    assert (
        client.get(f"/api/v1/intel/reports/{s.guard}/correlations", headers=auth["watch"]).json()
        == []
    )

    login(client, "analyst")
    page = client.get(f"/intel/reports/{s.first}")
    assert page.status_code == 200
    assert 'id="correlations"' in page.text
    assert f'href="/intel/reports/{s.second}"' in page.text
    assert f'href="/registry/entities/{s.person}"' in page.text
    assert f'href="/registry/incidents/{s.incident}"' in page.text
    assert "Coast guard sighting" not in page.text
    with factory() as db:
        assert service.get_report(db, world.actor("analyst"), s.first).id == s.first


def test_report_page_says_when_a_value_is_too_common(
    world: World,
    factory: sessionmaker[Session],
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = make(factory, world)
    monkeypatch.setenv(correlation.ENV_MAX, "1")
    login(client, "analyst")
    page = client.get(f"/intel/reports/{s.first}")
    assert page.status_code == 200
    assert 'class="muted too-common"' in page.text
    assert f'href="/intel/reports/{s.second}"' not in page.text
