"""Real Chromium (Debian's, driven by Playwright) against a real server on loopback.

Skips with a notice when Chromium is missing, unless RASID_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn

from rasid.core.settings import Settings
from tests.conftest import PASSWORD, World

CHROMIUM = os.environ.get("RASID_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("RASID_REQUIRE_BROWSER") == "1"
SHOTS = Path(os.environ.get("RASID_SCREENSHOTS", "/tmp/rasid-screens"))
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The browser tests run on SQLite only: the pages are the same on both databases."""
    import shutil

    path = tmp_path / "rasid.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(settings: Settings, world: World) -> Iterator[str]:
    from rasid.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if REQUIRE:
            pytest.fail(f"RASID_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"NOTICE: {CHROMIUM} not installed; browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.requests_seen = []  # type: ignore[attr-defined]
    pg.on("request", lambda request: pg.requests_seen.append(request.url))  # type: ignore[attr-defined]
    yield pg
    context.close()


def _login(page: Any, server: str, username: str, password: str = PASSWORD) -> None:
    page.goto(server + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    page.click("#login-submit")


def _only_own_server(page: Any, server: str) -> None:
    outside = [u for u in page.requests_seen if not (u.startswith(server) or u.startswith("data:"))]
    assert outside == [], outside


def test_login_arabic_rtl_dashboard_switch_to_english_and_logout(page: Any, server: str) -> None:
    _login(page, server, "analyst")
    page.wait_for_selector("#figures, .lead")
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.inner_text("main h1") == "لوحة المتابعة"
    # Mirrored layout: in Arabic the navigation sits on the right of the content.
    nav = page.locator("nav.sidenav").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav["x"] > main["x"]
    # The Arabic font is served locally and used.
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Arabic\"', 'لوحة')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard-ar.png"))

    page.click("#lang-switch")
    page.wait_for_selector("html[dir=ltr]")
    assert page.get_attribute("html", "lang") == "en" and page.inner_text("main h1") == "Dashboard"
    nav = page.locator("nav.sidenav").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav["x"] < main["x"]
    page.screenshot(path=str(SHOTS / "dashboard-en.png"))

    page.click("#logout")
    page.wait_for_selector("#login-form")
    assert page.url.startswith(server + "/login")
    page.goto(server + "/")
    assert "/login" in page.url  # the session really ended
    _only_own_server(page, server)


def test_phone_width_has_no_horizontal_scroll_and_menu_opens(browser: Any, server: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    pg = context.new_page()
    try:
        _login(pg, server, "auditor")
        pg.wait_for_selector("main h1")
        for path in ("/", "/audit", "/profile"):
            pg.goto(server + path)
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        pg.goto(server + "/")
        assert not pg.is_visible("nav.sidenav")
        pg.click("label.nav-toggle-label")
        assert pg.is_visible("nav.sidenav")
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "phone-ar.png"))
    finally:
        context.close()


def test_newcomer_admin_enrols_mfa_creates_org_and_user_and_finds_them_audited(
    page: Any, server: str
) -> None:
    _login(page, server, "admin")
    page.wait_for_selector("#mfa-secret")  # administrators must enrol first
    secret = page.inner_text("#mfa-secret").strip()
    page.fill("#f-code", pyotp.TOTP(secret).now())
    page.click("#mfa-enrol-form button[type=submit]")
    page.wait_for_selector("#mfa")
    page.click("#lang-switch")
    page.wait_for_selector("html[dir=ltr]")

    page.goto(server + "/admin/organisations")
    page.fill("#f-slug", "gulf-liaison")
    page.fill("#f-name_ar", "مكتب ارتباط خليج عدن")
    page.fill("#f-name_en", "Gulf of Aden Liaison Office")
    page.fill("#f-country", "DJ")
    page.select_option("#f-kind", "agency")
    page.click("#org-form button[type=submit]")
    page.wait_for_selector('tr[data-slug="gulf-liaison"]')

    page.goto(server + "/admin/users")
    page.fill("#f-username", "liaison2")
    page.select_option("#f-org", "gulf-liaison")
    page.fill("#f-display_name_ar", "ضابط الاتصال")
    page.fill("#f-display_name_en", "Liaison Officer")
    page.fill("#f-password", "a long enough password 2026")
    page.check("input[name=roles][value=liaison]")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector('tr[data-username="liaison2"]')

    page.goto(server + "/audit")
    page.fill("#f-user", "admin")
    page.fill("#f-action", "create")
    page.click("#audit-filters button[type=submit]")  # htmx swaps the results in place
    page.wait_for_url("**/audit?*user=admin*")
    page.wait_for_selector("#audit-table tr[data-seq] >> nth=1")
    text = page.inner_text("#audit-table")
    assert text.count("create") >= 2 and "organisation" in text and "user" in text
    page.screenshot(path=str(SHOTS / "audit-en.png"), full_page=True)
    _only_own_server(page, server)


def test_wrong_password_message_in_arabic(page: Any, server: str) -> None:
    _login(page, server, "analyst", "definitely wrong")
    page.wait_for_selector("#form-error")
    assert re.search("غير صحيحة", page.inner_text("#form-error"))
    assert page.get_attribute("html", "dir") == "rtl"


