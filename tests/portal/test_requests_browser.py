"""Nobody left waiting, in a real browser on the whole stack (`peerline up` with a real
SMTP relay): an officer asks for a peer with one button; a supporter who does not
answer in time is passed over for the next, who takes it in one tap from the
notification's link, and the officer's page says who will reach them and by when, by
itself. With nobody left to pass it to, the request waits for the coordinator, whose
page says that it waits and since when, never who asked, and who gives it to a peer.

Each step saves a screenshot and is checked with axe-core at a phone's width."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    Stack,
    accessible,
    follow,
    links_in,
    new_agency,
    phone_page,
    put_supporter,
    screenshot,
    sign_in,
)
from tests.support.portal import sign_in as sign_in_over_http

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# How long the page waits for news it checks for by itself (every few seconds).
NEWS = 30_000


def _settings(stack: Stack, agency: str, **values) -> None:
    """The agency's settings (all of them: those not named take their defaults)."""
    body = {"agency_id": agency, **values}
    stack.call(agency, "coordinator", "PUT", "roster", "/v1/settings", json=body)


def _officer(stack: Stack, agency: str, personnel_id: str) -> None:
    stack.call(
        agency,
        "coordinator",
        "PUT",
        "roster",
        f"/v1/officers/{personnel_id}",
        json={
            "display_name": "Casey Brennan",
            "contact": {"phone": "+1 555 0142 913", "preferred": "call"},
        },
    )


def _email(supporter_id: str) -> str:
    return f"{supporter_id.lower()}@pso.example"


def _ask(page: Page, stack: Stack, agency: str, personnel_id: str, reach: str) -> None:
    """The officer signs in, opens "Ask for a peer" and asks, with one choice made."""
    page.goto(stack.portal)
    sign_in(page, stack.portal, agency, "officer", personnel_id)
    nav = page.get_by_role("navigation", name="Main")
    follow(page, nav.get_by_role("link", name="Ask for a peer"))
    expect(page.get_by_text("Your agency's leadership never sees who asked.")).to_be_visible()
    assert page.locator("textarea, input[type=text]").count() == 0  # nothing to type
    accessible(page)
    screenshot(page, "officer-ask")
    page.get_by_label(reach).check()
    follow(page, page.get_by_role("button", name="Ask for a peer"))
    expect(page.get_by_role("heading", name="Waiting for a peer")).to_be_visible()


def test_a_request_nobody_answers_moves_on_and_the_next_peer_takes_it_in_one_tap(
    stack, page, browser
):
    agency = new_agency()
    # Alike in everything: matching breaks the tie by the smaller id, so Alex is first.
    alex, bea = f"S1-{agency}", f"S2-{agency}"
    put_supporter(stack, agency, alex, "Alex Rivera")
    put_supporter(stack, agency, bea, "Bea Santos")
    _officer(stack, agency, "B-31")
    _settings(stack, agency, acknowledge_request_within=4)

    _ask(page, stack, agency, "B-31", "A text")
    # Whoever it moves to next has long enough to answer (each move takes the
    # setting as it is then); Alex keeps his 4 seconds.
    _settings(stack, agency, acknowledge_request_within=600)
    accessible(page)
    screenshot(page, "officer-request-sent")

    to_alex = stack.mail_to(_email(alex))
    [link] = links_in(to_alex, "/assignments/")
    # Alex lets it pass; after 4 seconds it is Bea's.
    to_bea = stack.mail_to(_email(bea), timeout=60)
    assert links_in(to_bea, "/assignments/") == {link}
    for mail in (*to_alex, *to_bea):  # a notification names no officer (rule 4)
        assert "B-31" not in mail.text and "Casey" not in mail.text

    supporter = phone_page(browser)
    try:
        supporter.goto(link)
        assert "/signin?next=" in supporter.url
        sign_in(supporter, stack.portal, agency, "supporter", bea)
        assert supporter.url == link
        expect(supporter.get_by_role("heading", name="I'll reach them by …")).to_be_visible()
        expect(
            supporter.get_by_text("They asked for a peer themselves. They would like a text.")
        ).to_be_visible()
        expect(supporter.get_by_text("Casey Brennan").first).to_be_visible()
        accessible(supporter)
        screenshot(supporter, "supporter-acknowledge")

        follow(supporter, supporter.get_by_role("button", name=re.compile("^Within 15 minutes")))
        expect(
            supporter.get_by_role("heading", name=re.compile("^You said you'd reach them by"))
        ).to_be_visible()
        assert supporter.get_by_role("button", name=re.compile("^Within")).count() == 0
        accessible(supporter)
        screenshot(supporter, "supporter-acknowledged")
    finally:
        supporter.context.close()

    # The officer's page, left open, shows it by itself.
    taken = page.get_by_role("heading", name=re.compile(r"^Bea will reach you by"))
    expect(taken).to_be_visible(timeout=NEWS)
    expect(page.locator("#request-news")).to_have_text(re.compile("^Bea will reach you by"))
    expect(page.get_by_role("button", name="Cancel my request")).to_have_count(0)
    assert "Bea Santos" not in page.content()  # the first name only
    accessible(page)
    screenshot(page, "officer-request-taken")
    page.reload()
    expect(taken).to_be_visible()

    # It is Bea's now: Alex's link leads nowhere.
    with httpx.Client(base_url=stack.portal) as passed_over:
        sign_in_over_http(passed_over, agency, "supporter", alex)
        answer = passed_over.get(link.removeprefix(stack.portal))
    assert answer.status_code == 403 and "Casey" not in answer.text


