"""The portal in a real browser (Debian's chromium, driven by Playwright) on the whole
stack as `peerline up` runs it, with a real SMTP relay catching the notifications. Each
journey saves a screenshot beside the test's files, and every page it passes is checked
with axe-core at a phone's width: no serious or critical violation. The stack, the
browser and these helpers: tests/support/browser.py and tests/portal/conftest.py."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    PHONE,
    accessible,
    follow,
    new_agency,
    on_call_now,
    put_supporter,
    screenshot,
    sign_in,
)
from tests.support.clock import hours_ago
from tests.support.portal import sign_in as sign_in_over_http
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_officer_finds_a_peer_on_call_who_speaks_their_language(stack, page):
    agency = new_agency()
    put_supporter(
        stack,
        agency,
        f"S1-{agency}",
        "Ana Morales",
        languages=["es", "en"],
        availability={"timezone": "UTC", "weekly": [], "on_call": on_call_now(), "leave": []},
    )
    put_supporter(stack, agency, f"S2-{agency}", "Ben Cole", gender="male")
    page.goto(stack.portal)
    accessible(page)  # the sign-in page
    sign_in(page, stack.portal, agency, "officer", "B-77")
    assert page.url.endswith("/peers"), page.content()
    assert page.get_by_role("status").inner_text() == "2 peers"
    accessible(page)

    page.get_by_label("Language").select_option("es")
    page.get_by_label("On call now").check()
    follow(page, page.get_by_role("button", name="Show peers"))
    assert page.get_by_role("status").inner_text() == "1 peer"
    card = page.locator(".card")
    assert card.get_by_role("heading").inner_text() == "Ana Morales"
    assert card.get_by_role("link", name="Call Ana").get_attribute("href").startswith("tel:")
    assert card.get_by_role("link", name="Text").get_attribute("href").startswith("sms:")
    screenshot(page, "officer-directory")

    follow(page, page.get_by_role("link", name="All crisis lines"))
    assert page.get_by_role("link", name="Call 988", exact=True).get_attribute("href") == "tel:988"
    assert page.get_by_role("link", name="Crisis? Call 988").get_attribute("href") == "tel:988"
    accessible(page)
    screenshot(page, "officer-crisis-lines")
    for path in ("/resources", "/preferences", "/feedback", "/privacy"):
        page.goto(stack.portal + path)
        accessible(page)
    # Browsing is never recorded per person: no service's log names the officer.
    for log in stack.logs.glob("*.log"):
        assert "B-77" not in log.read_text(), log.name


def test_a_supporter_opens_the_notification_reaches_the_officer_and_logs_a_contact(
    stack, page, browser
):
    agency = new_agency()
    alex, jo = f"S1-{agency}", f"S2-{agency}"
    put_supporter(stack, agency, alex, "Alex Rivera")
    stack.call(
        agency,
        "coordinator",
        "PUT",
        "roster",
        "/v1/officers/B-5",
        json={
            "display_name": "Casey Brennan",
            "contact": {"phone": "+1 555 0142 913", "preferred": "text"},
        },
    )
    stack.call(
        agency,
        "ingest",
        "POST",
        "incidents",
        "/v1/incidents",
        json={
            "external_id": "WEB-1",
            "category": "officer_involved_shooting",
            # reported late: the first offer (+24 h) is due at once
            "occurred_at": hours_ago(30),
            "involved": [{"personnel_id": "B-5", "role": "primary"}],
        },
    )
    mails = wait_until(
        lambda: (
            len(stack.mailbox.to(f"{alex.lower()}@pso.example")) >= 2
            and stack.mailbox.to(f"{alex.lower()}@pso.example")
        ),
        60,
        "the assignment and due notifications",
    )
    links = {
        m for mail in mails for m in re.findall(r"http://\S+/assignments/[0-9a-f-]{36}", mail.text)
    }
    assert len(links) == 1
    [link] = links
    assert "Casey" not in mails[0].text and "B-5" not in mails[0].text

    page.goto(link)
    assert "/signin?next=" in page.url
    sign_in(page, stack.portal, agency, "supporter", alex)
    assert page.url == link
    expect(page.get_by_text("Casey Brennan").first).to_be_visible()
    assert (
        page.get_by_role("link", name="Call", exact=True).get_attribute("href")
        == "tel:+15550142913"
    )
    accessible(page)
    screenshot(page, "supporter-assignment")

    form = page.locator("form.contact")
    assert form.locator("textarea, input[type=text]").count() == 0  # codes only
    form.get_by_label("Phone").check()
    form.get_by_label("15–30 min").check()
    form.get_by_label("Support given").check()
    follow(page, form.get_by_role("button", name="Log contact"))
    expect(page.get_by_text("Contact logged.")).to_be_visible()
    assignment_id = link.rsplit("/", 1)[1]

    def closed() -> list:
        offers = stack.call(
            agency, "coordinator", "GET", "checkins", "/v1/checkins", params={"status": "closed"}
        )
        return [(o["assignment_id"], o["sequence"], o["outcome"]) for o in offers]

    assert wait_until(closed, 30, "the offer to close") == [(assignment_id, 1, "contacted")]
    accessible(page)
    screenshot(page, "supporter-contact-logged")
    for path in ("/me", "/assignments"):
        page.goto(stack.portal + path)
        accessible(page)

    # Access rules, through the portal.
    other = browser.new_context(viewport=PHONE)
    try:
        intruder = other.new_page()
        put_supporter(stack, agency, jo, "Jo Park")
        intruder.goto(link)
        sign_in(intruder, stack.portal, agency, "supporter", jo)
        assert "Not for this account" in intruder.content()
        assert "Casey" not in intruder.content()
    finally:
        other.close()
    with httpx.Client(base_url=stack.portal) as coordinator:
        sign_in_over_http(coordinator, agency, "coordinator", "C-1")
        pages = {
            p: coordinator.get(p)
            for p in (link.removeprefix(stack.portal), "/queue", "/roster", "/notifications")
        }
    assert pages[link.removeprefix(stack.portal)].status_code == 403
    for answer in pages.values():
        assert "Casey" not in answer.text
        assert "555 0142" not in answer.text and "5550142" not in answer.text
    with httpx.Client(base_url=stack.portal) as leader:
        sign_in_over_http(leader, agency, "leadership", "L-1")
        for path in (
            link.removeprefix(stack.portal),
            "/assignments",
            "/peers",
            "/queue",
            "/roster",
            "/me",
            "/preferences",
            "/notifications",
        ):
            assert leader.get(path).status_code == 403, path
    stranger = new_agency()
    with httpx.Client(base_url=stack.portal) as foreign:
        sign_in_over_http(foreign, stranger, "coordinator", "C-9")
        roster = foreign.get("/roster")
    with httpx.Client(base_url=stack.portal) as foreign:  # the same id, in another agency
        sign_in_over_http(foreign, stranger, "supporter", alex)
        mine = foreign.get("/assignments")
        theirs = foreign.get(link.removeprefix(stack.portal))
    assert roster.status_code == 200 and "Alex Rivera" not in roster.text
    assert "Casey" not in mine.text and theirs.status_code == 403


HEADER = "kind,supporter_id,personnel_id,display_name,email,rank\n"


def test_a_coordinator_sees_the_bad_cell_fixes_it_and_imports(stack, page, tmp_path):
    agency = new_agency()
    bad = tmp_path / "roster.csv"
    bad.write_text(
        HEADER + f"supporter,S1-{agency},PSO-1,Robin Hale,not-an-address,Sergeant\n"
        f"supporter,S2-{agency},PSO-2,Kim Ortega,kim@pso.example,Officer\n"
    )
    sign_in(page, stack.portal, agency, "coordinator", "C-1")
    assert page.url.endswith("/queue")
    accessible(page)
    follow(page, page.get_by_role("link", name="Roster"))
    page.get_by_label("CSV file").set_input_files(bad)
    follow(page, page.get_by_role("button", name="Import"))
    alert = page.get_by_role("alert")
    assert "Nothing was imported" in alert.inner_text()
    row = alert.locator("tbody tr")
    assert row.count() == 1
    assert row.locator("td").all_inner_texts()[:2] == ["2", "email"]
    assert "not-an-address" not in page.content()
    accessible(page)
    screenshot(page, "coordinator-import-error")

    bad.write_text(bad.read_text().replace("not-an-address", "robin@pso.example"))
    page.get_by_label("CSV file").set_input_files(bad)
    follow(page, page.get_by_role("button", name="Import"))
    assert "supporters 2 new" in page.get_by_role("status").inner_text()
    expect(page.get_by_role("cell", name="Robin Hale")).to_be_visible()
    screenshot(page, "coordinator-imported")
    follow(page, page.get_by_role("link", name="Resources"))
    page.get_by_label("Name").fill("Harbor Peer Line")
    page.get_by_label("Kind").select_option("crisis_line")
    page.get_by_label("Phone (optional)").fill("+1 555 0100 911")
    page.get_by_label("A crisis line").check()
    follow(page, page.get_by_role("button", name="Add"))
    expect(page.get_by_role("heading", name="Harbor Peer Line")).to_be_visible()
    accessible(page)

    follow(page, page.get_by_role("link", name="Check-in policy"))
    page.get_by_label("Category").select_option("fatal_collision")
    page.get_by_label("First offer, hours after the incident").fill("12")
    page.get_by_label("Window closes, hours after the incident").fill("48")
    page.get_by_label("Follow-ups, days after the incident (comma separated)").fill("10")
    follow(page, page.get_by_role("button", name="Save"))
    row = page.get_by_role("row").filter(has_text="fatal collision")
    assert row.locator("td").all_inner_texts()[1:4] == ["12 h", "2 days", "10 days"]
    accessible(page)

    follow(page, page.get_by_role("link", name="Intake settings"))
    page.get_by_label("Your system's code").fill("OIS99")
    page.get_by_label("Means").select_option("officer_involved_shooting")
    follow(page, page.get_by_role("button", name="Map it"))
    mapped = page.get_by_role("row").filter(has_text="OIS99")
    assert "officer involved shooting" in mapped.inner_text()
    page.get_by_label("EIDO agency ids that are this agency").fill("pd.harbor.ca.us, so.mesa.ca.us")
    page.get_by_label("the part before @").check()
    follow(page, page.get_by_role("button", name="Save EIDO settings"))
    assert page.get_by_role("status").inner_text() == "Saved."
    assert page.get_by_label("the part before @").is_checked()
    accessible(page)

    for path in ("/notifications", "/queue"):
        page.goto(stack.portal + path)
        accessible(page)
    page.goto(stack.portal + "/feedback-codes")
    page.get_by_label("How many").fill("4")
    follow(page, page.get_by_role("button", name="Issue codes"))
    expect(page.locator(".code-card")).to_have_count(4)
    accessible(page)
    screenshot(page, "coordinator-feedback-cards")


def test_a_leader_opens_the_dashboard_and_the_quarterly_report(stack, page):
    """The dashboard opens with the leader's own session: the portal asks for the charts
    with the token it signs, and none reaches the page. A new agency has nothing counted:
    one line says so, under whose figures and which months they are."""
    agency = new_agency()
    sign_in(page, stack.portal, agency, "leadership", "L-1")
    assert page.url.endswith("/dashboard")
    expect(page.get_by_role("heading", name="Is the program working?")).to_be_visible()
    scope = page.locator(".dashboard .scope")
    expect(scope).to_contain_text(f"Agency {agency}")
    expect(scope).to_contain_text("month by month")
    expect(page.locator(".dashboard .empty")).to_contain_text("Nothing counted in")
    assert "eyJ" not in page.content()  # no token (a JWT) in the page
    accessible(page)
    screenshot(page, "leader-dashboard")
    follow(page, page.get_by_role("link", name="Quarterly report").first)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Peer support program")
    assert "Agency " + agency in page.content()
    accessible(page)
    screenshot(page, "leader-report")
    page.goto(stack.portal + "/dashboard")
    accessible(page)
