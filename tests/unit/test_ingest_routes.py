"""The ingest routes over in-memory fakes: a valid body takes the one-call fast path, anything
else the item-by-item path, and both answer exactly as the route always answered."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI
from fastapi.testclient import TestClient

from kartoteka.auth import Role, mint
from kartoteka.http import install_error_handlers
from kartoteka.settings import Settings
from services.ingest.accept import Accepted
from services.ingest.app import attach, create_app
from services.ingest.routes import MAX_BATCH, Batch
from tests.support.ids import interaction_id
from tests.unit.test_ingest_service import FakePublisher, FakeReceipts, item

SETTINGS = Settings(
    database_url="postgresql://unit@127.0.0.1:1/none", kafka_bootstrap_servers="127.0.0.1:1",
    token_secret="unit-test-secret-for-the-ingest-routes-" + "x" * 8,
)


class Service:
    def __init__(self) -> None:
        self.app = create_app(SETTINGS)  # no lifespan: the fakes stand in for Kafka and Postgres
        self.publisher, self.receipts = FakePublisher(), FakeReceipts()

        async def anyone_active(_: Any) -> None:
            return None

        attach(self.app, self.publisher, self.receipts)
        self.app.state.status_check = anyone_active
        self.client = TestClient(self.app, raise_server_exceptions=False)
        token = mint(SETTINGS.secret, "channel-1", Role.channel, 3600)
        self.auth = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, content: bytes, content_type: str | None = "application/json") -> Any:
        headers = dict(self.auth)
        if content_type is not None:
            headers["content-type"] = content_type
        return self.client.post(path, content=content, headers=headers)

    def sent(self) -> list[Accepted]:
        return [a for call in self.publisher.calls for a in call[0]]


def body(items: list[Any]) -> bytes:
    return json.dumps({"items": items}, ensure_ascii=False).encode()


@pytest.fixture
def service() -> Service:
    return Service()


def test_a_valid_batch_is_accepted_in_order_and_published_once(service: Service) -> None:
    items = [item(f"c-{n}", channel=("call", "sms", "email")[n % 3]) for n in range(30)]
    answer = service.post("/v1/interactions/batch", body(items))
    assert answer.status_code == 202
    assert answer.headers["content-type"] == "application/json"
    expected = [interaction_id(i["channel"], i["external_id"]) for i in items]
    assert answer.json() == {"results": [{"id": i, "status": "accepted", "error": None}
                                         for i in expected]}
    assert len(service.publisher.calls) == 1
    assert [a.id for a in service.sent()] == expected
    assert service.sent()[0].key == b"phone:+79123456789"


def mixed() -> list[Any]:
    return [
        item("c-1"),
        item("c-2", channel="fax"),
        item("c-3", direction="sideways"),
        item("c-1", body="retry"),
        item("c-5", customer={"name": "Ирина"}),
        item("\ud800-6"),
        item("c-7", body="a\x00b"),
        item("c-8", details={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}),
        item("c-9", occurred_at="9999-12-31T23:59:59-14:00"),
        item("c-10", customer={"email": "Ирина <Irina@Почта.РФ>", "phone": "не скажу"}),
    ]


def test_a_batch_with_bad_items_answers_per_item_in_input_order(service: Service) -> None:
    answer = service.post("/v1/interactions/batch", json.dumps({"items": mixed()}).encode())
    assert answer.status_code == 202
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [
        "accepted", "rejected", "rejected", "duplicate", "rejected", "rejected", "rejected",
        "rejected", "rejected", "accepted",
    ]
    assert results[3]["id"] == results[0]["id"] == interaction_id("call", "c-1")
    assert "channel" in results[1]["error"] and results[1]["id"] == interaction_id("fax", "c-2")
    assert "direction" in results[2]["error"]
    assert "lone surrogate" in results[5]["error"]
    assert "NUL" in results[6]["error"]
    assert "nest deeper" in results[7]["error"]
    assert [a.interaction.external_id for a in service.sent()] == ["c-1", "c-10"]


def test_the_fast_path_answers_what_the_item_by_item_path_answers(service: Service) -> None:
    """Every item alone through the batch route (fast when valid) against the service function."""
    for raw in [*mixed(), item("e-1", customer={"handle": " TG : @Irina "}),
                item("e-2", customer={"phone": "+7 495 123-45-67", "email": "A@B.RU"}),
                item("e-3", details={"x": 1.5, "y": [None, True, "ё"]}, subject=" s ")]:
        fresh = Service()
        reference = Service()
        answer = fresh.post("/v1/interactions/batch", json.dumps({"items": [raw]}).encode())
        expected = reference.post("/v1/interactions/batch",
                                  json.dumps({"items": [raw, item("forced", channel="fax")]}).encode())
        assert answer.json()["results"] == expected.json()["results"][:1], raw
        assert [(a.id, a.key, a.record(datetime(2026, 1, 1).astimezone())) for a in fresh.sent()] == [
            (a.id, a.key, a.record(datetime(2026, 1, 1).astimezone())) for a in reference.sent()
        ]


def test_a_repeat_of_an_earlier_batch_is_all_duplicates(service: Service) -> None:
    items = [item("c-1"), item("c-2")]
    service.post("/v1/interactions/batch", body(items))
    again = service.post("/v1/interactions/batch", body(items)).json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert len(service.publisher.calls) == 1


# --- bodies that are not a batch: the same answers as a declared FastAPI body ----------------


def reference_app() -> TestClient:
    """The routes as they were declared before they read the raw body themselves."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/interactions/batch")
    async def batch(batch: Batch) -> dict[str, int]:
        return {"items": len(batch.items)}

    @app.post("/v1/interactions")
    async def one(item: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
        return {"fields": len(item)}

    return TestClient(app, raise_server_exceptions=False)


MALFORMED: list[tuple[str, bytes, str | None]] = [
    ("not JSON", b"{", "application/json"),
    ("trailing garbage", b'{"items": []} x', "application/json"),
    ("empty body", b"", "application/json"),
    ("no content type", body([item("c-1")]), None),
    ("text/plain", body([item("c-1")]), "text/plain"),
    ("JSON null", b"null", "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("a string", b'"items"', "application/json"),
    ("no items", b"{}", "application/json"),
    ("empty items", b'{"items": []}', "application/json"),
    ("too many items", body([{}] * (MAX_BATCH + 1)), "application/json"),
    ("items not a list", b'{"items": {"a": 1}}', "application/json"),
    ("an unknown top-level field", b'{"items": [{}], "priority": 1}', "application/json"),
    ("invalid UTF-8", b'{"items": [{"channel": "\xff\xfe"}]}', "application/json"),
    ("a json suffix type", b"{", "application/problem+json"),
    ("a charset parameter", b"{", "application/json; charset=utf-8"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "application/json"),
]


@pytest.mark.parametrize(("what", "content", "content_type"), MALFORMED, ids=[m[0] for m in MALFORMED])
@pytest.mark.parametrize("path", ["/v1/interactions/batch", "/v1/interactions"])
def test_a_malformed_body_answers_as_the_declared_body_did(
    service: Service, what: str, content: bytes, content_type: str | None, path: str
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    expected = reference_app().post(path, content=content, headers=headers)
    answer = service.post(path, content, content_type)
    if expected.status_code == 200:  # the reference accepted the shape: the item is what is wrong
        assert answer.status_code in (202, 422), answer.text
        assert service.publisher.calls == [] or answer.status_code == 202
        return
    assert (answer.status_code, answer.json()) == (expected.status_code, expected.json())
    assert service.publisher.calls == []


def test_one_valid_interaction_is_accepted_then_a_duplicate(service: Service) -> None:
    raw = json.dumps(item("c-1")).encode()
    first = service.post("/v1/interactions", raw)
    assert (first.status_code, first.json()) == (
        202, {"id": interaction_id("call", "c-1"), "status": "accepted"})
    again = service.post("/v1/interactions", raw)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")


@pytest.mark.parametrize(
    ("raw", "why"),
    [(item("c-1", channel="fax"), "channel"), (item("c-1", body="\x00"), "NUL"),
     (item("\ud800"), "lone surrogate")],
)
def test_one_invalid_interaction_is_refused_with_its_reason(
    service: Service, raw: dict[str, Any], why: str
) -> None:
    answer = service.post("/v1/interactions", json.dumps(raw).encode())
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_interaction"
    assert why in answer.json()["error"]["message"]
    assert service.publisher.calls == []


def test_the_published_document_still_describes_both_bodies(service: Service) -> None:
    paths = service.app.openapi()["paths"]
    batch = paths["/v1/interactions/batch"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["properties"]["items"]["maxItems"] == MAX_BATCH
    assert "channel" in batch["schema"]["properties"]["items"]["items"]["properties"]
    one = paths["/v1/interactions"]["post"]["requestBody"]["content"]["application/json"]
    assert "customer" in one["schema"]["properties"]


def test_the_published_document_names_the_bearer_scheme_on_every_route(service: Service) -> None:
    # The role check is the scheme itself (one dependency level); clients still read it as before.
    document = service.app.openapi()
    assert document["components"]["securitySchemes"] == {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
    operations = [op for path, item in document["paths"].items() if path.startswith("/v1/")
                  for op in item.values()]
    assert operations and all(op["security"] == [{"HTTPBearer": []}] for op in operations)
