"""Training demo data: a unit hierarchy with a denied unit, vetted and unvetted personnel,
two programmes with sessions past and upcoming, and enrolments."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rasid.core.actor import Actor
from rasid.training import service
from rasid.training.models import TrainingUnit

PEOPLE = [
    ("u-aden", "محمد علي الحميري", "Mohammed Ali Al-Himyari", "ملازم", "YE-AD"),
    ("u-aden", "عبدالله سالم باوزير", "Abdullah Salem Bawazir", "نقيب", "YE-AD"),
    ("u-aden", "خالد أحمد العولقي", "Khaled Ahmed Al-Awlaqi", "رقيب", "YE-AD"),
    ("u-mukalla", "سعيد عمر بن بريك", "Saeed Omar Bin Breik", "ملازم أول", "YE-HD"),
    ("u-mukalla", "فهد صالح الكثيري", "Fahd Saleh Al-Kathiri", "مساعد", "YE-HD"),
    ("u-mocha", "ياسر محمد الشرعبي", "Yasser Mohammed Al-Sharabi", "ملازم", "YE-TA"),
    ("u-mocha", "نبيل حسن الصبيحي", "Nabil Hassan Al-Subaihi", "رقيب", "YE-TA"),
    ("u-cyber", "هالة عبدالرحمن المقطري", "Hala Abdulrahman Al-Maqtari", "نقيب", "YE-AD"),
]


def load(db: Session, actor: Actor) -> dict[str, int]:
    """Once per database (kept if present); returns what was created."""
    if db.scalar(select(func.count()).select_from(TrainingUnit)):
        return {}
    today = date.today()
    decided = today - timedelta(days=60)
    ministry = service.create_unit(db, actor, code="moi", name_ar="وزارة الداخلية", name_en="Ministry of Interior", level="ministry")  # fmt: skip
    coast = service.create_unit(db, actor, code="d-coast", name_ar="مصلحة خفر السواحل", name_en="Coast Guard Authority", level="directorate", parent_id=ministry.id)  # fmt: skip
    ct = service.create_unit(db, actor, code="d-ct", name_ar="إدارة مكافحة الإرهاب", name_en="Counter-Terrorism Directorate", level="directorate", parent_id=ministry.id)  # fmt: skip
    units = {
        "u-aden": service.create_unit(
            db,
            actor,
            code="u-aden",
            name_ar="قطاع عدن",
            name_en="Aden Sector",
            parent_id=coast.id,
            governorate_code="YE-AD",
        ),
        "u-mukalla": service.create_unit(
            db,
            actor,
            code="u-mukalla",
            name_ar="قطاع المكلا",
            name_en="Mukalla Sector",
            parent_id=coast.id,
            governorate_code="YE-HD",
        ),
        "u-mocha": service.create_unit(
            db,
            actor,
            code="u-mocha",
            name_ar="قطاع المخا",
            name_en="Mocha Sector",
            parent_id=coast.id,
            governorate_code="YE-TA",
        ),
        "u-cyber": service.create_unit(
            db,
            actor,
            code="u-cyber",
            name_ar="وحدة التحقيقات الرقمية",
            name_en="Digital Investigations Unit",
            parent_id=ct.id,
            governorate_code="YE-AD",
        ),
    }
    for code, unit in units.items():
        status = "denied" if code == "u-mocha" else "approved"
        service.record_vetting(db, actor, ref=f"LV-UNIT-{code.upper()}", unit_id=unit.id, status=status, requested_on=decided - timedelta(days=20), decided_on=decided, notes="Demo decision")  # fmt: skip
    people = []
    for i, (unit_code, name_ar, name_latin, rank, gov) in enumerate(PEOPLE, 1):
        person = service.create_person(db, actor, name_ar=name_ar, name_latin=name_latin, rank=rank, national_id=f"01{i:08d}", unit_id=units[unit_code].id, governorate_code=gov)  # fmt: skip
        people.append(person)
        if i in (3, 5):  # one pending, one never vetted
            if i == 3:
                service.record_vetting(db, actor, ref=f"LV-P-{i:03d}", person_id=person.id, status="pending", requested_on=today - timedelta(days=5))  # fmt: skip
            continue
        service.record_vetting(db, actor, ref=f"LV-P-{i:03d}", person_id=person.id, status="approved", requested_on=decided - timedelta(days=20), decided_on=decided)  # fmt: skip
    maritime = service.create_course(db, actor, title_ar="التحقيق في الحوادث البحرية", title_en="Maritime incident investigation", topic="maritime security", duration_days=5, certificate_valid_months=24)  # fmt: skip
    digital = service.create_course(db, actor, title_ar="الأدلة الرقمية", title_en="Digital evidence", topic="counter-terrorism", duration_days=3, certificate_valid_months=12)  # fmt: skip
    past = service.create_session(db, actor, course_id=maritime.id, start_date=today - timedelta(days=30), end_date=today - timedelta(days=26), capacity=12, venue="أكاديمية خفر السواحل، عدن", instructors="Partner instructors", funding_partner="partner-embassy", funding_authority="Partner security assistance programme")  # fmt: skip
    upcoming = service.create_session(db, actor, course_id=maritime.id, start_date=today + timedelta(days=20), end_date=today + timedelta(days=24), capacity=10, venue="أكاديمية خفر السواحل، عدن", funding_partner="partner-embassy")  # fmt: skip
    service.create_session(db, actor, course_id=digital.id, start_date=today + timedelta(days=40), end_date=today + timedelta(days=42), capacity=8, venue="عدن", language="en", funding_partner="partner-embassy")  # fmt: skip
    enrolled = 0
    for person in (people[0], people[1], people[3]):
        service.enrol(db, actor, upcoming.id, person.id)
        enrolled += 1
    return {"training units": 7, "personnel": len(people), "courses": 2, "sessions": 3,
            "enrolments": enrolled, "past sessions": 1 if past else 0}  # fmt: skip


def load_logistics(db: Session, actor: Actor) -> dict[str, int]:
    """Equipment with serials handed over to the Aden sector, a completed check that found an
    item missing, and an overdue one (run by the logistics officer, after :func:`load`)."""
    from rasid.logistics import service as logistics
    from rasid.logistics.models import EquipmentType, Item

    if db.scalar(select(func.count()).select_from(EquipmentType)):
        return {}
    aden = db.scalar(select(TrainingUnit).where(TrainingUnit.code == "u-aden"))
    mukalla = db.scalar(select(TrainingUnit).where(TrainingUnit.code == "u-mukalla"))
    if aden is None or mukalla is None:
        return {}
    today = date.today()
    radios = logistics.add_type(db, actor, name_ar="جهاز لاسلكي بحري VHF", name_en="Marine VHF radio", category="communications", part_number="5820-01-590-1234", enhanced=True)  # fmt: skip
    boats = logistics.add_type(db, actor, name_ar="زورق دورية مطاطي", name_en="Rigid inflatable patrol boat", category="vessels", part_number="RIB-7.5", enhanced=True)  # fmt: skip
    vests = logistics.add_type(db, actor, name_ar="سترة نجاة", name_en="Life vest", category="safety", part_number="4220-01-123-4567")  # fmt: skip
    serials = {
        radios.id: [f"VHF-{i:04d}" for i in range(1, 13)],
        boats.id: ["RIB-0001", "RIB-0002"],
        vests.id: [f"LV-{i:04d}" for i in range(1, 21)],
    }
    count = 0
    for type_id, numbers in serials.items():
        logistics.add_items(db, actor, type_id, numbers, donor="Partner embassy", case_ref="EUM-2026-004", site="عدن")  # fmt: skip
        count += len(numbers)
    aden_serials = serials[radios.id][:8] + serials[boats.id] + serials[vests.id]
    handover = logistics.issue_handover(db, actor, ref="HO-2026-001", to_unit_id=aden.id, serials=aden_serials, from_donor="Partner embassy")  # fmt: skip
    from rasid.core.actor import Actor as _Actor

    receiver = _Actor(user_id=None, username="system", org_id=actor.org_id, roles=actor.roles, via="system")  # fmt: skip
    logistics.accept_handover(db, receiver, handover.id)
    done = logistics.schedule_check(db, actor, unit_id=aden.id, kind="initial", scheduled_for=today - timedelta(days=7))  # fmt: skip
    results = {s: ("present", "") for s in aden_serials}
    results["VHF-0003"] = ("missing", "not found in the sector's armoury")
    logistics.record_check(db, actor, done.id, results, today - timedelta(days=7))
    logistics.schedule_check(db, actor, unit_id=aden.id, kind="enhanced", scheduled_for=today - timedelta(days=2))  # fmt: skip
    logistics.schedule_check(db, actor, unit_id=mukalla.id, kind="routine", scheduled_for=today + timedelta(days=30))  # fmt: skip
    from rasid.logistics import requests

    boat = db.scalar(select(Item).where(Item.serial == "RIB-0002"))
    requests.create(db, actor, category="technical", unit_id=aden.id, priority="high", title="Outboard engine of RIB-0002 fails to start", item_ids=[boat.id] if boat else [], today=today - timedelta(days=10))  # fmt: skip
    requests.create(db, actor, category="logistical", unit_id=mukalla.id, priority="normal", title="Fuel for the patrol boats' exercise")  # fmt: skip
    return {"equipment serials": count, "end-use checks": 3, "support requests": 2}
