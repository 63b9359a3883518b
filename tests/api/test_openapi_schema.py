"""Schemathesis over `/api/openapi.json` on the running server: whatever a client sends within
(or just outside) the documented shapes, the answer is never a 5xx, its status is one the
schema lists, and its body matches the schema.

Examples are derandomized (Hypothesis derives them from the test, not from the clock), so two
runs send the same requests; each operation gets a bounded number, fewer where an example is a
slow generation. Schemathesis' own pytest plugin (`from_fixture`) does not run on pytest 9, so
the operations are driven here with Hypothesis directly.
"""

from __future__ import annotations

import re

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from core.limits import UNLIMITED, LimitOverrides
from tests.api.conftest import Caller, sign_up
from tests.support.app_server import AppServer
from tests.support.server_core import account_of, server_services

EXAMPLES = 20
# Chat answers and speech are the slow generations (the offline model, the voices).
SLOW = re.compile(r"^/(v1/chat/completions|v1/audio/speech|tts/generate)$")
SLOW_EXAMPLES = 6
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture(scope="module")
def api_key(api_server: AppServer, admin: Caller) -> str:
    """A plain user's API key (the admin exists, so this user is not one), without the
    per-minute generation limit, so generations are exercised rather than refused."""
    with httpx.Client(base_url=api_server.url, timeout=60) as http:
        user = sign_up(http, "fuzzer")
        created = http.post("/users/me/api-keys", json={"name": "fuzz"}, headers=user.headers)
        assert created.status_code == 201, created.text
    with server_services(api_server) as core:
        root = account_of(core, admin.id)
        core.limits.set_overrides(root, user.id, LimitOverrides(generations_per_minute=UNLIMITED))
    key: str = created.json()["key"]
    return key


def _failures(case_strategy: st.SearchStrategy[Case], examples: int, api_key: str) -> str | None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # A failure is reported as found: shrinking would resend slow generations many times.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case_strategy)
    def run(case: Case) -> None:
        case.call_and_validate(headers={"X-API-Key": api_key}, checks=CHECKS, timeout=120)

    try:
        run()
    except (Exception, FailureGroup) as failure:
        # Kept, not raised: one run reports every operation that fails, with its curl line.
        return str(failure)
    return None


def test_no_server_error_and_answers_match_the_schema(api_server: AppServer, api_key: str) -> None:
    schema = schemathesis.openapi.from_url(api_server.url + "/api/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        examples = SLOW_EXAMPLES if SLOW.match(operation.path) else EXAMPLES
        cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )
        if problem := _failures(cases, examples, api_key):
            failures[operation.label] = problem

    assert operations >= 20, "the schema lost its operations"
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
