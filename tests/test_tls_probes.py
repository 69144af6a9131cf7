"""The TLS and SSH scanners as probe records: the import boundary with the policy engine, the
probe lists (names, needs, budgets, facts) and the scheduler that runs them."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cryptocheck.sources.probe import (
    ALL,
    COMPLIANCE,
    FULL,
    BudgetExceeded,
    Probe,
    announce,
    charge,
    plan,
    run_probes,
)

ROOT = Path(__file__).resolve().parents[1]
SCANNERS = ("tls", "ssh")
# The source record (``source.py``) is the caller's side of the boundary: it may build the
# predicate from a policy. Everything else in the scanner packages must not know the policy.
CALLER_SIDE = {"source.py"}


def _modules(package: str) -> list[Path]:
    folder = ROOT / "cryptocheck" / "sources" / package
    return sorted(p for p in folder.rglob("*.py") if p.name not in CALLER_SIDE)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", SCANNERS)
def test_scanners_do_not_import_the_policy_engine(package: str) -> None:
    # The compliance predicate is handed in (TlsOptions.approves): no import, even a lazy
    # one inside a function, reaches cryptocheck.policy.
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imported(p)
                                                  if n.split(".")[:2] == ["cryptocheck", "policy"])
                 for p in _modules(package)}
    assert not {k: v for k, v in offenders.items() if v}


def test_importing_every_scanner_module_loads_no_policy_module() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "for name in ('cryptocheck.sources.tls', 'cryptocheck.sources.ssh'):\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        if info.name.rsplit('.', 1)[-1] != 'source':\n"
        "            importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('cryptocheck.policy')))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- the scheduler ---------------------------------------------------------------------------

def _recorder(log: list[str], name: str, delay: float = 0.0, fail: bool = False
              ) -> Callable[[object], Awaitable[None]]:
    async def run(_context: object) -> None:
        log.append(f"start {name}")
        await asyncio.sleep(delay)
        if fail:
            raise RuntimeError(name)
        log.append(f"end {name}")

    return run


def test_a_probe_starts_when_its_needs_are_ready_and_not_before() -> None:
    log: list[str] = []
    probes = [
        Probe("last", _recorder(log, "last"), needs=("b", ALL)),
        Probe("c", _recorder(log, "c"), needs=("a",), adds=("c",)),
        Probe("b", _recorder(log, "b", 0.02), needs=("a",), adds=("b",)),
        Probe("a", _recorder(log, "a", 0.01), adds=("a",)),
        Probe("skipped", _recorder(log, "skipped"), needs=("c",), when=lambda _: False),
    ]
    asyncio.run(run_probes(probes, None, FULL))
    assert log.index("end a") < log.index("start b")
    assert log.index("end a") < log.index("start c") < log.index("end b")  # beside b
    assert log[-2:] == ["start last", "end last"]  # after every other probe
    assert "start skipped" not in log


def test_an_announced_fact_starts_what_waits_for_it_before_its_probe_ends() -> None:
    log: list[str] = []

    async def early(_context: object) -> None:
        announce("early")
        await asyncio.sleep(0.02)
        log.append("end slow")

    probes = [Probe("slow", early, adds=("early", "late")),
              Probe("waiter", _recorder(log, "waiter"), needs=("early",))]
    asyncio.run(run_probes(probes, None, FULL))
    assert log == ["start waiter", "end waiter", "end slow"]


def test_announcing_a_fact_the_probe_does_not_add_is_a_bug() -> None:
    async def wrong(_context: object) -> None:
        announce("other")

    with pytest.raises(ValueError, match="other"):
        asyncio.run(run_probes([Probe("p", wrong, adds=("mine",))], None, FULL))


@pytest.mark.parametrize("probes, message", [
    ([Probe("a", _recorder([], "a"), needs=("y",), adds=("x",)),
      Probe("b", _recorder([], "b"), needs=("x",), adds=("y",))], "wait for one another"),
    ([Probe("a", _recorder([], "a"), needs=("nobody",))], "no probe"),
    ([Probe("a", _recorder([], "a")), Probe("a", _recorder([], "a"))], "repeated"),
])
def test_a_plan_that_cannot_run_is_refused(probes: list[Probe[object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(probes, FULL)


def test_a_failing_probe_cancels_the_others() -> None:
    log: list[str] = []
    probes = [Probe("long", _recorder(log, "long", 5.0)),
              Probe("bad", _recorder(log, "bad", 0.01, fail=True), adds=("x",)),
              Probe("after", _recorder(log, "after"), needs=("x",))]
    with pytest.raises(RuntimeError, match="bad"):
        asyncio.run(asyncio.wait_for(run_probes(probes, None, FULL), 2.0))
    assert "end long" not in log and "start after" not in log


def test_a_probe_over_its_budget_fails() -> None:
    async def greedy(_context: object) -> None:
        for _ in range(3):
            charge()

    counts: dict[str, int] = {}
    asyncio.run(run_probes([Probe("fits", greedy, budget=3)], None, FULL, counts))
    assert counts == {"fits": 3}
    with pytest.raises(BudgetExceeded, match="greedy"):
        asyncio.run(run_probes([Probe("greedy", greedy, budget=2)], None, FULL))


def test_modes_select_their_probes() -> None:
    log: list[str] = []
    probes = [Probe("both", _recorder(log, "both")),
              Probe("full only", _recorder(log, "full only"), modes=(FULL,)),
              Probe("compliance only", _recorder(log, "compliance only"), modes=(COMPLIANCE,))]
    asyncio.run(run_probes(probes, None, COMPLIANCE))
    assert sorted(log) == ["end both", "end compliance only", "start both",
                           "start compliance only"]


# --- the lists ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", [FULL, COMPLIANCE])
def test_the_tls_list_plans_in_both_modes(mode: str) -> None:
    from cryptocheck.sources.tls.probes import PROBES

    selected = plan(PROBES, mode)
    # Only the check that the endpoint answered TLS at all opens no connection.
    assert [p.name for p in selected if p.budget == 0] == (
        ["answered"] if mode == FULL else ["answered-at-end"])
    assert all(p.budget > 0 for p in selected if not p.name.startswith("answered"))


SERVERS = {
    "tls13-only": ("-tls1_3",),
    "legacy-dhe": ("-min_protocol", "TLSv1", "-no_tls1_3", "-cipher",
                   "AES128-SHA:DHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0"),
    "default": (),
}


@pytest.mark.tls_server
@pytest.mark.parametrize("server", list(SERVERS))
@pytest.mark.parametrize("policy_id", [None, "nhs-acagpg", "mozilla-modern"])
def test_each_probe_keeps_its_budget_on_real_servers(server: str, policy_id: str | None) -> None:
    from datetime import date

    from servers.tls import s_server

    from cryptocheck.policy import load_policy
    from cryptocheck.run import bind
    from cryptocheck.sources.tls import TlsOptions, TlsStats, iter_tls_items
    from cryptocheck.sources.tls.probes import PROBES

    options = TlsOptions(retries=0) if policy_id is None else bind(
        "tls", TlsOptions(mode="compliance", retries=0), load_policy(policy_id), date.today())
    stats = TlsStats()
    with s_server(*SERVERS[server]) as port:
        items = list(iter_tls_items([f"127.0.0.1:{port}"], options, stats))
    assert stats.endpoints == 1 and not stats.errors, items
    budgets = {p.name: p.budget for p in PROBES}
    assert all(count <= budgets[name] for name, count in stats.per_probe.items()), \
        stats.per_probe
    # Every connection is charged to the probe that opened it (no retries here).
    assert sum(stats.per_probe.values()) == stats.connections


def test_tls_usages_come_from_the_probe_records_in_report_order() -> None:
    from cryptocheck.sources.tls.probes import PROBES

    owners = []
    for probe in PROBES:
        if probe.usages is not None and probe.usages not in owners:
            owners.append(probe.usages)
    assert [f.__module__.rsplit(".", 1)[-1] for f in owners] == [
        "versions", "groups", "dhe", "schemes", "tls13_schemes"]


@pytest.mark.tls_server
@pytest.mark.parametrize("budget", [1, 0])
def test_a_new_probe_is_one_record_in_the_list(monkeypatch: pytest.MonkeyPatch,
                                                 budget: int) -> None:
    # What the vulnerability probes will do: a record that waits for the versions, opens its
    # own connection and adds to the facts; the scan runs it with no other change. Over its
    # budget, the endpoint is one error record, not a crash of the run.
    from servers.tls import s_server

    from cryptocheck.model import EndpointAsset, RunError
    from cryptocheck.sources.tls import TlsOptions, TlsStats, endpoint, iter_tls_items
    from cryptocheck.sources.tls.facts import ProbeContext, hello_spec, send_hello
    from cryptocheck.sources.tls.probes import PROBES

    async def renegotiation(ctx: ProbeContext) -> None:
        flight = await send_hello(ctx.endpoint, ctx.facts,
                                  hello_spec(ctx.endpoint, 0x0303, ctx.version("TLSv1.2").suites))
        ctx.facts.notes.append(f"extra probe: ServerHello {flight.hello is not None}")

    extra = Probe("extra", renegotiation, needs=("versions",), adds=("extra",), budget=budget,
                  modes=(FULL,), when=lambda ctx: bool(ctx.version("TLSv1.2").accepted))
    with s_server("-no_tls1_3") as port:
        target = [f"127.0.0.1:{port}"]
        before = TlsStats()
        list(iter_tls_items(target, TlsOptions(), before))
        monkeypatch.setattr(endpoint, "PROBES", (*PROBES, extra))
        stats = TlsStats()
        items = list(iter_tls_items(target, TlsOptions(), stats))
    if budget:
        asset = next(i for i in items if isinstance(i, EndpointAsset))
        assert asset.details["notes"] == ["extra probe: ServerHello True"]
        assert stats.connections == before.connections + 1
        assert stats.per_probe["extra"] == 1
    else:
        assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == [
            ("RunError", "scan-failed")]
        assert "budget" in items[0].message  # type: ignore[union-attr]
        assert isinstance(items[0], RunError)
