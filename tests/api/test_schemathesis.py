"""schemathesis against the API's own OpenAPI document.

Requests are generated from the document (valid ones, and invalid ones that
must be refused), sent to the WSGI app with an API token, and each answer is
checked: never a server error, a documented status and content type, a body
that matches its schema, invalid input refused, and no answer without the
token. The run must send at least ``MIN_REQUESTS`` requests.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from clientflow_plugin.clock import today_in
from clientflow_plugin.models import LostReason
from host_stub.extensions import db
from tests.api.factories import (
    make_client,
    make_invoice,
    make_opportunity,
    make_project,
    tax_rates_of,
)
from tests.conftest import OUTPUT

MIN_REQUESTS = 1000

#: Requests the run aims at, spread evenly over the operations and the two
#: generation modes; a little above the minimum, since Hypothesis may stop an
#: operation early when its inputs run out.
BUDGET = int(os.environ.get("CLIENTFLOW_SCHEMATHESIS_BUDGET", "1150"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]

# Slow as well: a minute or two, so quick runs (-m "not slow") leave it out.
pytestmark = [pytest.mark.schemathesis, pytest.mark.slow]


@pytest.fixture
def existing_ids(workspace, owner) -> dict[str, list[int]]:
    """Real rows, so that generated requests also reach found objects."""
    rates = tax_rates_of(workspace)
    clients = [make_client(workspace, name=f"Client {n}") for n in range(3)]
    projects = [make_project(client) for client in clients]
    yesterday = today_in(workspace) - timedelta(days=1)
    invoices = [
        make_invoice(workspace, clients[0], issue=False),
        make_invoice(workspace, clients[1], lines=[("2", 5000, rates[:1])]),
        make_invoice(workspace, clients[2], paid_minor=1000, issue_date=yesterday),
    ]
    opportunities = [
        make_opportunity(workspace, client_id=clients[0].id),
        make_opportunity(workspace, stage="negotiation"),
    ]
    return {
        "client_id": [c.id for c in clients],
        "project_id": [p.id for p in projects],
        "invoice_id": [i.id for i in invoices],
        "opportunity_id": [o.id for o in opportunities],
        "lost_reason_id": list(
            db.session.scalars(
                select(LostReason.id).where(LostReason.workspace_id == workspace.id)
            )
        ),
    }


def strategy_for(operation, mode, existing_ids):
    """Generated cases; about half of them name existing rows by their ids.

    Random ids almost never exist, so without aiming most requests would stop
    at a 404 and never reach the domain.
    """
    generated = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if names and all(name in existing_ids for name in names):
        aimed = st.fixed_dictionaries(
            {name: st.sampled_from(existing_ids[name]) for name in names}
        ).flatmap(
            lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids)
        )
        generated = st.one_of(aimed, generated)
    if mode is not schemathesis.GenerationMode.POSITIVE:
        # An invalid body may be invalid precisely in its ids: leave them.
        return generated
    return st.tuples(generated, st.booleans(), st.randoms()).map(
        lambda drawn: _aim_body(*drawn, existing_ids)
    )


def _aim_body(case, aim: bool, random, existing_ids):
    """Point the body's ids (``client_id``...) at existing rows, half the time."""
    if aim and isinstance(case.body, dict):
        for name, ids in existing_ids.items():
            if name in case.body:
                case.body[name] = random.choice(ids)
    return case


def test_generated_requests_find_no_server_error_or_schema_break(
    app, workspace, api_token, existing_ids
):
    auth = {"Authorization": f"Bearer {api_token}"}
    # The token goes through schemathesis's own auth for the document's
    # bearer scheme, so that generated requests without it stay without it.
    # Invalid requests are about invalid data: leaving the token out is the
    # business of the ignored_auth check, which tries it on every request.
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": {"bearerAuth": {"bearer": api_token}}},
            "generation": {"with-security-parameters": False},
        }
    )
    schema = schemathesis.openapi.from_wsgi(
        f"/w/{workspace.slug}/clientflow/api/v1/openapi.json",
        app,
        config=config,
        headers=auth,
    )
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    examples = math.ceil(BUDGET / (2 * len(operations)))

    for operation in operations:
        for mode in (
            schemathesis.GenerationMode.POSITIVE,
            schemathesis.GenerationMode.NEGATIVE,
        ):
            strategy = strategy_for(operation, mode, existing_ids)
            exercise(operation.label, strategy, examples, sent, statuses)

    total = sum(sent.values())
    _report(sent, statuses, total, time.monotonic() - started)
    assert total >= MIN_REQUESTS, sent


def exercise(label: str, strategy, examples: int, sent: dict, statuses: dict) -> None:
    """Send ``examples`` generated requests of one operation and check each."""

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def send(case) -> None:
        response = case.call_and_validate(checks=CHECKS)
        sent[label] = sent.get(label, 0) + 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    send()


def _report(
    sent: dict[str, int], statuses: dict[int, int], total: int, seconds: float
) -> None:
    """Keep the counts for the summary that ``make test`` prints."""
    os.makedirs(OUTPUT, exist_ok=True)
    database = (
        "postgresql" if os.environ.get("CLIENTFLOW_TEST_DATABASE_URL") else "sqlite"
    )
    path = os.path.join(OUTPUT, f"schemathesis-{database}.json")
    with open(path, "w") as file:
        json.dump(
            {
                "requests": total,
                "seconds": round(seconds, 1),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
                "operations": sent,
            },
            file,
            indent=1,
        )
