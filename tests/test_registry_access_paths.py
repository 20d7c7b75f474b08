"""Every registry path against the access rule: a hidden record answers like a missing one.

One scenario is built per test through ``rasid.registry.service`` (never through the UI):
persons, incidents and links under every marking, owned by moi-ct (AMBER+STRICT, AMBER
released to nobody, AMBER released to partner, TLP:RED for ``analyst`` only, GREEN, CLEAR)
and by coastguard (AMBER+STRICT). The tables below then drive the users partner, watch,
observer and admin (moi-ct, but not a TLP:RED recipient) through every page, API route,
search, pick list, export, screening, duplicate queue, merge, link and update.

Expected visibility is computed here from the rule itself (:func:`sees`), independently of
``access.visible_filter``. The tests of section 13 each reproduce a leak found in the review
(entity filter of the incident list/map, incident versions, search date filter, link delete,
duplicate dismiss, merge/undo, import refs, incident edit, audit gaps); they failed before
the fixes in ``registry/`` and ``access/`` and now guard against regressions.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from rasid.audit.models import AuditEntry
from rasid.core.errors import ValidationFailed
from rasid.core.settings import Settings
from rasid.identity import service as identity
from rasid.identity.models import User
from rasid.registry import io as registry_io
from rasid.registry import merge as merge_service
from rasid.registry import service
from rasid.registry.attachments import Upload
from rasid.registry.models import DuplicateCandidate, Involvement
from rasid.registry.schemas import (
    EntityIn,
    IdentifierIn,
    IncidentIn,
    InvolvementIn,
    LinkIn,
    NameIn,
    SourceIn,
)
from tests.conftest import World

CLEAR, GREEN, AMBER, STRICT, RED = (
    "TLP:CLEAR",
    "TLP:GREEN",
    "TLP:AMBER",
    "TLP:AMBER+STRICT",
    "TLP:RED",
)
ORG = {
    "analyst": "moi-ct",
    "analyst2": "moi-ct",
    "admin": "moi-ct",
    "auditor": "moi-ct",
    "watch": "coastguard",
    "partner": "partner",
    "observer": "observer",
}
OUTSIDE_COMMUNITY = {"observer"}
WRITERS = {"analyst", "analyst2", "watch", "partner"}
READERS = ("partner", "watch", "observer", "admin")  # the users the tables drive
MISSING = 987_650  # ids from here up do not exist
RECENT = date.today() - timedelta(days=20)
FALCON_DAY = date.today() - timedelta(days=200)  # the AMBER+STRICT incident, alone on its day


# --- the rule, written out independently of access.visible_filter -------------------------------


@dataclass(frozen=True)
class Rec:
    """One protected row of the scenario and what only it carries (to look for in answers)."""

    key: str
    id: int
    marking: str
    owner: str = "moi-ct"
    released: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    ends: tuple[str, str] | None = None  # links: (source key, target key)

    def seen_by(self, user: str) -> bool:
        return sees(user, self.marking, self.owner, self.released, self.recipients)


def sees(
    user: str,
    marking: str,
    owner: str,
    released: Iterable[str] = (),
    recipients: Iterable[str] = (),
) -> bool:
    org = ORG[user]
    if marking == CLEAR:
        return True
    if marking == GREEN:
        return user not in OUTSIDE_COMMUNITY
    if marking == AMBER:
        return org == owner or org in set(released)
    if marking == STRICT:
        return org == owner
    return user in set(recipients)  # RED


# --- the scenario ----------------------------------------------------------------------------------

# key, marking, owner's user, releasable_to, recipients, arabic name, latin name, phone
PEOPLE: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], str, str, str], ...] = (
    ("clear", CLEAR, "analyst", (), (), "مرزوق الحنشي", "Marzouq Hanashi", "+967 711 100 100"),
    ("clear2", CLEAR, "analyst", (), (), "وهبان الشرجبي", "Wahban Sharjabi", "711200200"),
    ("green", GREEN, "analyst", (), (), "عنبر الصبيحي", "Anbar Subayhi", "711300300"),
    ("amber", AMBER, "analyst", (), (), "زعفران المخلافي", "Zaafaran Mikhlafi", "711400400"),
    ("strict", STRICT, "analyst", (), (), "دعفش البكيلي", "Daafash Bakili", "711500500"),
    ("red", RED, "analyst", (), ("analyst",), "شمسان الكثيري", "Shamsan Kathiri", "711600600"),
    (
        "amber_partner",
        AMBER,
        "analyst",
        ("partner",),
        (),
        "ريحان العبدلي",
        "Rayhan Abdali",
        "711700700",
    ),
    ("coast", STRICT, "watch", (), (), "صقر الزبيدي", "Saqr Zubaidi", "711800800"),
)
# pairs of twins (same names, no identifiers) for the duplicate review queue
TWINS: tuple[tuple[str, str, str, str, str], ...] = (
    ("dup_clear_a", CLEAR, "dup_clear_b", CLEAR, "حمود الشامي|Hamoud Shami"),
    ("dup_green", GREEN, "dup_strict", STRICT, "فضل القميري|Fadl Qumairi"),
    ("dup_clear_c", CLEAR, "dup_red", RED, "جعبل السقاف|Jaabal Saqqaf"),
)
# key, marking, owner's user, recipients, title, day, involved keys (role), attachment?
INCIDENTS: tuple[tuple[str, str, str, tuple[str, ...], str, date, tuple[str, ...], bool], ...] = (
    (
        "i_clear",
        CLEAR,
        "analyst",
        (),
        "Kestrel roadside ambush",
        RECENT,
        ("clear", "clear2", "green", "amber", "strict", "red", "amber_partner"),
        True,
    ),
    ("i_green", GREEN, "analyst", (), "Osprey checkpoint raid", RECENT, ("clear",), False),
    ("i_amber", AMBER, "analyst", (), "Harrier port seizure", RECENT, ("clear",), True),
    ("i_strict", STRICT, "analyst", (), "Falcon safehouse raid", FALCON_DAY, ("clear",), True),
    ("i_red", RED, "analyst", ("analyst",), "Merlin courier arrest", RECENT, ("clear",), True),
    ("i_coast", STRICT, "watch", (), "Gannet dhow boarding", RECENT, ("clear",), True),
)
# key, marking, source, target, evidence
LINKS: tuple[tuple[str, str, str, str, str], ...] = (
    ("l_clear2", CLEAR, "clear", "clear2", "EVIDCLEARTWO"),
    ("l_green", CLEAR, "clear", "green", "EVIDGREEN"),
    ("l_amber", CLEAR, "clear", "amber", "EVIDAMBER"),
    ("l_strict", CLEAR, "clear", "strict", "EVIDSTRICT"),
    ("l_red", CLEAR, "clear", "red", "EVIDRED"),
    ("l_partner", CLEAR, "clear", "amber_partner", "EVIDPARTNER"),
    ("l_hidden", STRICT, "clear", "clear2", "EVIDHIDDENLINK"),  # both ends visible, link not
)
# The table the route tests walk: for each user, one record per reason the rule hides it
# (AMBER+STRICT of another organisation, AMBER not released to it, AMBER released to someone
# else, TLP:RED without being a recipient, GREEN outside the community). Checked against
# sees() in test_the_table_is_the_rule; listings, counts and exports cover every record.
HIDDEN: dict[str, tuple[str, ...]] = {
    "partner": ("amber", "strict", "red"),
    "watch": ("amber", "strict", "red", "amber_partner"),
    "observer": ("green", "amber", "strict", "red", "amber_partner"),
    "admin": ("red", "coast"),
}
HIDDEN_INCIDENTS: dict[str, tuple[str, ...]] = {
    "partner": ("i_amber", "i_strict", "i_red"),
    "watch": ("i_amber", "i_strict", "i_red"),
    "observer": ("i_green", "i_amber", "i_strict", "i_red"),
    "admin": ("i_red", "i_coast"),
}
ALL_PARTS = frozenset({"people", "twins", "incidents", "links"})
SESSION_USERS = ("analyst", "analyst2", "watch", "partner", "observer", "admin", "auditor")


@dataclass
class Scenario:
    factory: sessionmaker[Session]
    world: World
    settings: Settings
    client: TestClient
    entities: dict[str, Rec] = field(default_factory=dict)
    incidents: dict[str, Rec] = field(default_factory=dict)
    links: dict[str, Rec] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)  # incident key -> attached source id
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # cookie, csrf

    def as_(self, username: str) -> Browser:
        cookie, csrf = self.sessions[username]
        return Browser(self.client, cookie, csrf)

    def eid(self, key: str) -> int:
        return self.entities[key].id

    def link_seen(self, user: str, link: Rec) -> bool:
        assert link.ends
        return link.seen_by(user) and all(self.entities[k].seen_by(user) for k in link.ends)

    def visible_entities(self, user: str) -> set[int]:
        return {r.id for r in self.entities.values() if r.seen_by(user)}

    def hidden_entities(self, user: str) -> list[Rec]:
        return [r for r in self.entities.values() if not r.seen_by(user)]

    def visible_incidents(self, user: str) -> set[int]:
        return {r.id for r in self.incidents.values() if r.seen_by(user)}

    def hidden_incidents(self, user: str) -> list[Rec]:
        return [r for r in self.incidents.values() if not r.seen_by(user)]

    def table(self, user: str) -> list[Rec]:
        """The hidden persons the route tables walk for ``user`` (see HIDDEN)."""
        return [self.entities[k] for k in HIDDEN[user]]

    def table_incidents(self, user: str) -> list[Rec]:
        return [self.incidents[k] for k in HIDDEN_INCIDENTS[user]]

    def hidden_markers(self, user: str) -> list[str]:
        """Strings that only rows hidden from ``user`` carry (names, phones, titles, evidence)."""
        out = [m for r in self.hidden_entities(user) for m in r.markers]
        out += [m for r in self.hidden_incidents(user) for m in r.markers]
        out += [m for r in self.links.values() if not self.link_seen(user, r) for m in r.markers]
        return out


class Browser:
    """One signed-in user on the shared TestClient (session cookie + CSRF header)."""

    def __init__(self, client: TestClient, cookie: str, csrf: str) -> None:
        self.client, self.cookie, self.csrf = client, cookie, csrf
        self._memo: dict[str, Response] = {}

    def once(self, method: str, url: str, **kw: Any) -> Response:
        """The same request's answer asked once (for the 'missing id' side of comparisons)."""
        key = json.dumps([method, url, kw], sort_keys=True, default=str)
        if key not in self._memo:
            self._memo[key] = getattr(self, method)(url, **kw)
        return self._memo[key]

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        self.client.cookies.clear()
        return {"Cookie": f"rasid_session={self.cookie}", "X-CSRF-Token": self.csrf} | (extra or {})

    def get(self, url: str, **kw: Any) -> Response:
        return self.client.get(
            url, headers=self._headers(kw.pop("headers", None)), follow_redirects=False, **kw
        )

    def post(self, url: str, **kw: Any) -> Response:
        return self.client.post(
            url, headers=self._headers(kw.pop("headers", None)), follow_redirects=False, **kw
        )

    def put(self, url: str, **kw: Any) -> Response:
        return self.client.put(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url: str, **kw: Any) -> Response:
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