def _seed_registry(world: World) -> dict[str, int]:
    from datetime import date

    from rasid.registry import service
    from rasid.registry.schemas import EntityIn, IncidentIn, InvolvementIn, LinkIn, NameIn

    ids: dict[str, int] = {}
    with world.factory.begin() as db:
        analyst = world.actor("analyst")
        person, _ = service.create_entity(
            db,
            analyst,
            EntityIn(
                kind="person",
                marking="TLP:GREEN",
                names=[NameIn(name="محمد عبدالله الحوثي", name_type="as_written")],
            ),
        )
        brother, _ = service.create_entity(
            db,
            analyst,
            EntityIn(
                kind="person",
                marking="TLP:GREEN",
                names=[NameIn(name="يحيى عبدالله الحوثي", name_type="as_written")],
            ),
        )
        cousin, _ = service.create_entity(
            db,
            analyst,
            EntityIn(
                kind="person",
                marking="TLP:GREEN",
                names=[NameIn(name="علي حسين الحوثي", name_type="as_written")],
            ),
        )
        service.create_link(
            db,
            analyst,
            LinkIn(
                source_id=person.id,
                target_id=brother.id,
                link_type="relative_of",
                marking="TLP:GREEN",
            ),
        )
        service.create_link(
            db,
            analyst,
            LinkIn(
                source_id=brother.id,
                target_id=cousin.id,
                link_type="relative_of",
                marking="TLP:GREEN",
            ),
        )
        for day, (lat, lon) in enumerate([(16.94, 43.76), (15.35, 44.2), (14.8, 42.95)], start=1):
            service.create_incident(
                db,
                analyst,
                IncidentIn(
                    title=f"حادثة {day}",
                    event_date=date(2024, day, 10),
                    marking="TLP:GREEN",
                    lat=lat,
                    lon=lon,
                    involvements=[InvolvementIn(entity_id=person.id, role="suspect")],
                ),
            )
        ids = {"person": person.id, "brother": brother.id, "cousin": cousin.id}
    return ids


def test_registry_pages_map_timeline_chart_and_search_in_chromium(
    page: Any, server: str, world: World
) -> None:
    ids = _seed_registry(world)
    _login(page, server, "analyst")
    page.wait_for_selector("main h1")
    page.goto(server + "/registry/search?q=Muhammad+Abdallah+Al+Huthi")
    first = page.locator("#results li.result").first
    assert first.get_attribute("data-id") == str(ids["person"])
    assert first.locator("mark").count() >= 2  # the matched parts are highlighted

    page.goto(server + "/registry/incidents")
    page.wait_for_selector(
        "#incident-map .leaflet-interactive"
    )  # markers drawn on the offline basemap
    page.wait_for_selector("#incident-map path.leaflet-interactive >> nth=2")
    page.wait_for_selector("#incident-timeline svg")
    page.screenshot(path=str(SHOTS / "incidents-ar.png"), full_page=True)

    page.goto(server + f"/registry/entities/{ids['person']}/chart")
    page.wait_for_selector("#linkchart canvas")
    items = page.locator("#linkchart li.rasid-lc-item")
    page.wait_for_selector(f'#linkchart li.rasid-lc-item[data-node-id="e{ids["brother"]}"]')
    assert items.count() == 2  # the person and the brother; the cousin is two hops away
    # expand the brother from the accessible node list: the cousin appears
    page.click(
        f'#linkchart li.rasid-lc-item[data-node-id="e{ids["brother"]}"] button.rasid-lc-expand'
    )
    page.wait_for_selector(f'#linkchart li.rasid-lc-item[data-node-id="e{ids["cousin"]}"]')
    assert items.count() == 3
    page.screenshot(path=str(SHOTS / "linkchart-ar.png"))

    page.goto(server + "/registry/incidents/new")
    page.wait_for_selector("#pick-map .leaflet-container, #pick-map.leaflet-container")
    page.locator("#pick-map").click(position={"x": 200, "y": 150})
    assert page.input_value("#f-lat") and page.input_value("#f-lon")
    page.select_option("#f-governorate_code", "YE-SD")
    page.wait_for_selector("#f-district_id option >> nth=5", state="attached")  # htmx loaded them
    _only_own_server(page, server)


