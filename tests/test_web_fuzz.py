"""Fuzz the JSON API from its own OpenAPI document (schemathesis): no input may produce a 500."""

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="part of the test extra")
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from flopcast.web import create_app

pytestmark = pytest.mark.slow  # 25 generated requests for each operation (about 7 s)

schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app())
#: one test a operation, each with its own id ("POST /api/estimate"), so that pytest-xdist runs every one
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_api_never_answers_500(operation):
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def every_request(case):
        # every generated request, valid or not, gets a 2xx or a 4xx with a message; never a server error
        case.call_and_validate(checks=[not_a_server_error])

    every_request()
