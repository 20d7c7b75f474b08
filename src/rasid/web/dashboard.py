"""Dashboard figures: each context contributes the figures of what it owns.

A provider receives the database session and the actor and returns figures that
respect the access rule (protected counts go through ``access.count_visible``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from rasid.audit import service as audit
from rasid.core.actor import Actor
from rasid.core.db import utcnow
from rasid.core.i18n import N_
from rasid.identity import service as identity


@dataclass(frozen=True)
class Figure:
    key: str
    label: str  # gettext msgid
    value: int
    href: str | None = None


Provider = Callable[[Session, Actor], list[Figure]]


def identity_figures(db: Session, actor: Actor) -> list[Figure]:
    if not actor.can("administer"):
        return []
    return [
        Figure(
            "organisations", N_("Organisations"), identity.count_orgs(db), "/admin/organisations"
        ),
        Figure(
            "active_users",
            N_("Active users"),
            identity.count_users(db, active=True),
            "/admin/users",
        ),
        Figure(
            "active_sessions", N_("Signed-in sessions"), identity.count_active_sessions(db), None
        ),
    ]


def audit_figures(db: Session, actor: Actor) -> list[Figure]:
    if not (actor.can("audit") or actor.can("administer")):
        return []
    since = utcnow() - timedelta(hours=24)
    return [
        Figure("audit_24h", N_("Audit entries, last 24 h"), audit.count_since(db, since), "/audit"),
        Figure(
            "failed_logins_24h",
            N_("Failed sign-ins, last 24 h"),
            audit.count_since(db, since, "login.failure"),
            "/audit?action=login.failure",
        ),
    ]


def registry_figures(db: Session, actor: Actor) -> list[Figure]:
    from datetime import date

    from rasid.registry import service as registry

    if not actor.can("read"):
        return []
    year_ago = date.today() - timedelta(days=365)
    return [
        Figure(
            "incidents_12m",
            N_("Incidents, last 12 months"),
            registry.count_incidents(db, actor, year_ago),
            "/registry/incidents?date_from=" + year_ago.isoformat(),
        ),
        Figure(
            "persons",
            N_("Persons on record"),
            registry.count_entities(db, actor, "person"),
            "/registry/entities?kind=person",
        ),
        Figure(
            "groups",
            N_("Groups on record"),
            registry.count_entities(db, actor, "group"),
            "/registry/entities?kind=group",
        ),
        Figure(
            "vessels",
            N_("Vessels on record"),
            registry.count_entities(db, actor, "vessel"),
            "/registry/entities?kind=vessel",
        ),
    ]


PROVIDERS: list[Provider] = [registry_figures, identity_figures, audit_figures]


def figures_for(db: Session, actor: Actor) -> list[Figure]:
    out: list[Figure] = []
    for provider in PROVIDERS:
        out.extend(provider(db, actor))
    return out
