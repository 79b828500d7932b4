"""A security officer at the console, in a real Chromium: the day starts from the alerts, the
chain is verified on a click, an employee's activity is shown in charts, and the who-saw page
names every page or route through which a customer was seen."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver.common.by import By

from events import topics
from events.catalog import AlertRaised
from events.envelope import encode, wrap
from tests.support.kafka_tools import produce
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


def _raise_alert(site, employee: str, kind: str = "bulk_export") -> str:
    """An alert on alerts.v1, as the detectors raise it; the alerts worker projects it."""
    now = datetime.now(UTC)
    alert = AlertRaised(id=str(uuid.uuid4()), employee_id=employee, kind=kind, severity="high",  # type: ignore[arg-type]
                        score=0.93, window_start=now - timedelta(hours=1), window_end=now, raised_at=now,
                        evidence={"exports": 42, "customers": 420})
    envelope = wrap(alert, id=alert.id, source="tests", time=now, subject=employee)
    produce(site.settings, site.settings.topic(topics.ALERTS),
            [(employee.encode(), encode(envelope), [("event-type", envelope.type.encode())])])
    return alert.id


def test_the_officer_starts_from_the_alerts_and_verifies_the_chain(browser, site):
    suspect = f"emp-{uuid.uuid4().hex[:6]}"
    alert_id = _raise_alert(site, suspect)
    sign_in(browser, site, "security_officer", "sec-console", lang="en")
    assert browser.current_url.endswith("/console")
    until(browser, lambda d: d.find_elements(By.ID, f"alert-{alert_id}") or d.refresh(), "alert listed")
    assert unlabelled_inputs(browser) == []
    row = browser.find_element(By.ID, f"alert-{alert_id}")
    assert suspect in row.text and "bulk_export" in row.text and "high" in row.text and "0.93" in row.text
    row.find_element(By.TAG_NAME, "summary").click()
    assert "exports: 42" in row.text
    browser.execute_script("window.notReloaded = true")
    row.find_element(By.NAME, "comment").send_keys("checking with the manager")
    row.find_element(By.CSS_SELECTOR, "button[value=acknowledged]").click()
    until(browser, lambda d: "acknowledged" in text_of(d, f"alert-{alert_id}"), "acknowledged")
    assert "checking with the manager" in text_of(browser, f"alert-{alert_id}")
    wait_until(lambda: site.api("GET", "/v1/audit/alerts", role="security_officer", subject="sec-w2",
                                params={"status": "acknowledged", "employee_id": suspect}).json()["items"],
               message="acknowledged in the alerts read model")
    browser.get(f"{site.url}/console?status=acknowledged")
    browser.find_element(By.CSS_SELECTOR, f"#alert-{alert_id} button[value=resolved]").click()
    until(browser, lambda d: "resolved" in text_of(d, f"alert-{alert_id}"), "resolved")
    assert not browser.find_elements(By.CSS_SELECTOR, f"#alert-{alert_id} form")  # final: no more workflow
    workflow = wait_until(lambda: len(access_rows(site, "sec-console", "/console/alerts/{alert_id}/status")) == 2
                          and access_rows(site, "sec-console", "/console/alerts/{alert_id}/status"),
                          message="workflow audited")
    assert {r["action"] for r in workflow} == {"audit.alert_status"}
    browser.get(f"{site.url}/console")
    browser.execute_script("window.notReloaded = true")
    browser.find_element(By.CSS_SELECTOR, "form[action='/console/verify'] button").click()
    until(browser, lambda d: "intact" in text_of(d, "chain-status"), "chain verified")
    status = text_of(browser, "chain-status")
    assert "Checked rows" in status and "First bad row" in status
    assert browser.execute_script("return window.notReloaded") is True
    actions = {r["action"] for r in wait_until(
        lambda: access_rows(site, "sec-console", "/console/verify"), message="verify audited")}
    assert actions == {"audit.verify"}
    assert wait_until(lambda: access_rows(site, "sec-console", "/console"),
                      message="console audited")[0]["action"] == "audit.alerts"


def test_an_employees_activity_is_shown_in_charts_with_the_raw_records(browser, site):
    agent = f"emp-{uuid.uuid4().hex[:6]}"
    team = f"team-{uuid.uuid4().hex[:4]}"
    peer = f"emp-{uuid.uuid4().hex[:6]}"
    for who in (agent, peer):
        assert site.api("POST", f"/v1/employees/{who}/status", role="admin", subject="adm-1",
                        json={"status": "notice_given" if who == agent else "active", "team": team}
                        ).status_code == 202
    cid, phone, _ = customer(site, agent)
    for who in (agent, peer):
        assert site.api("GET", f"/v1/customers/{cid}", subject=who).status_code == 200
    assert site.api("GET", "/v1/customers", subject=agent, params={"q": phone}).status_code == 200
    assert site.api("GET", f"/v1/customers/{cid}/export", subject=agent).status_code == 200
    wait_until(lambda: len(access_rows(site, agent, "/v1/customers/{customer_id}/export")),
               message="export in the trail")
    wait_until(lambda: site.api("GET", "/v1/audit/access", role="security_officer", subject="sec-w",
                                params={"employee_id": peer}).json()["items"], message="peer in the trail")
    sign_in(browser, site, "security_officer", "sec-charts")
    browser.get(f"{site.url}/console/employees/{agent}")
    until(browser, lambda d: "notice_given" in text(d) or d.refresh(), "HR status shown")
    page = text(browser)
    assert team in page and peer in page
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert [c.get_attribute("aria-label") for c in charts] == [
        "Обращения к данным по часам", "Разных клиентов в день", "Выгрузок в день", "Поисков в день"]
    hourly = charts[0]
    assert hourly.find_elements(By.CSS_SELECTOR, "polyline.series")
    assert hourly.find_elements(By.CSS_SELECTOR, "polyline.baseline")
    assert hourly.find_elements(By.CSS_SELECTOR, "polygon.band")
    exports = [float(r.find_element(By.TAG_NAME, "title").get_attribute("textContent").split(": ")[1])
               for r in charts[2].find_elements(By.TAG_NAME, "rect")]
    assert exports[-1] == 1 and sum(exports) == 1
    records = browser.find_element(By.CSS_SELECTOR, "table.records").text
    assert "customer.export" in records and "/v1/customers/{customer_id}/export" in records


def test_the_who_saw_page_names_each_page_and_route_a_customer_was_seen_through(browser, site):
    agent = f"emp-{uuid.uuid4().hex[:6]}"
    cid, _, _ = customer(site, agent)
    sign_in(browser, site, "agent", agent)
    browser.get(f"{site.url}/desk/customers/{cid}")
    assert site.api("GET", f"/v1/customers/{cid}", subject=agent).status_code == 200
    wait_until(lambda: len(access_rows(site, agent, "/desk/customers/{customer_id}")) >= 2,
               message="page reads in the trail")
    browser.delete_all_cookies()
    sign_in(browser, site, "security_officer", "sec-who")
    browser.find_element(By.ID, "who-saw-id").send_keys(cid)
    browser.find_element(By.CSS_SELECTOR, "form[action='/console/customers'] button").click()
    until(browser, lambda d: d.current_url.endswith(f"/console/customers/{cid}"), "who-saw page")
    records = browser.find_element(By.CSS_SELECTOR, "table.records").text
    for route in ("/desk/customers/{customer_id}", "/v1/customers/{customer_id}"):
        assert f"{agent} customer.card {route}" in records
    assert agent in records and "customer.timeline" in records
