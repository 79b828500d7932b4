"""API fuzzing: schemathesis drives every operation of each service's generated OpenAPI document.

Each operation gets ``MAX_EXAMPLES`` generated requests (valid and invalid ones; set
``KARTOTEKA_FUZZ_EXAMPLES`` for a deeper run), sent through the real app (its lifespan on the
real PostgreSQL and broker, the resolver, relay and timeline workers running) with a valid
token of each role in turn: mostly a role the route admits, sometimes another one, now and
then none. The contract: no answer is a 5xx, and every 4xx carries
``{"error": {"code": str, "message": str}}``; and whatever ingest acknowledged reaches the
timeline without a dead letter. Below the generated cases, the classic hostile inputs
(oversized and chunked bodies, odd unicode, huge limits, bad cursors, deep JSON) are sent on
purpose, because random generation rarely reaches them.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from kartoteka.auth import Role, mint
from kartoteka.settings import Settings
from services.api.app import create_app as create_api
from services.ingest.app import create_app as create_ingest
from tests.support.data import interaction, unique_phone
from tests.support.infra import Infra
from tests.support.kafka_tools import read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("KARTOTEKA_FUZZ_EXAMPLES", "25"))
PIPELINE = ("resolver", "relay", "timeline")
ALL_ROLES = tuple(Role)
# Generation needs only the routes: create_app connects nothing before its lifespan starts.
_OFFLINE = Settings(
    database_url="postgresql://fuzz@127.0.0.1:1/none",
    kafka_bootstrap_servers="127.0.0.1:1",
    token_secret="offline-schema-generation-only-" + "x" * 16,
)
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the work tree; every run explores afresh
    suppress_health_check=list(HealthCheck),
)

ingest_schema = schemathesis.openapi.from_dict(create_ingest(_OFFLINE).openapi())
api_schema = schemathesis.openapi.from_dict(create_api(_OFFLINE).openapi())


class Service:
    """One running app (lifespan on the real PostgreSQL and broker), with tokens per role."""

    def __init__(self, app: FastAPI, client: TestClient, settings_: Settings) -> None:
        self.app, self.client, self.settings = app, client, settings_
        self.roles = _route_roles(app)
        # Subjects nobody's fuzzed body can name: a generated "left" status must not lock us out.
        self.subjects = {role: f"fuzz-{role.value}-{uuid.uuid4().hex[:8]}" for role in ALL_ROLES}
        self.customer_id: str | None = None
        self.cursor: str | None = None
        self.accepted: set[str] = set()

    def headers(self, role: Role) -> dict[str, str]:
        token = mint(self.settings.secret, self.subjects[role], role, 3600)
        return {"Authorization": f"Bearer {token}"}

    def admitted(self, method: str, path: str) -> tuple[Role, ...]:
        return self.roles.get((method.upper(), path), ALL_ROLES)


def _route_roles(app: FastAPI) -> dict[tuple[str, str], tuple[Role, ...]]:
    """Which roles each route admits, read from its ``require_roles`` dependency."""
    found: dict[tuple[str, str], tuple[Role, ...]] = {}
    routes = list(app.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # FastAPI includes routers lazily
        routes.extend(included.routes if included is not None else ())
        dependant = getattr(route, "dependant", None)
        stack = list(dependant.dependencies) if dependant else []
        while stack:
            dep = stack.pop()
            if roles := getattr(dep.call, "roles", None):
                for method in getattr(route, "methods", ()):
                    found[(method, route.path)] = tuple(roles)  # type: ignore[attr-defined]
            stack.extend(dep.dependencies)
    return found


@pytest.fixture(scope="module")
def fuzz_settings(infra: Infra) -> Iterator[Settings]:
    """One database for the module, with the pipeline running throughout: whatever the fuzzer
    gets acknowledged must also pass the workers (``running`` fails if one of them died)."""
    settings_ = infra.new_settings()
    with running(settings_, PIPELINE):
        yield settings_


@pytest.fixture(scope="module")
def ingest_service(fuzz_settings: Settings) -> Iterator[Service]:
    app = create_ingest(fuzz_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(app, client, fuzz_settings)


@pytest.fixture(scope="module")
def api_service(fuzz_settings: Settings, ingest_service: Service) -> Iterator[Service]:
    """The api over a database holding one real customer, so ids and cursors can be real too."""
    app = create_api(fuzz_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        service = Service(app, client, fuzz_settings)
        _seed_customer(service, ingest_service)
        yield service


def _seed_customer(api: Service, ingest: Service) -> None:
    phone = unique_phone()
    for day in range(1, 4):
        sent = ingest.client.post(
            "/v1/interactions",
            json=interaction(customer={"phone": phone, "name": "Фаззинг Тестович"},
                             occurred_at=f"2026-11-0{day}T10:00:00+03:00"),
            headers=ingest.headers(Role.channel),
        )
        assert sent.status_code == 202, sent.text
    agent = api.headers(Role.agent)

    def timeline() -> dict[str, Any] | None:
        found = api.client.get("/v1/customers", params={"q": phone}, headers=agent).json()["items"]
        if not found:
            return None
        api.customer_id = found[0]["id"]
        page = api.client.get(f"/v1/customers/{api.customer_id}/timeline",
                              params={"limit": 1}, headers=agent).json()
        return page if page.get("next") else None

    page = wait_until(timeline, timeout_s=60, message="seed customer with two timeline pages")
    api.cursor = page["next"]


def assert_contract(response: Any) -> None:
    """No 5xx; every 4xx in the contract's error shape."""
    status = response.status_code
    assert status < 500, f"{status} answer: {response.text[:500]}"
    if 400 <= status < 500:
        try:
            body = response.json()
        except ValueError as exc:
            raise AssertionError(f"{status} body is not JSON: {response.text[:300]!r}") from exc
        error = body.get("error") if isinstance(body, dict) else None
        assert isinstance(error, dict) and set(error) == {"code", "message"}, (
            f"{status} body not in the error shape: {body!r}"[:500]
        )
        assert isinstance(error["code"], str) and error["code"], body
        assert isinstance(error["message"], str), body


