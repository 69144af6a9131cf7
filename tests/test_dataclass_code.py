"""The cache of dataclasses' compiled methods (cryptocheck/_dataclass_code.py): classes made
with it behave exactly as the standard library makes them, and a second run compiles none of
the texts the first one did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = r'''
import dataclasses, json, sys
import cryptocheck  # installs the cache (when it applies)
from dataclasses import dataclass, field

@dataclass(frozen=True, slots=True, order=True)
class A:
    x: int
    y: str = "y"
    z: list = field(default_factory=list, compare=False)

@dataclass(kw_only=True)
class B:
    a: int
    b: tuple = ()
    def total(self) -> int:
        return self.a + len(self.b)

@dataclass(eq=False, repr=False)
class C:
    n: int = 0

out = {}
a1, a2 = A(1), A(1, "y", [1])
out["repr"] = [repr(a1), repr(B(a=1, b=(2,))), repr(C(3)).startswith("<")]
out["eq"] = [a1 == a2, a1 < A(2), A(1, "a") < a1, B(a=1) == B(a=1), C(1) == C(1)]
out["hash"] = hash(a1) == hash(A(1))
try:
    a1.x = 3
except dataclasses.FrozenInstanceError as exc:
    out["frozen"] = str(exc)
try:
    B(1)
except TypeError as exc:
    out["kw_only"] = str(exc)
out["match_args"] = list(A.__match_args__)
out["fields"] = [f.name for f in dataclasses.fields(A)]
out["total"] = B(a=2, b=(1, 2)).total()
out["slots"] = A.__slots__
import inspect
out["signatures"] = [str(inspect.signature(f)) for f in (A.__init__, B.__init__, A.__eq__,
                                                      A.__setattr__, A.__lt__, A.__hash__)]
out["annotations"] = [repr(A.__init__.__annotations__), repr(B.__init__.__annotations__)]
out["names"] = [A.__init__.__qualname__, A.__repr__.__qualname__, A.__lt__.__qualname__]
out["patched"] = dataclasses._create_fn.__module__
json.dump(out, sys.stdout)
'''


def _run(cache: str, code: str = PROBE) -> dict:  # type: ignore[type-arg]
    env = dict(os.environ, CRYPTOCHECK_CACHE_DIR=cache)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_classes_behave_as_the_standard_library_makes_them(tmp_path: Path) -> None:
    plain = _run("")  # cache off: the standard library's own _create_fn
    first = _run(str(tmp_path))  # compiled and written
    second = _run(str(tmp_path))  # read back
    assert plain.pop("patched") == "dataclasses"
    expected_patch = "cryptocheck._dataclass_code" if sys.version_info[:2] in (
        (3, 11), (3, 12)) else "dataclasses"
    assert first.pop("patched") == second.pop("patched") == expected_patch
    assert plain == first == second
    assert plain["frozen"] == "cannot assign to field 'x'"


def test_a_second_run_compiles_no_text_the_first_did(tmp_path: Path) -> None:
    count = r'''
import builtins, json, sys
made = []
real = builtins.compile
def counting(source, filename, mode, *args, **kwargs):
    if filename == "<string>" and isinstance(source, str) and "__create_fn__" in source:
        made.append(1)
    return real(source, filename, mode, *args, **kwargs)
builtins.compile = counting
import cryptocheck.model, cryptocheck.report, cryptocheck.sources.tls
json.dump({"compiled": len(made)}, sys.stdout)
'''
    first = _run(str(tmp_path), count)
    second = _run(str(tmp_path), count)
    if sys.version_info[:2] in ((3, 11), (3, 12)):
        assert first["compiled"] > 50  # every method of every dataclass, once
        assert second["compiled"] == 0
        assert list(tmp_path.glob("dataclass-code-*.marshal"))
    # A damaged cache file is ignored and rewritten.
    for path in tmp_path.glob("dataclass-code-*.marshal"):
        path.write_bytes(b"\x00junk")
    assert _run(str(tmp_path))["frozen"] == "cannot assign to field 'x'"
