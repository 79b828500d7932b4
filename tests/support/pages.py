"""Steps a person takes in the pages, for the browser tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.data import interaction, unique_phone
from tests.support.workers import wait_until


def sign_in(browser: webdriver.Chrome, site: Any, role: str, subject: str, lang: str = "ru") -> None:
    """Type the token into the sign-in form, as a person would, and wait for the landing page."""
    browser.get(f"{site.url}/login?lang={lang}")
    browser.find_element(By.NAME, "token").send_keys(site.token(role, subject))
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    until(browser, lambda d: "/login" not in d.current_url, "signed in")


def until(browser: webdriver.Chrome, check: Callable[[webdriver.Chrome], Any], what: str,
          timeout_s: float = 20) -> Any:
    return WebDriverWait(browser, timeout_s, poll_frequency=0.05).until(check, message=what)


def text(browser: webdriver.Chrome) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def customer(site: Any, agent: str, count: int = 1, name: str = "Ирина Петрова",
             **overrides: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """A customer with ``count`` calls through the real pipeline: (id, phone, interactions)."""
    phone = unique_phone()
    items = [interaction(customer={"phone": phone, "name": name}, agent_id=agent, **overrides)
             for _ in range(count)]
    answer = site.ingest.post("/v1/interactions/batch", json={"items": items},
                              headers=site.headers("channel", "tel"))
    assert answer.status_code == 202, answer.text
    found = wait_until(lambda: site.api("GET", "/v1/customers", params={"q": phone}).json()["items"],
                       message=f"customer {phone} searchable")
    cid = found[0]["id"]
    wait_until(lambda: site.api("GET", f"/v1/customers/{cid}").json()["stats"]["total"] == count,
               message="every interaction on the card")
    return cid, phone, items


def access_rows(site: Any, employee: str, route: str) -> list[dict[str, Any]]:
    """The employee's access records through one route, from the audit trail (audit worker)."""
    from tests.support.audit import rows

    return rows(site.settings.dsn, "SELECT action, customer_ids, route, role FROM access_log"
                " WHERE employee_id = %s AND route = %s", (employee, route))


def text_of(browser: webdriver.Chrome, element_id: str) -> str:
    """An element's text read in one script call: a fragment swapped in meanwhile cannot leave
    the test holding a stale element."""
    return str(browser.execute_script(
        "var e = document.getElementById(arguments[0]); return e ? e.innerText : ''", element_id))


def unlabelled_inputs(browser: webdriver.Chrome) -> list[str]:
    """Names of the visible form fields that no label names (each needs one for screen readers)."""
    return list(browser.execute_script(
        "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))"
        ".filter(e => !e.labels || e.labels.length === 0).map(e => e.name || e.id)"))