def test_maritime_live_map_vessels_alerts_zones_and_track_in_chromium(
    page: Any, server: str, world: World, settings: Settings, tmp_path: Path
) -> None:
    from rasid.maritime import service as maritime
    from rasid.maritime import simulate

    out = tmp_path / "day.nmea"
    simulate.write(out, "red-sea-day", 20, seed=7, rate=0.25, vessels=8)
    with world.factory.begin() as db:
        day = maritime.ingest(db, world.actor("watch"), [out], settings.data_dir)
    _login(page, server, "watch")
    page.wait_for_selector("main h1")
    page.goto(server + "/maritime/map")
    live = page.locator("#live-map")
    page.wait_for_function(
        "() => document.querySelector('#live-map').dataset.vessels !== undefined"
    )
    assert int(live.get_attribute("data-vessels") or 0) == day.vessels
    assert int(live.get_attribute("data-alerts") or 0) == day.alerts > 0
    page.wait_for_function("() => Number(document.querySelector('#live-map').dataset.zones) > 5")
    assert page.locator("#live-map path.maritime-vessel").count() == day.vessels
    # a vessel's popup offers its track; the track is drawn from the GeoJSON API
    page.evaluate(
        "() => { const el = document.querySelector('#live-map');"
        " el.maritimeLayers.vessels.getLayers()[0].openPopup(); }"
    )
    page.click("#live-map .maritime-track-button")
    page.wait_for_function(
        "() => Number(document.querySelector('#live-map').dataset.trackFixes) >= 2"
    )
    assert page.locator("#live-map path.maritime-track").count() == 1
    page.screenshot(path=str(SHOTS / "maritime-map-ar.png"))
    # the alert page shows the evidence fixes of both craft on its map
    page.goto(server + "/maritime/alerts?type=fast_approach")
    page.click("#alert-table tbody tr a >> nth=0")
    page.wait_for_function(
        "() => Number(document.querySelector('#evidence-map').dataset.trackFixes) > 2"
    )
    assert page.locator("#evidence-map path.maritime-track").count() == 2
    # a zone drawn on the map with three clicks, then saved
    page.goto(server + "/maritime/zones")
    page.wait_for_selector("#zones-map.leaflet-container")
    for x, y in ((300, 150), (420, 160), (380, 260)):
        page.locator("#zones-map").click(position={"x": x, "y": y})
    assert page.get_attribute("#zones-map", "data-drawn-points") == "3"
    assert len(json.loads(page.input_value("#f-drawn"))) == 3
    page.fill("#f-zone_id", "drawn-box")
    page.fill("#f-name_en", "Drawn box")
    page.click("#zone-save")
    page.wait_for_selector('#user-zones tr[data-id="drawn-box"]')
    _only_own_server(page, server)


def test_training_gate_and_offline_check_visit_in_chromium(
    page: Any, server: str, world: World, plan: dict[str, int]
) -> None:
    """The issue's "done when" in a real browser: a trainee of a denied unit is refused on the
    page with the reason, a vetted one is enrolled; a check visit is typed and scanned, kept
    on the device while offline, saved when back online, and the report shows the missing
    item."""
    from datetime import date

    from rasid.logistics import service as logistics

    _login(page, server, "analyst")
    page.wait_for_selector("main h1")
    page.goto(f"{server}/training/sessions/{plan['session']}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.fill("#f-q", "Badr")
    page.click("#trainee-search button")
    page.click(f"tr[data-person='{plan['badr']}'] .enrol-button")
    alert = page.locator("#form-error")
    assert "U-2" in alert.inner_text()
    page.fill("#f-q", "علي")
    page.click("#trainee-search button")
    page.click(f"tr[data-person='{plan['ali']}'] .enrol-button")
    page.wait_for_selector("tr[data-status='enrolled']")
    assert page.locator("#places").inner_text().startswith("1 /")

    officer = world.actor("analyst")
    with world.factory.begin() as db:
        radios = logistics.add_type(db, officer, name_ar="جهاز لاسلكي", name_en="VHF radio")
        logistics.add_items(db, officer, radios.id, ["R-001", "R-002", "R-003"])
        h = logistics.issue_handover(db, officer, ref="HO-1", to_unit_id=plan["good"],
                                     serials=["R-001", "R-002", "R-003"])  # fmt: skip
        logistics.accept_handover(db, world.actor("analyst2"), h.id)
        check = logistics.schedule_check(db, officer, unit_id=plan["good"], kind="initial",
                                         scheduled_for=date.today())  # fmt: skip
        check_id = check.id
    page.goto(f"{server}/logistics/checks/{check_id}")
    page.fill("#scan", "r-001")
    page.press("#scan", "Enter")
    assert page.locator("select[name='result.R-001']").input_value() == "present"
    page.fill("#scan", "X-999")
    page.press("#scan", "Enter")
    assert "X-999" in page.locator("#scan-message").inner_text()
    page.reload()  # the entries survive on the device
    assert page.locator("select[name='result.R-001']").input_value() == "present"
    page.context.set_offline(True)
    page.select_option("select[name='result.R-002']", "missing")
    page.fill("input[name='notes.R-002']", "not in the armoury")
    page.fill("#scan", "R-003")
    page.press("#scan", "Enter")
    page.click("#check-save")
    page.wait_for_function("() => document.querySelector('#offline-status').textContent.length > 0")
    pending = page.evaluate(f"() => JSON.parse(localStorage.getItem('rasid.check.{check_id}'))")
    assert pending["pending"] is True and pending["values"]["result.R-002"] == "missing"
    page.context.set_offline(False)
    page.wait_for_selector("tr[data-result='missing'][data-serial='R-002']")
    assert page.evaluate(f"() => localStorage.getItem('rasid.check.{check_id}')") is None
    page.goto(server + "/logistics/accountability")
    assert page.locator("#fig-missing").inner_text() == "1"
    _only_own_server(page, server)