def _person(marking: str, names: tuple[str, str], phone: str = "", **grants: Any) -> EntityIn:
    return EntityIn(
        kind="person",
        marking=marking,
        names=[
            NameIn(name=names[0], name_type="as_written"),
            NameIn(name=names[1], name_type="latin"),
        ],
        identifiers=[IdentifierIn(kind="phone", value=phone)] if phone else [],
        nationality="YE",
        lat=15.35,
        lon=44.2,
        **grants,
    )


def build(
    world: World,
    factory: sessionmaker[Session],
    settings: Settings,
    client: TestClient,
    parts: frozenset[str] = ALL_PARTS,
) -> Scenario:
    """The scenario through the registry service; ``parts`` keeps the leak tests quick."""
    sc = Scenario(factory, world, settings, client)
    actors = {u: world.actor(u) for u in ("analyst", "watch")}
    storage = settings.data_dir / "attachments"
    with factory.begin() as db:
        for key, marking, owner, released, recipients, ar, latin, phone in (
            PEOPLE if "people" in parts else ()
        ):
            data = _person(
                marking,
                (ar, latin),
                phone,
                releasable_to=list(released),
                recipients=list(recipients),
            )
            entity, _ = service.create_entity(db, actors[owner], data)
            sc.entities[key] = Rec(
                key, entity.id, marking, ORG[owner], released, recipients, (ar, latin, phone[-9:])
            )
        for key_a, marking_a, key_b, marking_b, both in TWINS if "twins" in parts else ():
            ar, latin = both.split("|")
            for key, marking in ((key_a, marking_a), (key_b, marking_b)):
                recipients = ("analyst",) if marking == RED else ()
                entity, _ = service.create_entity(
                    db,
                    actors["analyst"],
                    _person(marking, (ar, latin), recipients=list(recipients)),
                )
                sc.entities[key] = Rec(key, entity.id, marking, "moi-ct", (), recipients)
        for key, marking, owner, recipients, title, day, involved, attached in (
            INCIDENTS if "incidents" in parts else ()
        ):
            incident, _ = service.create_incident(
                db,
                actors[owner],
                IncidentIn(
                    title=title,
                    event_date=day,
                    marking=marking,
                    recipients=list(recipients),
                    lat=15.4,
                    lon=44.1,
                    sources=[
                        SourceIn(description=f"report on {title}", reliability="B", credibility=2)
                    ],
                    involvements=[
                        InvolvementIn(
                            entity_id=sc.eid(k),
                            role="suspect" if k.startswith("clear") else "perpetrator",
                        )
                        for k in involved
                    ],
                ),
                attachments=[Upload(0, f"{key}.txt", f"{title} source\n".encode())]
                if attached
                else None,
                storage=storage,
            )
            db.flush()
            sc.incidents[key] = Rec(key, incident.id, marking, ORG[owner], (), recipients, (title,))
            if attached:
                sc.sources[key] = incident.sources[0].id
        for key, marking, source, target, evidence in LINKS if "links" in parts else ():
            link = service.create_link(
                db,
                actors["analyst"],
                LinkIn(
                    source_id=sc.eid(source),
                    target_id=sc.eid(target),
                    link_type="associate_of",
                    marking=marking,
                    evidence=evidence,
                ),
            )
            sc.links[key] = Rec(
                key, link.id, marking, "moi-ct", markers=(evidence,), ends=(source, target)
            )
        # every user reads English; the administrator has MFA (admins must) and passed it
        db.execute(update(User).values(language="en"))
        db.execute(
            update(User)
            .where(User.username == "admin")
            .values(mfa_enabled=True, mfa_secret="JBSWY3DPEHPK3PXP")
        )
        for username in SESSION_USERS:
            user = db.scalar(select(User).where(User.username == username))
            assert user is not None
            new = identity.start_session(
                db,
                settings,
                user,
                mfa_passed=True,
                address="testclient",
                user_agent="t",
                request_id="setup",
            )
            sc.sessions[username] = (new.cookie_value, new.row.csrf_secret)
    return sc


