"""A schema-driven fuzz run: schemathesis generates requests for every operation of the
server's own /openapi.json and sends them to the real process; none may answer 5xx, and
every answer must be one the description documents (status code, content type, body
schema, Allow header): the description is accurate.

Bounded (a few examples per operation) so that it stays fast; the server's log is checked
for tracebacks too, since a handler that fails after its answer would not show as a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from servers.service import Server, make_token, write_config

pytestmark = pytest.mark.service
_STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve-fuzz")
    url = f"sqlite:///{folder / 'serve.db'}"
    # Nothing allowlisted: generated scans must not open connections.
    config = write_config(folder / "serve.toml", poll_seconds=0.2,
                          limits={"rate_limit_per_minute": 1_000_000})
    _STATE["token"] = make_token(url, "admin", "fuzz")
    running = Server(url, folder / "server.log", config).start()
    try:
        yield running
    finally:
        running.stop()
    log = running.log_path.read_text("utf-8")
    assert "Traceback" not in log, log[log.index("Traceback") - 500:][:3000]


@pytest.fixture(scope="module")
def api_schema(server: Server) -> Any:
    _STATE["base"] = server.base
    return schemathesis.openapi.from_url(server.base + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    response = case.call_and_validate(
        base_url=_STATE["base"], headers={"Authorization": f"Bearer {_STATE['token']}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance, allow_header_conformance])
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
