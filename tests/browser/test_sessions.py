"""Sessions in a real Chromium and over plain HTTP: the language a person picks, the CSRF and
origin checks on every form post, a leaver whose open session dies at once, and roles."""

from __future__ import annotations

import uuid

import httpx
import pytest
from selenium.webdriver.common.by import By

from kartoteka.auth import Role
from services.api.pages.session import open_session
from tests.support.pages import customer, sign_in, text, until
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration


def _employee() -> str:
    return f"emp-{uuid.uuid4().hex[:6]}"


def test_the_language_switches_labels_dates_and_phones_and_is_remembered(browser, site):
    agent = _employee()
    # A fixed time: the data helper's default moves on a minute per interaction made before.
    cid, phone, _ = customer(site, agent, occurred_at="2026-11-01T09:00:00+00:00")
    sign_in(browser, site, "agent", agent, lang="ru")
    browser.get(f"{site.url}/desk/customers/{cid}")
    russian = text(browser)
    assert "Телефоны" in russian and phone in russian and "01.11.2026" in russian
    browser.find_element(By.LINK_TEXT, "English").click()
    until(browser, lambda d: "Phones" in text(d), "English labels")
    english = text(browser)
    digits = "".join(ch for ch in phone if ch.isdigit())
    assert f"+7 {digits[1:4]} {digits[4:7]}-{digits[7:9]}-{digits[9:]}" in english
    assert "Nov 1, 2026" in english and "Телефоны" not in english
    browser.get(f"{site.url}/desk")  # no ?lang= any more: the choice is remembered
    assert "Find a customer" in text(browser)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    fresh = httpx.get(f"{site.url}/login", headers={"Accept-Language": "en-GB,en;q=0.9,ru;q=0.5"})
    assert "Access token" in fresh.text
    assert "Ключ доступа" in httpx.get(f"{site.url}/login", headers={"Accept-Language": "ru"}).text


def _session(site, role: str, subject: str) -> tuple[httpx.Client, str]:
    """A signed-in HTTP client (cookies kept) and its session's CSRF token."""
    client = httpx.Client(base_url=site.url, follow_redirects=False, timeout=10)
    form = client.get("/login")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    signed = client.post("/login", data={"token": site.token(role, subject), "csrf": csrf})
    assert signed.status_code == 303, signed.text
    page = client.get(signed.headers["location"])
    return client, page.text.split('data-csrf="')[1].split('"')[0]


def test_session_cookie_flags_and_the_landing_page_follow_the_role(site):
    client = httpx.Client(base_url=site.url, timeout=10)
    csrf = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/login", data={"token": site.token("security_officer", "sec-7"), "csrf": csrf},
                         follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("kartoteka_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS the cookie is Secure
    csrf = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]  # used up by the sign-in
    refused = client.post("/login", data={"token": "not-a-token", "csrf": csrf}, follow_redirects=False)
    assert refused.status_code == 401 and "Ключ недействителен" in refused.text
    assert httpx.get(f"{site.url}/desk", follow_redirects=False).headers["location"] == "/login"


def test_a_form_post_without_the_csrf_token_or_from_another_origin_is_refused(site):
    agent = _employee()
    cid, _, _ = customer(site, agent)
    client, csrf = _session(site, "agent", agent)
    path = f"/desk/customers/{cid}/notes"
    assert client.post(path, data={"text": "без ключа"}).status_code == 403
    assert client.post(path, data={"text": "чужой ключ", "csrf": "x" * 32}).status_code == 403
    foreign = client.post(path, data={"text": "с чужого сайта", "csrf": csrf},
                          headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    cross = client.post(path, data={"text": "x", "csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    login_without = httpx.post(f"{site.url}/login", data={"token": site.token("agent", agent)})
    assert login_without.status_code == 403
    good = client.post(path, data={"text": "всё в порядке", "csrf": csrf}, headers={"Origin": site.url})
    assert (good.status_code, good.headers["location"]) == (303, f"/desk/customers/{cid}")
    notes = wait_until(lambda: [i for i in site.api("GET", f"/v1/customers/{cid}/timeline",
                                                    params={"channel": "note"}).json()["items"]],
                       message="the accepted note projected")
    assert [n["body"] for n in notes] == ["всё в порядке"]  # the refused posts left nothing
    assert client.post("/logout", data={}).status_code == 403  # signing out is a form post too
    out = client.post("/logout", data={"csrf": csrf})
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert client.get("/desk").headers["location"] == "/login"


def test_a_leavers_open_session_is_refused_at_once(browser, site):
    agent = _employee()
    sign_in(browser, site, "agent", agent)
    assert "/desk" in browser.current_url
    gone = site.api("POST", f"/v1/employees/{agent}/status", role="admin", subject="adm-1",
                    json={"status": "left"})
    assert gone.status_code == 202, gone.text
    browser.refresh()
    assert "employee_left" in text(browser)
    assert "Найти клиента" not in text(browser)
    sign_in_again = httpx.Client(base_url=site.url, timeout=10)
    csrf = sign_in_again.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    again = sign_in_again.post("/login", data={"token": site.token("agent", agent), "csrf": csrf})
    assert again.status_code == 403 and "Ваш доступ прекращён" in again.text


def test_each_role_sees_only_its_own_pages(site):
    agent, _ = _session(site, "agent", _employee())
    officer, _ = _session(site, "security_officer", "sec-roles")
    assert agent.get("/console").status_code == 403
    assert officer.get("/desk").status_code == 403
    assert agent.get("/desk").status_code == 200 and officer.get("/console").status_code == 200
    channel = httpx.Client(base_url=site.url, timeout=10)
    csrf = channel.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    assert channel.post("/login", data={"token": site.token("channel", "tel"), "csrf": csrf}).status_code == 401


def test_every_page_route_declares_its_roles_and_refuses_every_other_role(site):
    from services.api.app import create_app
    from tests.e2e.test_roles import _flat_routes

    public = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
    routes = [(m, r.path, r.dependant) for r in _flat_routes(create_app(site.settings))
              if getattr(r, "path", "").startswith(("/desk", "/console", "/login", "/logout"))
              for m in sorted(getattr(r, "methods", None) or ()) if m != "HEAD"]
    assert len(routes) >= 14
    checked = 0
    for method, path, dependant in routes:
        roles = {role for dep in dependant.dependencies for role in getattr(dep.call, "roles", ())}
        if (method, path) in public:
            assert not roles, f"{method} {path} is the way in; it needs no session"
            continue
        assert roles, f"{method} {path} declares no roles"
        url = path.replace("{customer_id}", str(uuid.uuid4())).replace("{employee_id}", "emp-x")
        for role in set(Role) - roles:
            _, cookie = open_session(site.settings.secret, site.token(role.value, f"emp-{role.value}"))
            answer = httpx.request(method, site.url + url, cookies={"kartoteka_session": cookie}, timeout=10)
            assert answer.status_code == 403 and "forbidden" in answer.text, f"{method} {path} as {role}"
            checked += 1
        nobody = httpx.request(method, site.url + url, timeout=10)
        assert nobody.status_code in (303, 403), f"{method} {path} without a session"
    assert checked >= 3 * len(routes) - 9
