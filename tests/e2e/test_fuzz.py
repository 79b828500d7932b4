"""API fuzzing: schemathesis drives every operation of each service's generated OpenAPI document.

Each operation gets ``MAX_EXAMPLES`` generated requests (valid and invalid ones; set
``KARTOTEKA_FUZZ_EXAMPLES`` for a deeper run), sent through the real app (its lifespan on the
real PostgreSQL and broker, the resolver, relay and timeline workers running) with a valid
token of each role in turn: mostly a role the route admits, sometimes another one, now and
then none. The contract: no answer is a 5xx, and every 4xx carries
``{"error": {"code": str, "message": str}}``; and whatever ingest acknowledged reaches the
timeline without a dead letter. The classic hostile inputs, which random generation rarely
reaches, are sent on purpose in ``test_hostile_inputs.py``.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from kartoteka.auth import Role
from kartoteka.settings import Settings
from services.api.app import create_app as create_api
from services.ingest.app import create_app as create_ingest
from tests.support.data import unique_phone
from tests.support.fuzzing import ALL_ROLES, Service, assert_contract, send
from tests.support.kafka_tools import read_all
from tests.support.workers import wait_until

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("KARTOTEKA_FUZZ_EXAMPLES", "25"))
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