def test_a_request_nobody_can_take_waits_for_the_coordinator_who_gives_it_to_a_peer(
    stack, page, browser
):
    agency = new_agency()
    alex, bea, coordinator = f"S1-{agency}", f"S2-{agency}", f"C-{agency}"
    put_supporter(stack, agency, alex, "Alex Rivera")
    stack.call(
        agency,
        "coordinator",
        "PUT",
        "roster",
        f"/v1/coordinators/{coordinator}",
        json={
            "agency_id": agency,
            "display_name": "Dana Brooks",
            "contact": {"email": _email(coordinator)},
        },
    )
    _officer(stack, agency, "B-32")
    _settings(stack, agency, acknowledge_request_within=4)

    _ask(page, stack, agency, "B-32", "A call")
    stack.mail_to(_email(alex))  # and Alex lets it pass: nobody else can take it
    alerts = stack.mail_to(_email(coordinator), timeout=60)
    [waiting_link] = links_in(alerts, "/waiting")
    assert all("B-32" not in mail.text and "Casey" not in mail.text for mail in alerts)
    escalated = page.get_by_role("heading", name="The program's coordinator is finding someone")
    expect(escalated).to_be_visible(timeout=NEWS)
    accessible(page)
    screenshot(page, "officer-request-escalated")

    desk = phone_page(browser)
    try:
        desk.goto(waiting_link)
        sign_in(desk, stack.portal, agency, "coordinator", coordinator)
        assert desk.url.endswith("/waiting")
        card = desk.locator(".card").filter(has_text="An officer asked for a peer")
        expect(card).to_have_count(1)
        expect(card.get_by_text(re.compile("^Waiting since"))).to_be_visible()
        assert "B-32" not in desk.content() and "Casey" not in desk.content()
        accessible(desk)
        screenshot(desk, "coordinator-waiting")

        # Alex had it and let it pass: the roster will not give it back to him.
        card.get_by_label("Give it to").select_option(label="Alex Rivera · Sergeant")
        follow(desk, card.get_by_role("button", name="Give it to them"))
        expect(desk.get_by_role("alert")).to_contain_text("cannot take it now")
        accessible(desk)

        put_supporter(stack, agency, bea, "Bea Santos")
        _settings(stack, agency, acknowledge_request_within=600)
        desk.reload()
        card = desk.locator(".card").filter(has_text="An officer asked for a peer")
        card.get_by_label("Give it to").select_option(label="Bea Santos · Sergeant")
        follow(desk, card.get_by_role("button", name="Give it to them"))
        expect(desk.get_by_role("status")).to_have_text("Given to Bea Santos, who is notified.")
        expect(desk.get_by_text("Nothing is waiting for a peer just now.")).to_be_visible()
        accessible(desk)
        screenshot(desk, "coordinator-given")
    finally:
        desk.context.close()

    assert links_in(stack.mail_to(_email(bea), timeout=60), "/assignments/")
    # The officer's page goes back to waiting for a peer: Bea has it now.
    expect(page.get_by_role("heading", name="Waiting for a peer")).to_be_visible(timeout=NEWS)
    accessible(page)