@pytest.fixture
def sc(
    world: World, factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> Scenario:
    return build(world, factory, settings, client, ALL_PARTS - {"twins"})


@pytest.fixture
def make(
    world: World, factory: sessionmaker[Session], settings: Settings, client: TestClient
) -> Callable[..., Scenario]:
    def _make(*parts: str) -> Scenario:
        return build(world, factory, settings, client, frozenset(parts))

    return _make


def scan(sc: Scenario) -> dict[tuple[str, str], int]:
    """Fill the duplicate review queue (as analyst); the pair ids by (key a, key b)."""
    with sc.factory.begin() as db:
        assert merge_service.scan(db, sc.world.actor("analyst")) == len(TWINS)
        by_id = {r.id: r.key for r in sc.entities.values()}
        return {
            (by_id[p.entity_a], by_id[p.entity_b]): p.id
            for p in db.scalars(select(DuplicateCandidate)).all()
        }


# --- comparing answers -------------------------------------------------------------------------


def _norm(text: str, ids: Iterable[int]) -> str:
    for value in sorted({str(i) for i in ids}, key=len, reverse=True):
        text = re.sub(rf"(?<![0-9]){value}(?![0-9])", "#ID", text)
    return text


def same_answer(
    hidden: Response, hidden_ids: Iterable[int], missing: Response, missing_ids: Iterable[int]
) -> str | None:
    """None when both answers are the same once the ids asked for are blanked out."""
    ids = [*hidden_ids, *missing_ids]
    if hidden.status_code != missing.status_code:
        return f"status {hidden.status_code} (hidden) != {missing.status_code} (missing)"
    if _norm(hidden.text, ids) != _norm(missing.text, ids):
        return f"body differs: {hidden.text[:300]!r} vs {missing.text[:300]!r}"
    return None


def assert_no_markers(text: str, markers: Iterable[str], where: str) -> None:
    leaked = [m for m in markers if m and m in text]
    assert not leaked, f"{where}: shows {leaked}"


def ids_in(pattern: str, text: str) -> set[int]:
    return {int(m) for m in re.findall(pattern, text)}


def audit_refusals(factory: sessionmaker[Session]) -> list[tuple[str, str, str | None]]:
    with factory() as db:
        return [
            (e.username, e.object_type or "", e.object_id)
            for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused"))
        ]


# --- 0. the route table is the rule -------------------------------------------------------------


def test_the_table_is_the_rule(make: Callable[..., Scenario]) -> None:
    """HIDDEN covers every reason to hide; sees() agrees with the service's own filter."""
    sc = make("people", "incidents")
    for user in READERS:
        assert all(not r.seen_by(user) for r in sc.table(user)), user
        assert all(not r.seen_by(user) for r in sc.table_incidents(user)), user

        def reason(r: Rec, user: str = user) -> tuple[object, ...]:
            return (r.marking, r.owner == ORG[user], bool(r.released), user in r.recipients)

        assert {reason(r) for r in sc.hidden_entities(user)} == {reason(r) for r in sc.table(user)}
        with sc.factory() as db:
            rows, total = service.list_entities(
                db, sc.world.actor(user), service.EntityFilter(), limit=500
            )
            assert {e.id for e in rows} == sc.visible_entities(user) and total == len(rows)
            rows_i, _ = service.list_incidents(
                db, sc.world.actor(user), service.IncidentFilter(), limit=500
            )
            assert {i.id for i in rows_i} == sc.visible_incidents(user)


# --- 1. by-id routes: a hidden record answers exactly like a missing one -----------------------

ENTITY_ROUTES = (
    "/registry/entities/{id}",
    "/registry/entities/{id}/edit",
    "/registry/entities/{id}/versions",
    "/registry/entities/{id}/chart",
    "/registry/links/new?source={id}",
    "/api/v1/entities/{id}",
    "/api/v1/entities/{id}/versions",
    "/api/v1/entities/{id}/links",
    "/api/v1/entities/{id}/incidents",
    "/api/v1/graph/{id}",
)
INCIDENT_ROUTES = (
    "/registry/incidents/{id}",
    "/registry/incidents/{id}/edit",
    "/registry/incidents/{id}/versions",
    "/registry/incidents/{id}/sources/{source}/attachment",
    "/api/v1/incidents/{id}",
    "/api/v1/incidents/{id}/versions",
)
MAIN_PEOPLE = frozenset(spec[0] for spec in PEOPLE)


def test_hidden_records_answer_like_missing_ones_on_every_by_id_route(sc: Scenario) -> None:
    problems: list[str] = []
    checked = 0
    clear, i_clear = sc.eid("clear"), sc.incidents["i_clear"].id
    for user in READERS:
        browser = sc.as_(user)
        for rec in sc.table(user):
            for route in ENTITY_ROUTES:
                hidden = browser.get(route.format(id=rec.id))
                missing = browser.once("get", route.format(id=MISSING))
                checked += 1
                if (why := same_answer(hidden, [rec.id], missing, [MISSING])) is not None:
                    problems.append(f"{user} {route} {rec.key}: {why}")
                elif hidden.status_code not in (403, 404):
                    problems.append(f"{user} {route} {rec.key}: {hidden.status_code}")
        for rec in sc.table_incidents(user):
            source = sc.sources.get(rec.key, 1)
            for route in INCIDENT_ROUTES:
                hidden = browser.get(route.format(id=rec.id, source=source))
                missing = browser.once("get", route.format(id=MISSING, source=source))
                checked += 1
                if (why := same_answer(hidden, [rec.id], missing, [MISSING])) is not None:
                    problems.append(f"{user} {route} {rec.key}: {why}")
                elif hidden.status_code not in (403, 404):
                    problems.append(f"{user} {route} {rec.key}: {hidden.status_code}")
        # positive control (a writer and a reader): the same routes open a visible record
        if user not in ("watch", "observer"):
            continue
        for route in ENTITY_ROUTES:
            writes = route.endswith("/edit") or "links/new" in route
            got = browser.get(route.format(id=clear))
            expected = 403 if writes and user not in WRITERS else 200
            assert got.status_code == expected, (user, route, got.text[:200])
        for route in INCIDENT_ROUTES:
            got = browser.get(route.format(id=i_clear, source=sc.sources["i_clear"]))
            expected = 403 if route.endswith("/edit") and user not in WRITERS else 200
            assert got.status_code == expected, (user, route, got.text[:200])
    # a visible incident does not serve the document of a hidden incident's source
    for user in READERS:
        browser = sc.as_(user)
        route = "/registry/incidents/{id}/sources/{source}/attachment"
        nowhere = browser.get(route.format(id=i_clear, source=MISSING))
        for rec in sc.hidden_incidents(user):
            if rec.key in sc.sources:
                other = browser.get(route.format(id=i_clear, source=sc.sources[rec.key]))
                assert same_answer(other, [sc.sources[rec.key]], nowhere, [MISSING]) is None
                assert other.status_code == 404
    assert not problems, "\n".join(problems)
    assert checked > 200


# --- 2. a visible record shows only visible links, involvements and incidents ------------------


def test_visible_records_show_only_visible_links_involvements_and_incidents(sc: Scenario) -> None:
    clear, i_clear = sc.eid("clear"), sc.incidents["i_clear"].id
    involved_keys = next(spec[6] for spec in INCIDENTS if spec[0] == "i_clear")
    for user in READERS:
        browser = sc.as_(user)
        markers = sc.hidden_markers(user)
        visible_e, visible_i = sc.visible_entities(user), sc.visible_incidents(user)
        seen_links = {r.id for r in sc.links.values() if sc.link_seen(user, r)}
        ends = {sc.eid(k) for r in sc.links.values() if sc.link_seen(user, r) for k in r.ends or ()}
        involved = {sc.eid(k) for k in involved_keys if sc.entities[k].seen_by(user)}

        page = browser.get(f"/registry/entities/{clear}")
        assert page.status_code == 200
        assert_no_markers(page.text, markers, f"{user} entity page")
        assert ids_in(r'href="/registry/entities/(\d+)"', page.text) == ends - {clear}, user
        assert "EVIDCLEARTWO" in page.text  # the positive control: a fully visible link
        assert ids_in(r'href="/registry/incidents/(\d+)"', page.text) == visible_i, user

        graph = browser.get(f"/api/v1/graph/{clear}").json()
        assert {int(n["id"][1:]) for n in graph["nodes"]} == ends | {clear}, user
        assert {int(e["id"][1:]) for e in graph["edges"]} == seen_links, user
        assert_no_markers(json.dumps(graph, ensure_ascii=False), markers, f"{user} graph")
        for other in ends - {clear}:  # expanding a neighbour stays inside the rule too
            hop = browser.get(f"/api/v1/graph/{other}").json()
            assert {int(n["id"][1:]) for n in hop["nodes"]} <= visible_e

        links = browser.get(f"/api/v1/entities/{clear}/links").json()
        assert {lk["id"] for lk in links} == seen_links, user
        assert {lk["target_id"] for lk in links} | {lk["source_id"] for lk in links} <= visible_e

        incidents = browser.get(f"/api/v1/entities/{clear}/incidents").json()
        assert {i["id"] for i in incidents} == visible_i, user
        for inc in incidents:
            assert {v["entity_id"] for v in inc["involvements"]} <= visible_e, user

        page = browser.get(f"/registry/incidents/{i_clear}")
        assert page.status_code == 200
        assert_no_markers(page.text, markers, f"{user} incident page")
        assert ids_in(r'href="/registry/entities/(\d+)"', page.text) == involved, user

        api = browser.get(f"/api/v1/incidents/{i_clear}").json()
        assert {v["entity_id"] for v in api["involvements"]} == involved, user

        form = browser.get(f"/registry/incidents/{i_clear}/edit")
        if user in WRITERS:
            assert form.status_code == 200
            picked = ids_in(r'name="involvement_\d+_entity" value="(\d+)"', form.text)
            assert picked == involved, user
            assert_no_markers(form.text, markers, f"{user} incident form")
        else:
            assert form.status_code == 403


# --- 3. listings, totals, map and dashboard figures count only what may be opened -------------


def test_listings_totals_map_and_dashboard_count_only_visible_rows(sc: Scenario) -> None:
    for user in READERS:
        browser = sc.as_(user)
        markers = sc.hidden_markers(user)
        visible_e, visible_i = sc.visible_entities(user), sc.visible_incidents(user)

        page = browser.get("/registry/entities")
        assert ids_in(r'<tr data-id="(\d+)"', page.text) == visible_e, user
        total = re.search(r"(\d+) records?\b", page.text)
        assert total and int(total.group(1)) == len(visible_e), user
        assert_no_markers(page.text, markers, f"{user} records list")

        page = browser.get("/registry/incidents")
        assert ids_in(r'<tr data-id="(\d+)"', page.text) == visible_i, user
        total = re.search(r'id="incident-count">\s*(\d+) incidents?', page.text)
        assert total and int(total.group(1)) == len(visible_i), user
        assert_no_markers(page.text, markers, f"{user} incidents list")
        falcon = browser.get("/registry/incidents", params={"q": "Falcon"})
        expect = 1 if sc.incidents["i_strict"].seen_by(user) else 0
        assert re.search(rf'id="incident-count">\s*{expect} incidents?', falcon.text), user

        api = browser.get("/api/v1/entities", params={"limit": 500})
        assert {e["id"] for e in api.json()} == visible_e, user
        assert api.headers["x-total-count"] == str(len(visible_e))
        assert_no_markers(api.text, markers, f"{user} API entities")

        api = browser.get("/api/v1/incidents", params={"limit": 500})
        assert {i["id"] for i in api.json()} == visible_i, user
        assert api.headers["x-total-count"] == str(len(visible_i))
        for inc in api.json():
            assert {v["entity_id"] for v in inc["involvements"]} <= visible_e, user
        assert_no_markers(api.text, markers, f"{user} API incidents")
        red = browser.get("/api/v1/incidents", params={"marking": RED})
        assert red.json() == [] and red.headers["x-total-count"] == "0"

        geo = browser.get("/api/v1/incidents.geojson").json()
        assert {f["properties"]["id"] for f in geo["features"]} == visible_i, user

        home = browser.get("/")
        figures = dict(
            re.findall(r'data-key="(\w+)">.*?<span class="value">(\d+)<', home.text, re.S)
        )
        assert figures["persons"] == str(len(visible_e)), (user, figures)
        assert figures["incidents_12m"] == str(len(visible_i)), (user, figures)
        assert figures["groups"] == "0" and figures["vessels"] == "0"


# --- 4. search (both scripts, identifiers), record picker, API search ---------------------------


def test_search_pick_and_api_search_never_return_a_hidden_record(sc: Scenario) -> None:
    people = {spec[0]: spec for spec in PEOPLE}
    for user in READERS:
        browser = sc.as_(user)
        wanted = sc.table(user)
        for rec in [*wanted, sc.entities["clear"]]:
            _, _, _, _, _, arabic, latin, phone = people[rec.key]
            for query in (latin, arabic, phone):
                others = [m for m in rec.markers if m not in query and query not in m]
                found: dict[str, set[int]] = {}
                # type=person skips the (public) gazetteer and incident lookups; the plain
                # query is asked once per user below
                params = {"q": query, "type": "person"}
                api = browser.get("/api/v1/search", params=params)
                found["api"] = {h["id"] for h in api.json()["results"] if h["type"] == "person"}
                page = browser.get("/registry/search", params=params)
                found["page"] = ids_in(r'data-id="(\d+)" data-type="person"', page.text)
                texts = [api.text, page.text]
                if query == latin:  # the picker searches the same way; one query is enough
                    pick = browser.get("/registry/pick", params={"q": query, "target": "x"})
                    found["pick"] = ids_in(r'data-id="(\d+)"', pick.text)
                    texts.append(pick.text)
                for route, ids in found.items():
                    assert (rec.id in ids) is rec.seen_by(user), (user, route, query, ids)
                if not rec.seen_by(user):
                    for text in texts:
                        assert_no_markers(text, others, f"{user} search {query}")
        for rec in wanted[:1]:  # the plain search box, no type
            _, _, _, _, _, arabic, latin, phone = people[rec.key]
            # a name also runs the slow (public) gazetteer look-up: one user is enough
            for query in (phone, latin) if user == "partner" else (phone,):
                api = browser.get("/api/v1/search", params={"q": query}).json()["results"]
                page = browser.get("/registry/search", params={"q": query}).text
                assert rec.id not in {h["id"] for h in api if h["type"] == "person"}
                assert rec.id not in ids_in(r'data-id="(\d+)" data-type="person"', page)
        for rec in [*sc.table_incidents(user), sc.incidents["i_clear"]]:
            title = rec.markers[0]
            api = browser.get("/api/v1/search", params={"q": title, "type": "incident"})
            page = browser.get("/registry/search", params={"q": title, "type": "incident"})
            ids = {h["id"] for h in api.json()["results"]}
            ids_page = ids_in(r'data-id="(\d+)" data-type="incident"', page.text)
            assert (rec.id in ids) is rec.seen_by(user), (user, title)
            assert (rec.id in ids_page) is rec.seen_by(user), (user, title)


# --- 5. exports ------------------------------------------------------------------------------------


def test_exports_carry_only_visible_rows_and_involvements(sc: Scenario) -> None:
    for user in READERS:
        browser = sc.as_(user)
        markers = sc.hidden_markers(user)
        for kind, expected in (
            ("persons", sc.visible_entities(user)),
            ("incidents", sc.visible_incidents(user)),
        ):
            for fmt in ("csv", "geojson"):
                got = browser.get("/registry/export", params={"kind": kind, "format": fmt})
                assert got.status_code == 200, got.text[:300]
                text = got.content.decode("utf-8-sig")
                if fmt == "csv":
                    ids = {int(r["id"]) for r in csv.DictReader(io.StringIO(text))}
                else:
                    ids = {int(f["properties"]["id"]) for f in got.json()["features"]}
                assert ids == expected, (user, kind, fmt)
                assert got.headers["x-record-count"] == str(len(expected))
                assert got.headers["x-red-withheld"] == "0"  # none of them is a RED recipient
                assert_no_markers(text, markers, f"{user} {kind}.{fmt}")
        # the involved column of the CLEAR incident names only visible records
        rows = csv.DictReader(
            io.StringIO(
                browser.get(
                    "/registry/export", params={"kind": "incidents", "format": "csv"}
                ).content.decode("utf-8-sig")
            )
        )
        involved = next(r["involved"] for r in rows if r["id"] == str(sc.incidents["i_clear"].id))
        assert "Marzouq" in involved or "مرزوق" in involved


# --- 6. screening a list ---------------------------------------------------------------------------


def test_screening_a_list_matches_only_visible_persons(sc: Scenario) -> None:
    lines = ["name,name_ar,phone"] + [f"{s[6]},{s[5]},{s[7]}" for s in PEOPLE]
    upload = "\n".join(lines).encode()
    for user in READERS:
        browser = sc.as_(user)
        visible = sc.visible_entities(user)
        if user in ("watch", "observer"):  # the page shows what the file carries
            page = browser.post(
                "/registry/screen",
                files={"file": ("list.csv", upload, "text/csv")},
                data={"output": "page"},
            )
            assert page.status_code == 200, page.text[:300]
            found = ids_in(r'href="/registry/entities/(\d+)"', page.text)
            assert found <= visible and sc.eid("clear") in found, (user, found)
        out = browser.post(
            "/registry/screen",
            files={"file": ("list.csv", upload, "text/csv")},
            data={"output": "csv"},
        )
        rows = list(csv.DictReader(io.StringIO(out.content.decode("utf-8-sig"))))
        matched = {int(r[f"match_{k}_id"]) for r in rows for k in (1, 2, 3) if r[f"match_{k}_id"]}
        assert matched <= visible and sc.eid("clear") in matched, (user, matched)


# --- 7. the duplicate review queue and "probably the same as" ---------------------------------------


def test_duplicate_queue_and_likely_duplicates_show_only_visible_pairs(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "twins")
    pairs = scan(sc)
    people = {spec[0]: spec for spec in PEOPLE}
    for user in READERS:
        browser = sc.as_(user)
        visible = sc.visible_entities(user)
        expected = {
            pid for (a, b), pid in pairs.items() if sc.eid(a) in visible and sc.eid(b) in visible
        }
        assert (pairs[("dup_clear_a", "dup_clear_b")] in expected) is True
        api = browser.get("/api/v1/duplicates").json()
        assert {p["id"] for p in api} == expected, user
        page = browser.get("/registry/duplicates")
        assert ids_in(r'data-pair="(\d+)"', page.text) == expected, user
        assert ids_in(r'href="/registry/entities/(\d+)"', page.text) <= visible
        for rec in sc.table(user):
            _, _, _, _, _, arabic, latin, phone = people[rec.key]
            body = {
                "kind": "person",
                "names": [
                    {"name": arabic, "name_type": "as_written"},
                    {"name": latin, "name_type": "latin"},
                ],
                "identifiers": [{"kind": "phone", "value": phone}],
            }
            got = browser.post("/api/v1/entities/duplicates", json=body)
            assert got.status_code == 200
            assert {c["id"] for c in got.json()} <= visible, (user, rec.key)
        # positive control: a visible twin is proposed
        clear = people["clear"]
        got = browser.post(
            "/api/v1/entities/duplicates",
            json={"kind": "person", "names": [{"name": clear[6], "name_type": "latin"}]},
        )
        assert sc.eid("clear") in {c["id"] for c in got.json()}
    assert len(pairs) == len(TWINS)


# --- 8. merges -----------------------------------------------------------------------------------------


def test_merging_a_hidden_record_fails_exactly_like_a_missing_id(sc: Scenario) -> None:
    with sc.factory.begin() as db:
        own, _ = service.create_entity(
            db, sc.world.actor("partner"), _person(AMBER, ("نجيب الوصابي", "Najib Wusabi"))
        )
        own_ids = {"partner": own.id, "watch": sc.eid("coast"), "observer": 1, "admin": 1}
    for user in READERS:
        browser = sc.as_(user)
        mine = own_ids[user]
        for rec in sc.table(user):
            for survivor, duplicate, missing in (
                (mine, rec.id, {"survivor_id": mine, "duplicate_id": MISSING}),
                (rec.id, mine, {"survivor_id": MISSING, "duplicate_id": mine}),
            ):
                body = {"survivor_id": survivor, "duplicate_id": duplicate}
                hidden = browser.post("/api/v1/merges", json=body)
                nothing = browser.once("post", "/api/v1/merges", json=missing)
                why = same_answer(hidden, [rec.id], nothing, [MISSING])
                assert why is None, (user, rec.key, body, why)
                assert hidden.status_code == (422 if user in WRITERS else 403), hidden.text
                hidden = browser.post("/registry/merges", data=body)
                nothing = browser.once("post", "/registry/merges", data=missing)
                assert same_answer(hidden, [rec.id], nothing, [MISSING]) is None, (user, body)
    with sc.factory() as db:
        merged = select(service.Entity.id).where(service.Entity.merged_into_id.isnot(None))
        assert db.scalar(merged) is None


# --- 9. changes by another organisation ---------------------------------------------------------------


def test_updates_by_another_org_are_403_when_visible_and_404_like_missing_when_hidden(
    sc: Scenario,
) -> None:
    entity_body = {"kind": "person", "names": [{"name": "علي صالح", "name_type": "as_written"}]}
    incident_body = {"title": "changed", "event_date": RECENT.isoformat(), "marking": CLEAR}
    form = {"kind": "person", "name_ar": "علي صالح", "marking": CLEAR}
    for user in READERS:
        browser = sc.as_(user)
        for rec in sc.entities.values():
            if rec.owner == ORG[user] or rec.key not in MAIN_PEOPLE:
                continue
            got = browser.put(f"/api/v1/entities/{rec.id}", json=entity_body)
            page = browser.post(f"/registry/entities/{rec.id}", data=form)
            if rec.seen_by(user) or user not in WRITERS:
                assert got.status_code == 403, (user, rec.key, got.text)
                assert page.status_code == 403, (user, rec.key)
            else:
                missing = browser.once("put", f"/api/v1/entities/{MISSING}", json=entity_body)
                assert same_answer(got, [rec.id], missing, [MISSING]) is None, (user, rec.key)
                assert got.status_code == 404
                missing = browser.once("post", f"/registry/entities/{MISSING}", data=form)
                assert same_answer(page, [rec.id], missing, [MISSING]) is None, (user, rec.key)
        for rec in sc.incidents.values():
            if rec.owner == ORG[user]:
                continue
            got = browser.put(f"/api/v1/incidents/{rec.id}", json=incident_body)
            if rec.seen_by(user) or user not in WRITERS:
                assert got.status_code == 403, (user, rec.key, got.text)
            else:
                missing = browser.once("put", f"/api/v1/incidents/{MISSING}", json=incident_body)
                assert same_answer(got, [rec.id], missing, [MISSING]) is None, (user, rec.key)
                assert got.status_code == 404
    # the owner organisation may (positive control), and nothing above changed anything
    with sc.factory() as db:
        assert set(db.scalars(select(service.Entity.version))) == {1}
        assert set(db.scalars(select(service.Incident.version))) == {1}
    coast = sc.as_("watch").put(f"/api/v1/entities/{sc.eid('coast')}", json=entity_body)
    assert coast.status_code == 200 and coast.json()["version"] == 2


# --- 10. links and involvements that name a hidden record -------------------------------------------


def test_links_and_involvements_naming_a_hidden_record_fail_like_a_missing_one(
    sc: Scenario,
) -> None:
    clear = sc.eid("clear")
    extra = {"link_type": "associate_of", "marking": GREEN}
    incident = {"title": "t", "event_date": RECENT.isoformat(), "marking": GREEN}
    for user in READERS:
        browser = sc.as_(user)
        for rec in sc.table(user):
            for hidden_body, missing_body in (
                (
                    {"source_id": clear, "target_id": rec.id},
                    {"source_id": clear, "target_id": MISSING},
                ),
                (
                    {"source_id": rec.id, "target_id": clear},
                    {"source_id": MISSING, "target_id": clear},
                ),
            ):
                hidden = browser.post("/api/v1/links", json=hidden_body | extra)
                missing = browser.once("post", "/api/v1/links", json=missing_body | extra)
                why = same_answer(hidden, [rec.id], missing, [MISSING])
                assert why is None, (user, rec.key, why)
                assert hidden.status_code == (422 if user in WRITERS else 403)
                hidden = browser.post("/registry/links", data=hidden_body | extra)
                missing = browser.once("post", "/registry/links", data=missing_body | extra)
                assert same_answer(hidden, [rec.id], missing, [MISSING]) is None, (user, rec.key)
            hidden = browser.post(
                "/api/v1/incidents",
                json=incident | {"involvements": [{"entity_id": rec.id, "role": "suspect"}]},
            )
            missing = browser.once(
                "post",
                "/api/v1/incidents",
                json=incident | {"involvements": [{"entity_id": MISSING, "role": "suspect"}]},
            )
            assert same_answer(hidden, [rec.id], missing, [MISSING]) is None, (user, rec.key)
            assert hidden.status_code == (422 if user in WRITERS else 403)
        for link in sc.links.values():  # deleting a link whose own marking hides it
            if link.seen_by(user):
                continue
            hidden = browser.delete(f"/api/v1/links/{link.id}")
            missing = browser.once("delete", f"/api/v1/links/{MISSING}")
            assert same_answer(hidden, [link.id], missing, [MISSING]) is None, (user, link.key)
    with sc.factory() as db:
        assert len(db.scalars(select(service.Link.id)).all()) == len(LINKS)
        assert len(db.scalars(select(service.Incident.id)).all()) == len(INCIDENTS)
    # positive control: a link between two visible records is accepted
    made = sc.as_("watch").post(
        "/api/v1/links", json={"source_id": clear, "target_id": sc.eid("green")} | extra
    )
    assert made.status_code == 201, made.text


# --- 11. an identifier on a hidden record cannot be probed --------------------------------------------


def test_identifier_of_a_hidden_record_cannot_be_probed_by_creating_or_changing_a_record(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people")
    people = {spec[0]: spec for spec in PEOPLE}
    for user in ("watch", "partner", "analyst2"):
        browser = sc.as_(user)
        hidden = sc.table(user) if user in HIDDEN else sc.hidden_entities(user)
        for rec in hidden:
            phone = people[rec.key][7]
            body: dict[str, Any] = {
                "kind": "person",
                "marking": AMBER,
                "names": [{"name": f"مسبار {rec.key}", "name_type": "as_written"}],
                "identifiers": [{"kind": "phone", "value": phone}],
            }
            made = browser.post("/api/v1/entities", json=body)
            assert made.status_code == 201, (user, rec.key, made.text)
            assert "already on record" not in made.text and made.json()["warnings"] == []
            assert_no_markers(made.text, rec.markers[:2], f"{user} create")
            new_id = made.json()["id"]
            if rec is not hidden[0]:
                continue  # the update path and the page form: once per user
            # …and adding it to one's own record later is not refused either
            body["identifiers"] = [{"kind": "phone", "value": "700" + phone[-6:]}]
            assert browser.put(f"/api/v1/entities/{new_id}", json=body).status_code == 200
            body["identifiers"] = [{"kind": "phone", "value": phone}]
            changed = browser.put(f"/api/v1/entities/{new_id}", json=body)
            assert changed.status_code == 200, changed.text
            body["identifiers"] = []  # free the number again for the page form below
            assert browser.put(f"/api/v1/entities/{new_id}", json=body).status_code == 200
            # the page form says nothing either: it saves and goes to the new record
            page = browser.post(
                "/registry/entities",
                data={
                    "kind": "person",
                    "name_ar": f"مسبار ثان {rec.key}",
                    "identifiers": f"phone: {phone}",
                    "marking": AMBER,
                    "confirm_new": "1",
                },
            )
            assert page.status_code == 303, re.findall(r'id="form-error">([^<]*)', page.text)
    # positive control: a phone on a record the user may see is refused, naming that record
    refused = sc.as_("watch").post(
        "/api/v1/entities",
        json={
            "kind": "person",
            "names": [{"name": "اختبار", "name_type": "as_written"}],
            "identifiers": [{"kind": "phone", "value": people["green"][7]}],
        },
    )
    assert refused.status_code == 422
    assert str(sc.eid("green")) in refused.json()["error"]["message"]


# --- 12. refusals are audited -------------------------------------------------------------------------

AUDITED_ENTITY_ROUTES = (
    "/registry/entities/{id}",
    "/registry/entities/{id}/versions",
    "/registry/entities/{id}/chart",
    "/api/v1/entities/{id}",
    "/api/v1/entities/{id}/versions",
)
AUDITED_INCIDENT_ROUTES = (
    "/registry/incidents/{id}",
    "/registry/incidents/{id}/versions",
    "/registry/incidents/{id}/sources/{source}/attachment",
    "/api/v1/incidents/{id}",
    "/api/v1/incidents/{id}/versions",
)


def test_direct_reads_of_hidden_records_are_audited_as_refused(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "incidents")
    expected: list[tuple[str, str, str | None]] = []
    for user in READERS:
        browser = sc.as_(user)
        entity = next(r for r in sc.hidden_entities(user) if r.key in ("strict", "red"))
        incident = next(r for r in sc.hidden_incidents(user) if r.key in sc.sources)
        edit = ("/edit",) if user in WRITERS else ()
        for route in (*AUDITED_ENTITY_ROUTES, *(f"/registry/entities/{{id}}{e}" for e in edit)):
            assert browser.get(route.format(id=entity.id)).status_code == 404
            expected.append((user, "registry_entity", str(entity.id)))
        for route in (*AUDITED_INCIDENT_ROUTES, *(f"/registry/incidents/{{id}}{e}" for e in edit)):
            url = route.format(id=incident.id, source=sc.sources[incident.key])
            assert browser.get(url).status_code == 404
            expected.append((user, "registry_incident", str(incident.id)))
        # a missing id is not a refusal
        assert browser.get(f"/api/v1/entities/{MISSING}").status_code == 404
    assert sorted(audit_refusals(sc.factory)) == sorted(expected)


# --- 13. the leaks found in the review: each test failed before its fix -------------------------


def test_incident_list_and_map_filtered_by_a_hidden_record_answer_like_a_missing_record(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "incidents")
    strict = sc.eid("strict")
    for user in ("partner", "watch", "observer"):
        browser = sc.as_(user)
        for route in ("/api/v1/incidents", "/api/v1/incidents.geojson"):
            hidden = browser.get(route, params={"entity": strict})
            missing = browser.get(route, params={"entity": MISSING})
            assert same_answer(hidden, [strict], missing, [MISSING]) is None, (user, route)
            assert hidden.headers.get("x-total-count") == missing.headers.get("x-total-count")


def test_incident_versions_do_not_name_hidden_involved_records(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "incidents")
    i_clear = sc.incidents["i_clear"].id
    for user in READERS:
        browser = sc.as_(user)
        visible = sc.visible_entities(user)
        api = browser.get(f"/api/v1/incidents/{i_clear}/versions").json()
        named = {inv["entity_id"] for v in api for inv in v["data"]["involvements"]}
        assert named <= visible, (user, named - visible)
        page = browser.get(f"/registry/incidents/{i_clear}/versions").text
        named = ids_in(r'"entity_id": (\d+)', page)
        assert named and named <= visible, (user, named - visible)


def test_search_date_filter_does_not_reveal_the_date_of_a_hidden_incident(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "incidents")
    day, other = FALCON_DAY.isoformat(), (FALCON_DAY - timedelta(days=1)).isoformat()
    for user in ("partner", "watch", "observer"):
        browser = sc.as_(user)
        for route, pattern in (
            ("/api/v1/search", r'"id":(\d+),"type":"person"'),
            ("/registry/search", r'data-id="(\d+)" data-type="person"'),
        ):
            q = "Marzouq Hanashi"
            on = browser.get(route, params={"q": q, "date_from": day, "date_to": day})
            off = browser.get(route, params={"q": q, "date_from": other, "date_to": other})
            assert ids_in(pattern, on.text) == ids_in(pattern, off.text), (user, route)


def test_deleting_a_link_to_a_hidden_record_answers_like_a_missing_link(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "links")
    for user in ("watch", "partner"):
        browser = sc.as_(user)
        for link in sc.links.values():
            if sc.link_seen(user, link):
                continue
            hidden = browser.delete(f"/api/v1/links/{link.id}")
            missing = browser.once("delete", f"/api/v1/links/{MISSING}")
            assert same_answer(hidden, [link.id], missing, [MISSING]) is None, (user, link.key)


def test_a_link_to_a_record_hidden_from_the_user_cannot_be_deleted_by_him(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "links")
    link = sc.links["l_red"]
    gone = sc.as_("analyst2").delete(f"/api/v1/links/{link.id}")
    with sc.factory() as db:
        still = db.get(service.Link, link.id)
    assert gone.status_code == 404 and still is not None, gone.status_code


def test_dismissing_a_pair_with_a_hidden_record_answers_like_a_missing_pair(
    make: Callable[..., Scenario],
) -> None:
    sc = make("twins")
    pair = scan(sc)[("dup_green", "dup_strict")]
    for user in ("watch", "partner"):
        browser = sc.as_(user)
        hidden = browser.post(f"/registry/duplicates/{pair}/dismiss")
        missing = browser.post(f"/registry/duplicates/{MISSING}/dismiss")
        assert same_answer(hidden, [pair], missing, [MISSING]) is None, user


def test_only_the_owner_organisation_can_dismiss_a_duplicate_pair(
    make: Callable[..., Scenario],
) -> None:
    sc = make("twins")
    pair = scan(sc)[("dup_clear_a", "dup_clear_b")]
    answer = sc.as_("watch").post(f"/registry/duplicates/{pair}/dismiss")
    with sc.factory() as db:
        row = db.get(DuplicateCandidate, pair)
        status = row.status if row else None
    assert answer.status_code == 403 and status == "open", (answer.status_code, status)


def _merge(sc: Scenario, survivor: str, duplicate: str) -> int:
    with sc.factory.begin() as db:
        record = merge_service.merge(
            db, sc.world.actor("analyst"), sc.eid(survivor), sc.eid(duplicate)
        )
        return record.id


def test_undoing_a_merge_into_a_hidden_record_answers_like_a_missing_merge(
    make: Callable[..., Scenario],
) -> None:
    sc = make("twins")
    merge_id = _merge(sc, "dup_red", "dup_clear_c")
    for user in ("watch", "partner"):
        browser = sc.as_(user)
        hidden = browser.post(f"/api/v1/merges/{merge_id}/undo")
        missing = browser.post(f"/api/v1/merges/{MISSING}/undo")
        assert same_answer(hidden, [merge_id], missing, [MISSING]) is None, user


def test_a_record_merged_into_a_hidden_one_does_not_name_the_survivor(
    make: Callable[..., Scenario],
) -> None:
    sc = make("twins")
    _merge(sc, "dup_red", "dup_clear_c")
    dup, red = sc.eid("dup_clear_c"), sc.eid("dup_red")
    # analyst2 (moi-ct, not a recipient) tries to merge it: the answer names the RED survivor
    tried = sc.as_("analyst2").post(
        "/api/v1/merges", json={"survivor_id": sc.eid("dup_clear_a"), "duplicate_id": dup}
    )
    assert str(red) not in tried.json()["error"]["message"], tried.text
    for user in READERS:
        browser = sc.as_(user)
        for route in ("/api/v1/entities/{id}", "/registry/entities/{id}"):
            hidden = browser.get(route.format(id=dup))
            missing = browser.get(route.format(id=MISSING))
            assert same_answer(hidden, [dup], missing, [MISSING]) is None, (user, route)


def test_merging_does_not_move_a_restricted_record_into_a_less_restricted_one(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people")
    # RED into CLEAR would copy the RED names and identifiers into a record everyone reads
    with pytest.raises(ValidationFailed) as refused:
        _merge(sc, "clear2", "red")
    assert refused.value.field == "duplicate_id"
    clear2 = sc.eid("clear2")
    for user in READERS:
        page = sc.as_(user).get(f"/registry/entities/{clear2}")
        assert_no_markers(page.text, sc.entities["red"].markers, f"{user} survivor")


def test_import_does_not_reveal_a_hidden_incident_reference(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "incidents")
    with sc.factory() as db:
        row = db.get(service.Incident, sc.incidents["i_red"].id)
        assert row is not None
        ref = row.ref
    data = (
        f"ref,title,event_date\n{ref},Probe one,2024-01-01\nINC-1999-424242,Probe two,2024-01-01\n"
    )
    table = registry_io.parse_csv(data.encode(), "probe.csv")
    with sc.factory() as db:
        report = registry_io.import_table(
            db, sc.world.actor("analyst2"), table, "incidents", dry_run=True
        )
    assert report.skipped == 0 and report.valid == 2, (report.skipped, report.valid)


def test_editing_an_incident_keeps_involvements_the_editor_cannot_see(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people", "incidents")
    i_clear = sc.incidents["i_clear"].id
    browser = sc.as_("analyst2")  # moi-ct, may edit, is not a recipient of the RED person
    shown = browser.get(f"/api/v1/incidents/{i_clear}").json()
    assert sc.eid("red") not in {v["entity_id"] for v in shown["involvements"]}
    body = {
        "title": shown["title"] + " (edited)",
        "event_date": shown["event_date"],
        "marking": shown["marking"],
        "involvements": [],  # he removes the involvements he can see, and only those
    }
    saved = browser.put(f"/api/v1/incidents/{i_clear}", json=body)
    assert saved.status_code == 200, saved.text
    with sc.factory() as db:
        kept = db.scalars(
            select(Involvement.entity_id).where(Involvement.incident_id == i_clear)
        ).all()
    assert sc.eid("red") in kept, kept


def test_every_direct_read_of_a_hidden_record_is_audited(make: Callable[..., Scenario]) -> None:
    sc = make("people")
    strict = sc.eid("strict")
    browser = sc.as_("partner")
    routes = (
        "/api/v1/entities/{id}/links",
        "/api/v1/entities/{id}/incidents",
        "/api/v1/graph/{id}",
        "/registry/links/new?source={id}",
    )
    for route in routes:
        assert browser.get(route.format(id=strict)).status_code == 404
    mine = ("partner", "registry_entity", str(strict))
    refused = [r for r in audit_refusals(sc.factory) if r == mine]
    assert len(refused) == len(routes), refused


def test_a_merge_of_a_hidden_record_cannot_be_undone_by_someone_who_cannot_see_it(
    make: Callable[..., Scenario],
) -> None:
    sc = make("people")
    # the merge is made the allowed way round: the CLEAR record into the RED one
    merge_id = _merge(sc, "red", "clear2")
    browser = sc.as_("analyst2")  # same organisation, not a named recipient of the RED record
    hidden = browser.post(f"/api/v1/merges/{merge_id}/undo")
    missing = browser.post(f"/api/v1/merges/{MISSING}/undo")
    with sc.factory() as db:
        clear2 = db.get(service.Entity, sc.eid("clear2"))
        still_merged = clear2 is not None and clear2.merged_into_id == sc.eid("red")
    assert same_answer(hidden, [merge_id], missing, [MISSING]) is None and still_merged, hidden.text
