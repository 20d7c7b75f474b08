"""Demo intel data for ``rasid demo``: sharing agreements, reports under every marking, RFIs.

Everything is invented. Every record goes through :mod:`rasid.intel.service` as a demo user,
so approvals, releases, versions and the audit log behave as for people typing it in:

* two sharing agreements (made by the ``system`` account, which may act for any
  organisation): ``moi-ct`` → ``partner-embassy`` and ``partner-embassy`` → ``moi-ct``, both
  for TLP:CLEAR, GREEN and AMBER reports and RFIs;
* ``moi-ct`` reports written by ``analyst`` and approved by ``liaison``: CLEAR, GREEN and
  AMBER ones released to ``partner-embassy``; an approved AMBER and a draft GREEN one kept
  back; an AMBER+STRICT and a RED one that never leave the organisation; they link registry
  demo records found with :func:`rasid.registry.search.search` as the author (only records the
  author may see, and none when the registry demo is not loaded);
* two ``partner-embassy`` drafts written by ``partner`` (the demo has a single liaison officer
  there, and a report needs an approver other than its author, so they stay drafts);
* four RFIs, both ways: one answered with a released report, one overdue.

The service refuses an RFI due in the past, so the overdue RFI is created due today and its
due date is then moved back three days: the one write outside the service.

:func:`load` does nothing when the first demo report (title :data:`FIRST_TITLE`) is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rasid.access.markings import AMBER, AMBER_STRICT, CLEAR, GREEN, RED
from rasid.audit import service as audit
from rasid.core.actor import Actor, system_actor
from rasid.intel import service
from rasid.intel.models import Report
from rasid.intel.schemas import (
    AgreementIn,
    ObservableIn,
    ReportIn,
    ReportLinkIn,
    RFIAnswerIn,
    RFIIn,
)
from rasid.registry import search

TITLE_PREFIX = "INT-"
PARTNER = "partner-embassy"
HOME = "moi-ct"
COUNT_KEYS: tuple[str, ...] = ("agreements", "reports", "releases", "rfis")
WRITERS: tuple[str, ...] = ("analyst", "liaison", "partner")


@dataclass(frozen=True)
class ReportSpec:
    number: int
    title: str
    marking: str
    status: str  # draft | approved | released
    body_ar: str
    body_en: str = ""
    summary: str = ""
    reliability: str = "B"
    credibility: int = 2
    observables: tuple[tuple[str, str], ...] = ()
    links: tuple[str, ...] = ()  # search queries for registry records to link
    author: str = "analyst"
    recipients: tuple[str, ...] = ()

    @property
    def full_title(self) -> str:
        return f"{TITLE_PREFIX}{self.number:02d} {self.title}"


REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec(
        1,
        "تحذير عام: إعلانات توظيف وهمية لطواقم قوارب الصيد",
        CLEAR,
        "released",
        "تنتشر على مواقع التواصل إعلانات توظيف لبحارة وصيادين برواتب مرتفعة، ويستخدمها مهربون "
        "لتجنيد طواقم لقوارب تهريب المهاجرين والوقود. يُنصح بعدم التواصل مع الأرقام المذكورة.",
        "Fake job adverts for fishing-boat crews are used by smugglers to recruit crews for "
        "migrant and fuel smuggling boats.",
        summary="Public warning: fake crew-recruitment adverts.",
        reliability="A",
        credibility=2,
        observables=(("domain", "sea-jobs-aden.example"), ("phone", "00967 733 410 552")),
    ),
    ReportSpec(
        2,
        "نشاط سنابيق شبكة الساحل الغربي قبالة المخا",
        GREEN,
        "released",
        "رُصد السنبوق «الأمل 3» وهو يغيّر مساره ليلاً قرب المخا ويطفئ جهاز التعارف الآلي لساعات، "
        "في نمط يتكرر مع شحنات الوقود المهرّبة لشبكة تهريب الساحل الغربي.",
        "The dhow AL AMAL 3 switched off AIS at night near Mokha, a pattern seen with smuggled "
        "fuel shipments of the West Coast network.",
        observables=(("mmsi", "473 112 340"), ("imo", "IMO 9074729")),
        links=("شبكة تهريب الساحل الغربي", "AL AMAL 3"),
    ),
    ReportSpec(
        3,
        "تمويل شبكة المهرة لتهريب مكونات الطائرات المسيّرة",
        AMBER,
        "released",
        "تشير حوالات مصرفية إلى أن شبكة المهرة لتهريب الأسلحة تدفع ثمن مكونات طائرات مسيّرة عبر "
        "حساب في الخليج، وتنسّق الاستلام عبر رقمين في الغيضة.",
        "Bank transfers suggest the Mahra arms network pays for drone components through a Gulf "
        "account; two phones in al-Ghaydah coordinate the pick-ups.",
        reliability="B",
        credibility=3,
        observables=(
            ("iban", "SA03 8000 0000 6080 1016 7519"),
            ("phone", "00967 771 202 903"),
            ("phone", "00967 771 202 904"),
        ),
        links=("شبكة المهرة لتهريب الأسلحة",),
    ),
    ReportSpec(
        4,
        "نقل ليلي بالزوارق السريعة عبر مضيق باب المندب",
        AMBER,
        "released",
        "تنقل شبكة مضيق باب المندب شحنات صغيرة بزوارق سريعة بين الساحل الأفريقي وذباب ليلاً، "
        "مع سفينة أم ترسو خارج المياه الإقليمية.",
        "Fast skiffs of the Bab el-Mandeb network shuttle small loads to Dhubab at night from a "
        "mother ship anchored outside territorial waters.",
        observables=(("mmsi", "620 118 457"), ("imo", "IMO 9176187")),
        links=("شبكة مضيق باب المندب",),
    ),
    ReportSpec(
        5,
        "شبكة عبوات ناسفة في أبين: مورّد المكونات الإلكترونية",
        AMBER,
        "approved",
        "يُعتقد أن ورشة لإصلاح الهواتف في زنجبار تورّد دوائر التفجير عن بعد لخلية عبوات ناسفة، "
        "وتُطلب القطع عبر موقع إلكتروني.",
        observables=(("phone", "00967 735 880 121"), ("domain", "parts-zinj.example")),
        reliability="C",
        credibility=3,
    ),
    ReportSpec(
        6,
        "تهريب الوقود عبر سواحل شبوة",
        GREEN,
        "draft",
        "مسودة: تكرر رسو قوارب صغيرة قرب بئر علي وتفريغ براميل وقود تُنقل براً إلى عتق.",
        observables=(("plate", "12345 - أ"),),
        links=("شبكة تهريب الوقود في شبوة",),
        credibility=4,
    ),
    ReportSpec(
        7,
        "ميسّر عبوات ناسفة يتنقل بين لحج وتعز",
        AMBER_STRICT,
        "approved",
        "مصدر داخل الوحدة يحدد ميسّراً ينقل مكونات العبوات الناسفة بين لحج وتعز ويتلقى أموالاً "
        "عبر حساب مصرفي إماراتي.",
        observables=(("phone", "00967 773 551 020"), ("iban", "AE07 0331 2345 6789 0123 456")),
        reliability="B",
        credibility=2,
    ),
    ReportSpec(
        8,
        "مصدر حساس: موعد تسليم شحنة أسلحة",
        RED,
        "draft",
        "معلومة من مصدر بشري حساس عن موعد تسليم شحنة أسلحة قرب نشطون. لا تُتداول خارج المستلمين.",
        reliability="A",
        credibility=3,
        observables=(("mmsi", "473 998 210"),),
        recipients=("liaison",),
    ),
    ReportSpec(
        9,
        "Maritime advisory: vessels loitering off Socotra",
        GREEN,
        "draft",
        "سفينتان تجاريتان تتسكعان قبالة سقطرى دون سبب ظاهر.",
        "Two merchant vessels have loitered off Socotra for a week with no declared purpose.",
        observables=(("mmsi", "636 019 825"),),
        author="partner",
    ),
    ReportSpec(
        10,
        "Financial lead: exchange house used by smugglers",
        AMBER,
        "draft",
        "محل صرافة في عدن يُستخدم لتحويل عائدات التهريب.",
        "An exchange house in Aden moves smuggling proceeds; see the account below.",
        observables=(
            ("iban", "GB82 WEST 1234 5698 7654 32"),
            ("url", "https://fx-aden.example/pay"),
        ),
        reliability="C",
        credibility=2,
        author="partner",
    ),
)

FIRST_TITLE = REPORTS[0].full_title


@dataclass(frozen=True)
class RFISpec:
    author: str
    to_org: str
    question: str
    marking: str
    priority: str
    due_in_days: int
    assignee: str | None = None
    answer_by: str | None = None
    answer: str = ""
    answer_report: int | None = None  # REPORTS number


RFIS: tuple[RFISpec, ...] = (
    RFISpec(
        "analyst",
        PARTNER,
        "هل لديكم معلومات عن مالك السفينة ذات رقم IMO 9176187 وشركة إدارتها؟",
        AMBER,
        "high",
        14,
        assignee="partner",
    ),
    RFISpec(
        "partner",
        HOME,
        "Do you hold reporting on drone components shipped through al-Mahrah?",
        GREEN,
        "normal",
        10,
        assignee="liaison",
        answer_by="liaison",
        answer="نعم، انظر التقرير المرفق عن تمويل شبكة المهرة.",
        answer_report=3,
    ),
    RFISpec(
        "partner",
        HOME,
        "Please confirm whether the dhow AL AMAL 3 is still active on the west coast.",
        AMBER,
        "urgent",
        0,  # overdue: see the module docstring
        assignee="liaison",
    ),
    RFISpec(
        "analyst",
        PARTNER,
        "هل رُصدت حوالات من حساب محل الصرافة في عدن إلى حسابات في أوروبا؟",
        CLEAR,
        "low",
        30,
    ),
)


def already_loaded(db: Session, actors: dict[str, Actor]) -> bool:
    stmt = select(Report.id).where(
        Report.title == FIRST_TITLE, Report.owner_org_id == actors["analyst"].org_id
    )
    return db.scalar(stmt.limit(1)) is not None


def _links(db: Session, actor: Actor, queries: tuple[str, ...]) -> list[ReportLinkIn]:
    """The best search hit for each query that the author may see (none if nothing matches)."""
    out: list[ReportLinkIn] = []
    for query in queries:
        hits = search.search(db, actor, query, limit=1)
        if not hits:
            continue
        hit = hits[0]
        kind = "registry_incident" if hit.type == "incident" else "registry_entity"
        link = ReportLinkIn(object_type=kind, object_id=hit.id)
        if link not in out:
            out.append(link)
    return out


def _report(db: Session, actors: dict[str, Actor], spec: ReportSpec) -> tuple[int, int]:
    author = actors[spec.author]
    data = ReportIn(
        title=spec.full_title,
        summary=spec.summary,
        body_ar=spec.body_ar,
        body_en=spec.body_en,
        reliability=spec.reliability,
        credibility=spec.credibility,
        marking=spec.marking,
        recipients=list(spec.recipients),
        observables=[
            ObservableIn.model_validate({"kind": k, "value": v}) for k, v in spec.observables
        ],
        links=_links(db, author, spec.links),
    )
    report = service.create_report(db, author, data)
    releases = 0
    if spec.status in ("approved", "released"):
        service.approve_report(db, actors["liaison"], report.id)
    if spec.status == "released":
        service.release_report(db, actors["liaison"], report.id, [PARTNER])
        releases = 1
    return report.id, releases


def load(db: Session, actors: dict[str, Actor]) -> dict[str, int]:
    """Create the demo intel data unless it is there; returns how many of each were created.

    ``actors``: the demo users by username (``analyst``, ``liaison`` and ``partner`` are
    needed). Call it after the registry demo, whose records the reports link.
    """
    missing = [w for w in WRITERS if w not in actors]
    if missing:
        raise ValueError(f"demo intel data needs the demo users: {', '.join(missing)}")
    created = dict.fromkeys(COUNT_KEYS, 0)
    if already_loaded(db, actors):
        return created
    system = system_actor()
    for owner, partner in ((HOME, PARTNER), (PARTNER, HOME)):
        service.create_agreement(
            db,
            system,
            AgreementIn(
                from_org=owner,
                partner_org=partner,
                markings=[CLEAR, GREEN, AMBER],
                record_types=["report", "rfi"],
                note="Demo agreement / اتفاقية تجريبية",
            ),
        )
        created["agreements"] += 1
    report_ids: dict[int, int] = {}
    for spec in REPORTS:
        report_ids[spec.number], releases = _report(db, actors, spec)
        created["reports"] += 1
        created["releases"] += releases
    today = service.today()
    for rfi_spec in RFIS:
        rfi = service.create_rfi(
            db,
            actors[rfi_spec.author],
            RFIIn.model_validate(
                {
                    "to_org": rfi_spec.to_org,
                    "question": rfi_spec.question,
                    "priority": rfi_spec.priority,
                    "due_date": today + timedelta(days=rfi_spec.due_in_days),
                    "marking": rfi_spec.marking,
                    "assignee": rfi_spec.assignee,
                }
            ),
        )
        if rfi_spec.due_in_days == 0:
            # The service refuses a past due date; the demo back-dates one RFI so the overdue
            # list has something in it, and records that change in the audit log like any other.
            before = rfi.due_date
            rfi.due_date = today - timedelta(days=3)
            db.flush()
            audit.record_change(
                db,
                actors[rfi_spec.author],
                "update",
                "intel_rfi",
                rfi.id,
                {"due_date": before.isoformat() if before else None},
                {"due_date": (today - timedelta(days=3)).isoformat()},
            )
        if rfi_spec.answer_by:
            ids = [report_ids[rfi_spec.answer_report]] if rfi_spec.answer_report else []
            service.answer_rfi(
                db,
                actors[rfi_spec.answer_by],
                rfi.id,
                RFIAnswerIn(answer=rfi_spec.answer, report_ids=ids),
            )
        created["rfis"] += 1
    return created
