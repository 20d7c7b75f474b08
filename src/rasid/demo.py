"""``rasid demo``: the demo organisations, users of every role and each module's demo data.

Safe to run twice: everything is looked up before it is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.core.actor import Actor
from rasid.identity import service as identity
from rasid.identity.models import Organisation, User
from rasid.intel import demo as intel_demo
from rasid.registry import demo as registry_demo

DEMO_PASSWORD = "rasid-demo-2026"  # noqa: S105 - printed by `rasid demo`; demo data only


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name_ar: str
    name_en: str
    country: str
    kind: str
    in_community: bool = True


ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "moi-ct",
        "وزارة الداخلية - وحدة مكافحة الإرهاب",
        "Ministry of Interior - Counter-Terrorism Unit",
        "YE",
        "ministry",
    ),
    DemoOrg(
        "ycg-ops",
        "خفر السواحل اليمني - مركز العمليات",
        "Yemen Coast Guard - Operations Centre",
        "YE",
        "coast_guard",
    ),
    DemoOrg(
        "moi-training",
        "وزارة الداخلية - إدارة التدريب",
        "Ministry of Interior - Training Directorate",
        "YE",
        "directorate",
    ),
    DemoOrg(
        "partner-embassy",
        "سفارة الشريك - مكتب التعاون الأمني",
        "Partner Embassy - Security Cooperation Office",
        "GB",
        "embassy",
    ),
    DemoOrg(
        "observer-mission",
        "بعثة المراقبين الدولية",
        "International Observer Mission",
        "CH",
        "international",
        in_community=False,
    ),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    org: str
    roles: tuple[str, ...]
    name_ar: str
    name_en: str
    language: str = "ar"


USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "moi-ct", ("admin",), "مدير النظام", "System Administrator"),
    DemoUser("analyst", "moi-ct", ("analyst",), "سالم الحكيمي", "Salem Al-Hakimi"),
    DemoUser("liaison", "moi-ct", ("liaison", "analyst"), "أمل الشميري", "Amal Al-Shamiri"),
    DemoUser("watch", "ycg-ops", ("maritime",), "خالد باعباد", "Khaled Ba'abbad"),
    DemoUser("trainer", "moi-training", ("training",), "نادية العبسي", "Nadia Al-Absi"),
    DemoUser("logistics", "moi-training", ("logistics",), "فؤاد المقطري", "Fuad Al-Maqtari"),
    DemoUser("auditor", "moi-ct", ("auditor",), "هدى الأغبري", "Huda Al-Aghbari"),
    DemoUser("viewer", "moi-ct", ("viewer",), "قائد الوحدة", "Unit Commander"),
    DemoUser(
        "partner", "partner-embassy", ("liaison", "analyst"), "جيمس كارتر", "James Carter", "en"
    ),
    DemoUser("observer", "observer-mission", ("viewer",), "لينا موزر", "Lena Moser", "en"),
)


def _ensure_orgs_and_users(
    db: Session,
    actor: Actor,
    orgs: tuple[DemoOrg, ...],
    users: tuple[DemoUser, ...],
    created: dict[str, int],
) -> None:
    """Create the organisations and users that do not exist yet (counted in ``created``)."""
    for org in orgs:
        if db.scalar(select(Organisation.id).where(Organisation.slug == org.slug)) is None:
            identity.create_org(
                db,
                actor,
                slug=org.slug,
                name_ar=org.name_ar,
                name_en=org.name_en,
                country=org.country,
                kind=org.kind,
                in_community=org.in_community,
            )
            created["organisations"] += 1
    for user in users:
        if db.scalar(select(User.id).where(User.username == user.username)) is None:
            identity.create_user(
                db,
                actor,
                username=user.username,
                org_slug=user.org,
                roles=list(user.roles),
                password=DEMO_PASSWORD,
                display_name_ar=user.name_ar,
                display_name_en=user.name_en,
                language=user.language,
            )
            created["users"] += 1


def load(db: Session, actor: Actor) -> dict[str, int]:
    created = {"organisations": 0, "users": 0}
    _ensure_orgs_and_users(db, actor, ORGS, USERS, created)
    db.flush()
    actors = {u.username: identity.actor_for_username(db, u.username) for u in USERS}
    created.update(registry_demo.load(db, actors))
    created.update(intel_demo.load(db, actors))
    return created


# --- the partner's own server (``make demo-partner``) ---------------------------------------------

PARTNER_ORGS: tuple[DemoOrg, ...] = (
    DemoOrg(
        "partner-embassy",
        "سفارة الشريك - مكتب التعاون الأمني",
        "Partner Embassy - Security Cooperation Office",
        "GB",
        "embassy",
    ),
    DemoOrg(
        "moi-ct",
        "وزارة الداخلية - وحدة مكافحة الإرهاب (خادم الوزارة)",
        "Ministry of Interior - CT Unit (ministry server)",
        "YE",
        "ministry",
    ),
)
PARTNER_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "partner-embassy", ("admin",), "مدير النظام", "System Administrator", "en"),
    DemoUser("analyst", "partner-embassy", ("analyst",), "إميلي رايت", "Emily Wright", "en"),
    DemoUser("liaison", "partner-embassy", ("liaison",), "جيمس كارتر", "James Carter", "en"),
)


def load_partner(db: Session, actor: Actor) -> dict[str, int]:
    """The partner embassy's own server: its organisation, one that stands for the ministry's
    server, users, and the agreement under which what the ministry releases is received."""
    from rasid.intel import service as intel
    from rasid.intel.models import SharingAgreement
    from rasid.intel.schemas import AgreementIn

    created = {"organisations": 0, "users": 0, "agreements": 0}
    _ensure_orgs_and_users(db, actor, PARTNER_ORGS, PARTNER_USERS, created)
    if db.scalar(select(SharingAgreement.id).limit(1)) is None:
        for source, target, markings in [
            ("moi-ct", "partner-embassy", ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"]),
            ("partner-embassy", "moi-ct", ["TLP:GREEN", "TLP:AMBER"]),
        ]:
            intel.create_agreement(
                db,
                actor,
                AgreementIn(
                    from_org=source,
                    partner_org=target,
                    partner_server="ministry" if target == "moi-ct" else "",
                    markings=markings,
                    record_types=["report", "entity", "incident", "link"],
                    note="Demo: the bilateral exchange memorandum.",
                ),
            )
            created["agreements"] += 1
    return created
