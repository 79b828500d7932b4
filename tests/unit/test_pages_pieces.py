"""The pages' pure parts: language choice, formatting per language, sessions and the origin
check, mail threads folded, the SVG charts and the activity series."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request

from kartoteka.auth import Role, mint
from services.api.pages import activity, charts, i18n
from services.api.pages.desk import fold_threads
from services.api.pages.session import open_session, read_session, same_origin

SECRET = "unit-secret-for-the-pages-0123456789"


def test_the_language_comes_from_the_query_then_the_session_then_accept_language():
    assert i18n.choose("en", "ru", "ru") == "en"
    assert i18n.choose(None, "en", "ru") == "en"
    assert i18n.choose("de", None, "de-DE,en-GB;q=0.8,ru;q=0.5") == "en"
    assert i18n.choose(None, None, "fr;q=0.9, ru;q=0.3") == "ru"
    assert i18n.choose(None, None, None) == "ru"


def test_both_catalogues_have_every_label():
    assert set(i18n.catalogue("ru")) == set(i18n.catalogue("en"))


def test_dates_and_phones_are_written_the_way_each_language_writes_them():
    ru, en = i18n.Formatter("ru", "Europe/Moscow"), i18n.Formatter("en", "Europe/Moscow")
    at = datetime(2026, 11, 26, 11, 5, tzinfo=UTC)
    assert (ru.when(at), en.when(at.isoformat())) == ("26.11.2026 14:05", "Nov 26, 2026 2:05 PM")
    assert (ru.phone("+79123456789"), en.phone("+79123456789")) == ("8 (912) 345-67-89", "+7 912 345-67-89")
    assert ru.day("1988-02-29") == "29.02.1988" and en.day(date(1988, 2, 29)) == "Feb 29, 1988"
    assert ru.duration(75) == "1:15 мин" and en.duration(None) == ""


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""})


def test_a_session_is_signed_carries_its_csrf_and_never_outlives_the_token():
    now = int(time.time())
    token = mint(SECRET, "emp-1", Role.agent, ttl_s=600, now=now)
    session, cookie = open_session(SECRET, token, now=now)
    assert session.expires == now + 600  # the token's expiry, sooner than a shift
    _, late = open_session(SECRET, token, now=now - 20 * 3600)  # a session that ended long ago
    assert read_session(SECRET, late) is None
    token = mint(SECRET, "emp-1", Role.agent, ttl_s=30 * 24 * 3600)
    session, cookie = open_session(SECRET, token)
    again = read_session(SECRET, cookie)
    assert again is not None and (again.principal.subject, again.csrf) == ("emp-1", session.csrf)
    assert read_session("another-secret-of-enough-length-000", cookie) is None
    assert read_session(SECRET, token) is None  # a bearer token is no session cookie


def test_a_post_is_same_origin_only_when_the_browser_says_so():
    host = {"host": "desk.example:8000"}
    assert same_origin(_request({**host, "origin": "http://desk.example:8000"}))
    assert same_origin(_request({**host, "referer": "http://desk.example:8000/desk/customers/x"}))
    assert not same_origin(_request({**host, "origin": "http://evil.example"}))
    assert not same_origin(_request({**host, "origin": "null"}))
    assert not same_origin(_request({**host, "sec-fetch-site": "cross-site"}))
    assert same_origin(_request(host))  # no browser headers at all: judged by the CSRF token


def test_mail_of_one_thread_folds_under_its_newest_message():
    items = [{"id": "3", "channel": "email", "details": {"thread_id": "t"}},
             {"id": "c", "channel": "call", "details": {}},
             {"id": "2", "channel": "email", "details": {"thread_id": "t"}},
             {"id": "x", "channel": "email", "details": {"thread_id": "other"}},
             {"id": "1", "channel": "email", "details": {"thread_id": "t"}}]
    folded = fold_threads(items)
    assert [i["id"] for i in folded] == ["3", "c", "x"]
    assert [i["id"] for i in folded[0]["earlier"]] == ["2", "1"]


def test_the_peer_band_is_the_10th_to_90th_percentile_per_hour():
    assert charts.percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert charts.percentile([0, 10], 0.1) == 1.0
    band = charts.peer_band([[0, 10], [10, 20], [20, 30]])
    assert band == [(2.0, 18.0), (12.0, 28.0)]


def test_hourly_series_count_own_accesses_against_the_own_baseline_and_the_peers():
    now = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
    slots = activity.hour_slots(now, count=3)
    assert slots[-1] == datetime(2026, 12, 6, 15, tzinfo=UTC) and slots[0] == slots[-1] - timedelta(hours=2)
    rows = [{"employee_id": "e", "hour": slots[-1], "n": 28},
            {"employee_id": "e", "hour": slots[-1] - timedelta(days=1), "n": 28},
            {"employee_id": "p", "hour": slots[0], "n": 4}]
    counts, baseline, band = activity.hourly_series(rows, "e", ["p", "q"], slots)
    assert counts == [0.0, 0.0, 28.0]
    assert baseline == [0.0, 0.0, 2.0]  # 56 accesses at 15:00 over 28 days
    assert band[0] == (0.4, 3.6) and band[2] == (0.0, 0.0)


def test_charts_are_svg_with_escaped_text():
    svg = charts.hourly("a<b", ["x", "y"], [1, 2], [1, 1], [(0, 2), (0, 3)], ("e", "own", "peers"))
    assert svg.startswith("<svg") and "a&lt;b" in svg and "<polygon" in svg and "<polyline" in svg
    bars = charts.bars("Exports", ["d1", "d2"], [0, 3])
    assert bars.count("<rect") == 2 and "d2: 3" in bars


def test_daily_series_fill_days_without_activity_with_zeros():
    today = date(2026, 12, 6)
    days, series = activity.daily_series([{"day": today, "customers": 3, "exports": 1, "searches": 2}],
                                         today, days=3)
    assert days == [date(2026, 12, 4), date(2026, 12, 5), today]
    assert series == {"customers": [0, 0, 3], "exports": [0, 0, 1], "searches": [0, 0, 2]}