def send(service: Service, case: Any, role: Role | None) -> Any:
    """Send a generated case through the service's own client (the lifespan's event loop).

    ``role`` None keeps whatever Authorization schemathesis generated (usually a broken one).
    """
    headers = service.headers(role) if role is not None else None
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    if headers is not None:
        kwargs["headers"] = {k: v for k, v in kwargs["headers"].items()
                             if k.lower() != "authorization"} | headers
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    kwargs.pop("auth", None)
    cookies = kwargs.pop("cookies", None)
    service.client.cookies.clear()
    if cookies:
        service.client.cookies.update(cookies)
    return service.client.request(**kwargs)


_turns = itertools.count()
_coins = itertools.count()


def heads() -> bool:
    """Every other call: a deterministic coin, independent of the role rotation."""
    return next(_coins) % 2 == 1


def pick_role(service: Service, case: Any) -> Role | None:
    """In turn: mostly a role the route admits, sometimes another (a clean 403), now and
    then no valid token at all (a clean 401)."""
    turn = next(_turns)
    admitted = service.admitted(case.method, case.path)
    if turn % 10 == 9:
        return None
    if turn % 10 >= 7:
        return ALL_ROLES[turn % len(ALL_ROLES)]
    return admitted[turn % len(admitted)]


def usable_customer(body: Any) -> None:
    """Give a generated interaction a real phone now and then, so the fuzzed rest of it
    (ids, names, texts, details, times) gets past identification and into the pipeline."""
    items = body.get("items") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else [body]:
        customer = item.get("customer") if isinstance(item, dict) else None
        if isinstance(customer, dict) and heads():
            customer["phone"] = unique_phone()


def remember_accepted(service: Service, response: Any) -> None:
    if response.status_code != 202:
        return
    body = response.json()
    results = body.get("results", [body])
    service.accepted.update(r["id"] for r in results if r.get("status") == "accepted")


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _requests(operation: Any) -> st.SearchStrategy[Any]:
    """Valid and invalid requests for one operation, as schemathesis' own runner mixes them."""
    return st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))


# One pytest item per operation, each named after it: schemathesis' own ``parametrize`` gives
# every operation's item the same node id, and xdist schedules by node id, so under
# ``make test`` all but one operation per service silently never ran.
@pytest.mark.parametrize("operation", _operations(ingest_schema), ids=lambda op: op.label)
def test_ingest_answers_generated_requests_without_5xx_and_in_the_error_shape(
    operation: Any, ingest_service: Service
) -> None:
    @FUZZ
    @given(case=_requests(operation))
    def answer(case: Any) -> None:
        usable_customer(case.body)
        response = send(ingest_service, case, pick_role(ingest_service, case))
        assert_contract(response)
        remember_accepted(ingest_service, response)

    answer()


