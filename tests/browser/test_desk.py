"""An agent at the desk, in a real Chromium: sign in, find a caller by a typed phone, read the
card and its history, write down what was agreed, set a reminder, and see the next caller pop
up without a reload. Every page read is an access record like its JSON twin."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.support.data import interaction, unique_phone
from tests.support.pages import (
    access_rows,
    customer,
    sign_in,
    text,
    text_of,
    unlabelled_inputs,
    until,
)
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration


def _agent() -> str:
    return f"emp-{uuid.uuid4().hex[:6]}"


def test_an_agent_signs_in_finds_a_typed_phone_and_opens_the_card(browser, site):
    agent = _agent()
    cid, phone, _ = customer(site, agent, count=2)
    sign_in(browser, site, "agent", agent)
    assert browser.current_url.endswith("/desk")
    assert browser.switch_to.active_element.get_attribute("name") == "q"  # focused on load
    assert unlabelled_inputs(browser) == []
    digits = phone.replace(" ", "").replace("(", "").replace(")", "").replace("-", "")
    typed = f"+7 {digits[1:4]} {digits[4:7]} {digits[7:9]} {digits[9:]}"  # another spelling
    browser.switch_to.active_element.send_keys(typed, Keys.ENTER)
    link = until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"#results a[href$='{cid}']"),
                 "search result")[0]
    assert "Ирина Петрова" in link.text
    link.click()
    until(browser, lambda d: d.current_url.endswith(f"/desk/customers/{cid}"), "card page")
    page = text(browser)
    assert "Ирина Петрова" in page and phone in page  # the national spelling, as the agent typed it
    assert page.count("Длительность 1:00 мин") == 2
    for route, action in (("/desk/customers/{customer_id}", {"customer.card", "customer.timeline"}),
                          ("/desk", {"customer.search", "task.list", "request.list"})):
        records = wait_until(lambda r=route: access_rows(site, agent, r), message=f"{route} audited")
        assert {r["action"] for r in records} >= action
    assert site.api("GET", f"/v1/customers/{cid}", subject=agent).status_code == 200
    api_read = wait_until(lambda: access_rows(site, agent, "/v1/customers/{customer_id}"), message="api read")
    page_read = [r for r in access_rows(site, agent, "/desk/customers/{customer_id}") if r["action"] == "customer.card"]
    same = ("action", "customer_ids", "role")
    assert [{k: r[k] for k in same} for r in page_read] == [{k: r[k] for k in same} for r in api_read]
    assert page_read[0]["customer_ids"] == [cid] and page_read[0]["role"] == "agent"


def test_the_timeline_scrolls_for_more_filters_by_channel_and_folds_a_mail_thread(browser, site):
    agent = _agent()
    cid, phone, _ = customer(site, agent, count=34)
    thread = f"<thread-{uuid.uuid4().hex}@shop.ru>"
    mails = [interaction(channel="email", customer={"phone": phone, "email": f"{agent}@mail.ru"},
                         subject=f"Re: заказ {i}", body=f"письмо {i}", agent_id=agent,
                         occurred_at=f"2026-11-30T10:0{i}:00+00:00",
                         details={"thread_id": thread, "message_id": f"<m{i}-{thread[1:]}"})
             for i in range(3)]
    assert site.ingest.post("/v1/interactions/batch", json={"items": mails},
                            headers=site.headers("channel", "mail")).status_code == 202
    wait_until(lambda: site.api("GET", f"/v1/customers/{cid}").json()["stats"]["total"] == 37,
               message="mail on the card")
    sign_in(browser, site, "agent", agent, lang="en")
    browser.get(f"{site.url}/desk/customers/{cid}")
    items = browser.find_elements(By.CSS_SELECTOR, "#timeline > li.item")
    assert len(items) == 28  # a page of 30, the thread's 3 mails folded into one
    assert "2 earlier messages in this thread" in items[0].text
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    until(browser, lambda d: "End of history." in text(d), "the rest of the history")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline > li.item")) == 35
    browser.find_element(By.LINK_TEXT, "✉ Email").click()
    until(browser, lambda d: "channel=email" in d.current_url, "filtered")
    shown = browser.find_elements(By.CSS_SELECTOR, "#timeline > li.item")
    assert [i.get_attribute("data-channel") for i in shown] == ["email"]


def test_a_note_a_reminder_a_request_and_the_profile_are_saved_without_a_reload(browser, site):
    agent = _agent()
    cid, _, _ = customer(site, agent)
    sign_in(browser, site, "agent", agent)
    browser.get(f"{site.url}/desk/customers/{cid}")
    assert unlabelled_inputs(browser) == []
    browser.execute_script("window.notReloaded = true")
    browser.find_element(By.CSS_SELECTOR, "textarea[name=text]").send_keys("Договорились о возврате")
    browser.find_element(By.CSS_SELECTOR, "#note-outcome option[value=callback]").click()
    browser.find_element(By.CSS_SELECTOR, "form[action$='/notes'] button").click()
    until(browser, lambda d: "Сохранено." in text_of(d, "note-result"), "note saved")
    first = browser.find_element(By.CSS_SELECTOR, "#timeline > li")
    assert "Договорились о возврате" in first.text and "callback" in first.text
    due = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    browser.find_element(By.ID, "task-title").send_keys("Перезвонить о возврате")
    # The date-time picker's typing order follows the browser's locale; a person picks, the test sets.
    browser.execute_script("document.getElementById('task-due').value = arguments[0]", due)
    browser.find_element(By.CSS_SELECTOR, "form[action$='/tasks'] button").click()
    until(browser, lambda d: "Сохранено." in text_of(d, "task-result"), "task saved")
    browser.find_element(By.ID, "request-subject").send_keys("Возврат товара")
    browser.find_element(By.CSS_SELECTOR, "#request-priority option[value=urgent]").click()
    browser.find_element(By.CSS_SELECTOR, "form[action$='/requests'] button").click()
    until(browser, lambda d: "Сохранено." in text_of(d, "request-result"), "request saved")
    company = browser.find_element(By.ID, "profile-company")
    company.send_keys("ООО Ромашка")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/profile'] button").click()
    until(browser, lambda d: "Сохранено." in text_of(d, "profile-result"), "profile saved")
    assert browser.execute_script("return window.notReloaded") is True
    wait_until(lambda: (lambda c: c["company"] == "ООО Ромашка" and c["open_requests"])(
        site.api("GET", f"/v1/customers/{cid}").json()), message="profile and request projected")
    wait_until(lambda: any(i["channel"] == "note" for i in
                           site.api("GET", f"/v1/customers/{cid}/timeline").json()["items"]),
               message="note projected")
    browser.get(f"{site.url}/desk/customers/{cid}?channel=note")
    page = text(browser)
    assert "Договорились о возврате" in page and "ООО Ромашка" in page
    assert "Возврат товара · открыто · срочный" in page
    browser.get(f"{site.url}/desk")
    until(browser, lambda d: "Перезвонить о возврате" in text(d) or d.refresh(), "the reminder on the desk")
    for route, action in (("notes", "customer.note"), ("tasks", "task.create"), ("requests", "request.open"),
                          ("profile", "customer.profile")):
        records = wait_until(lambda r=route: access_rows(site, agent, f"/desk/customers/{{customer_id}}/{r}"),
                             message=f"{route} audited")
        assert [(r["action"], r["customer_ids"]) for r in records] == [(action, [cid])]


def test_an_inbound_call_pops_the_callers_card_without_a_reload(browser, site):
    agent = _agent()
    cid, phone, _ = customer(site, agent, name="Пётр Сидоров")
    sign_in(browser, site, "agent", agent)
    browser.execute_script("window.notReloaded = true")
    time.sleep(1)  # the page's event stream is connected
    ring = interaction(customer={"phone": phone}, agent_id=agent, occurred_at=datetime.now(UTC).isoformat())
    sent = time.monotonic()
    assert site.ingest.post("/v1/interactions", json=ring, headers=site.headers("channel", "tel")).status_code == 202
    until(browser, lambda d: "Пётр Сидоров" in text_of(d, "pop"), "screen-pop")
    popped_after = time.monotonic() - sent
    assert browser.execute_script("return window.notReloaded") is True
    stranger = unique_phone()
    unknown = interaction(channel="chat", customer={"phone": stranger}, agent_id=agent,
                          occurred_at=datetime.now(UTC).isoformat())
    assert site.ingest.post("/v1/interactions", json=unknown,
                            headers=site.headers("channel", "chat")).status_code == 202
    until(browser, lambda d: "новый клиент" in text_of(d, "pop"), "unknown caller pops")
    assert stranger in text_of(browser, "pop")
    print(f"screen-pop shown {popped_after:.2f} s after ingest answered")  # noqa: T201
    assert wait_until(lambda: access_rows(site, agent, "/desk/customers/{customer_id}/summary"),
                      message="pop audited")[0]["action"] == "customer.card"