@pytest.mark.parametrize("operation", _operations(api_schema), ids=lambda op: op.label)
def test_api_answers_generated_requests_without_5xx_and_in_the_error_shape(
    operation: Any, api_service: Service
) -> None:
    @FUZZ
    @given(case=_requests(operation))
    def answer(case: Any) -> None:
        role = pick_role(api_service, case)
        # Half the time a real customer and a real cursor, so the generated rest of the
        # request reaches the queries instead of stopping at "no such customer".
        if "customer_id" in (case.path_parameters or {}) and heads():
            case.path_parameters["customer_id"] = api_service.customer_id
        if "before" in (case.query or {}) and heads():
            case.query["before"] = api_service.cursor
        assert_contract(send(api_service, case, role))

    answer()


# --- the classic hostile inputs, on purpose -------------------------------------------------

DEEP = 100_000


def _nested(depth: int, leaf: Any = 1) -> str:
    return "[" * depth + json.dumps(leaf) + "]" * depth


def _deep_details(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _cursor(text: str) -> str:
    """A cursor whose decoded JSON is ``text`` (the API issues base64url without padding)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _with_raw_details(details: str) -> str:
    """A valid interaction whose ``details`` is the given JSON text, spliced in unparsed."""
    item = interaction()
    del item["details"]
    return json.dumps(item)[:-1] + ', "details": ' + details + "}"


HOSTILE_INGEST: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("deep JSON array body", lambda: {"content": _nested(DEEP)}),
    ("deep JSON details", lambda: {"content": _with_raw_details(_deep_details(900))}),
    ("details nested just past the limit", lambda: {"json": interaction(details=json.loads(_deep_details(9)))}),
    ("body over 8 MB", lambda: {"content": b'{"a": "' + b"x" * (9 * 1024 * 1024) + b'"}'}),
    ("chunked body over 8 MB", lambda: {"content": iter([b'{"a": "'] + [b"x" * 1024 * 1024] * 9 + [b'"}'])}),
    ("invalid UTF-8", lambda: {"content": b'{"channel": "\xff\xfe"}'}),
    ("lone surrogate escape", lambda: {"content": b'{"channel": "call", "external_id": "\\ud800"}'}),
    ("lone surrogate in every text field", lambda: {"content": json.dumps(interaction(
        external_id="\ud800", subject="\udfff", body="\ud800", agent_id="\udbff",
        customer={"phone": unique_phone(), "name": "\ud800"}, details={"\ud800": "\udc00"}))}),
    ("NUL characters", lambda: {"json": interaction(body="a\x00b", subject="\x00",
                                                    customer={"phone": unique_phone(), "name": "\x00"})}),
    ("right-to-left and zero-width text", lambda: {"json": interaction(
        external_id="\u202e\u200b" + uuid.uuid4().hex, customer={"email": "\u202eа@б.рф", "name": "\u200d"})}),
    ("NaN and Infinity", lambda: {"content": b'{"channel": "call", "details": {"x": NaN, "y": Infinity}}'}),
    ("huge integer", lambda: {"content": b'{"details": {"x": ' + b"9" * 5000 + b"}}"}),
    ("not JSON", lambda: {"content": b"{", "headers": {"content-type": "application/json"}}),
    ("wrong content type", lambda: {"content": b"channel=call", "headers": {"content-type": "text/plain"}}),
    ("empty body", lambda: {"content": b""}),
    ("JSON null", lambda: {"content": b"null"}),
    ("year 0 timestamp", lambda: {"json": interaction(occurred_at="0000-01-01T00:00:00+00:00")}),
    ("offset beyond a day", lambda: {"json": interaction(occurred_at="2026-01-01T00:00:00+99:99")}),
    ("year 9999 at the last second east of UTC", lambda: {"json": interaction(
        occurred_at="9999-12-31T23:59:59-14:00")}),
    ("phone made of digits only, 60 of them", lambda: {"json": interaction(customer={"phone": "9" * 60})}),
]


@pytest.mark.parametrize(("path"), ["/v1/interactions", "/v1/interactions/batch"])
@pytest.mark.parametrize(("what", "make"), HOSTILE_INGEST, ids=[w for w, _ in HOSTILE_INGEST])
def test_ingest_answers_hostile_bodies_in_the_error_shape(
    ingest_service: Service, what: str, make: Callable[[], dict[str, Any]], path: str
) -> None:
    request = make()
    if path.endswith("batch"):
        if "json" in request:
            request["json"] = {"items": [request["json"]]}
        elif isinstance(request["content"], bytes | str):
            text = request["content"]
            request["content"] = b'{"items": [' + (text if isinstance(text, bytes) else text.encode()) + b"]}"
    headers = {"content-type": "application/json", **ingest_service.headers(Role.channel),
               **request.pop("headers", {})}
    response = ingest_service.client.post(path, headers=headers, **request)
    assert_contract(response)


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("/v1/customers", {"q": "а", "limit": str(10**30)}),
        ("/v1/customers", {"q": "а", "limit": "-1"}),
        ("/v1/customers", {"q": "а", "limit": "1e3"}),
        ("/v1/customers", {"q": "\x00"}),
        ("/v1/customers?q=%ED%A0%80", {}),  # a surrogate, percent-encoded: not UTF-8
        ("/v1/customers?q=%FF%FE", {}),
        ("/v1/customers", {"q": "%"}),
        ("/v1/customers", {"q": "\\"}),
        ("/v1/customers", {"q": "+7" + "9" * 190}),
        ("/v1/customers", {"q": "ё" * 200}),
        ("/v1/customers", {"q": "*" * 200}),
        ("/v1/customers/{cid}/timeline", {"limit": "500"}),
        ("/v1/customers/{cid}/timeline", {"limit": "501"}),
        ("/v1/customers/{cid}/timeline", {"before": "!!!"}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor("[]")}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('null')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["2026-13-01", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["2026-01-01", 1e309]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["2026-01-01", 999999999999999999999]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["\\ud800", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["0001-01-01T00:00:00+14:00", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": _cursor('["9999-12-31T23:59:59-14:00", 1]')}),
        ("/v1/customers/{cid}/timeline", {"before": "Wy" + "Wy" * 99}),
        ("/v1/customers/{cid}/timeline", {"before": "x" * 201}),
        ("/v1/customers/{cid}/timeline", {"channel": "fax"}),
        ("/v1/customers/%ED%A0%80/timeline", {}),
        ("/v1/customers/%FF/export", {}),
        ("/v1/customers/%00", {}),
        ("/v1/customers/00000000-0000-0000-0000-000000000000", {}),
        ("/v1/customers/{cid}/export", {}),
        ("/v1/audit/access", {"limit": str(2**64)}),
        ("/v1/audit/access", {"before": _cursor('[1e309]')}),
        ("/v1/audit/access", {"before": _cursor('[9223372036854775808]')}),
        ("/v1/audit/access", {"from": "0001-01-01T00:00:00+14:00"}),
        ("/v1/audit/access", {"from": "9999-12-31T23:59:59-14:00", "to": "0001-01-01T00:00:00Z"}),
        ("/v1/audit/access", {"customer_id": "\x00"}),
        ("/v1/audit/access?format=csv&employee_id=%ED%A0%80", {}),
        ("/v1/audit/access", {"format": "csv", "employee_id": "\x00"}),
        ("/v1/audit/alerts", {"before": _cursor('["x", "x"]')}),
        ("/v1/audit/alerts", {"before": _cursor('["2026-01-01T00:00:00Z", "x"]')}),
        ("/v1/audit/alerts", {"before": _cursor('["2026-01-01T00:00:00Z", "\\u0000"]')}),
    ],
)
def test_api_answers_hostile_parameters_in_the_error_shape(
    api_service: Service, route: str, params: dict[str, str]
) -> None:
    role = Role.security_officer if route.startswith("/v1/audit") else Role.agent
    path = route.replace("{cid}", api_service.customer_id or "")
    response = api_service.client.get(
        path, params=params or None, headers=api_service.headers(role)
    )
    assert_contract(response)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "left", "effective_at": "0001-01-01T00:00:00+14:00"},
        {"status": "active", "timezone": "../../etc/passwd"},
        {"status": "active", "timezone": "\x00"},
        {"status": "active", "timezone": "Europe/Moscow\ud800"},
        {"status": "active", "work_hours": [25, -1]},
        {"status": "active", "team": "т" * 10_000},
        {"status": "active", "work_hours": [9]},
        {"status": "notice_given", "role": ""},
    ],
)
def test_admin_bodies_with_odd_values_answer_in_the_error_shape(
    api_service: Service, body: dict[str, Any]
) -> None:
    response = api_service.client.post(
        f"/v1/employees/fuzz-target-{uuid.uuid4().hex[:6]}/status",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **api_service.headers(Role.admin)},
    )
    assert_contract(response)


def test_an_admin_change_with_nul_in_its_team_is_refused_not_acknowledged(
    api_service: Service,
) -> None:
    response = api_service.client.post(
        f"/v1/employees/fuzz-nul-{uuid.uuid4().hex[:6]}/status",
        json={"status": "notice_given", "team": "a\x00b"},
        headers=api_service.headers(Role.admin),
    )
    assert_contract(response)
    assert response.status_code == 422, response.text


def test_interactions_accepted_at_the_edges_of_validation_stay_readable(
    ingest_service: Service, api_service: Service
) -> None:
    """What ingest acknowledges, every reader can load: extreme dates, sizes and scripts."""
    phone = unique_phone()
    deep = {"level": 1}
    for level in range(2, 8):  # with details itself: exactly MAX_DETAILS_DEPTH levels
        deep = {"level": level, "inner": deep}
    edges = [
        interaction(customer={"phone": phone, "name": "\u202eИрина\u200d Петрова"},
                    occurred_at="0001-01-02T00:00:00+00:00", subject="\U0001f600" * 1000),
        interaction(customer={"phone": phone, "handle": "tg:" + "ю" * 200},
                    occurred_at="9999-12-30T00:00:00Z", body="я\u0301" * 50_000),
        interaction(customer={"phone": phone, "email": "Ёлка@пример.рф"}, channel="email",
                    occurred_at="2028-02-29T23:59:59.999999999+14:00",
                    details={"deep": deep, "blob": "ж" * 30_000, "n": 2**62, "f": 1e308}),
    ]
    for item in edges:
        sent = ingest_service.client.post("/v1/interactions", json=item,
                                          headers=ingest_service.headers(Role.channel))
        assert sent.status_code == 202, sent.text
    agent = api_service.headers(Role.agent)

    def three_rows() -> str | None:
        found = api_service.client.get("/v1/customers", params={"q": phone}, headers=agent)
        assert_contract(found)
        for hit in found.json()["items"]:
            page = api_service.client.get(f"/v1/customers/{hit['id']}/timeline", headers=agent)
            assert_contract(page)
            if len(page.json()["items"]) == 3:
                return str(hit["id"])
        return None

    customer = wait_until(three_rows, timeout_s=60, message="three edge interactions shown")
    cursor: str | None = None
    seen = 0
    while True:
        page = api_service.client.get(f"/v1/customers/{customer}/timeline",
                                      params={"limit": 1, **({"before": cursor} if cursor else {})},
                                      headers=agent)
        assert page.status_code == 200, page.text
        seen += len(page.json()["items"])
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert seen == 3
    for path in (f"/v1/customers/{customer}", f"/v1/customers/{customer}/export"):
        answer = api_service.client.get(path, headers=agent)
        assert answer.status_code == 200, answer.text[:500]
    by_name = api_service.client.get("/v1/customers", params={"q": "Ирина Петрова"}, headers=agent)
    assert by_name.status_code == 200, by_name.text[:500]


def test_every_interaction_the_fuzzer_got_acknowledged_reaches_the_timeline(
    ingest_service: Service,
) -> None:
    """What ingest answered 202 for passes the workers too: no dead letter, no loss."""
    acknowledged = ingest_service.accepted
    if not acknowledged:
        pytest.skip("the generated ingest cases did not run (deselected)")
    dsn = ingest_service.settings.dsn

    def missing() -> set[str]:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "SELECT interaction_id::text FROM timeline WHERE interaction_id = ANY(%s::uuid[])",
                (list(acknowledged),),
            ).fetchall()
        return acknowledged - {r[0] for r in rows}

    wait_until(lambda: not missing(), timeout_s=90, interval_s=0.5,
               message=f"all {len(acknowledged)} acknowledged interactions in the timeline")
    dead = read_all(ingest_service.settings, ingest_service.settings.topic("interactions.dlq"))
    assert not dead, [dict(r.headers).get("dlq-reason") for r in dead][:5]
