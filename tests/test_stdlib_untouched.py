"""Importing and running cryptocheck patches nothing: not the standard library, not a dependency.

A library runs inside other people's processes; replacing one of their modules' functions (as
cryptocheck once replaced ``dataclasses._create_fn``) changes their program too. Each check runs
in a fresh interpreter: cryptocheck is imported, a certificate scan runs and the ``tls`` and
``ssh`` command modules are imported, and then the modules it used are compared with what they
were without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

USE = '''
import cryptocheck
report = cryptocheck.scan(["tests/corpus/certs"], policy="nhs-acagpg")
assert report.findings
import cryptocheck.cli.main, cryptocheck.cli.tls, cryptocheck.cli.ssh
'''

# What every function and class of the dataclasses module is: enough to tell a replacement.
DESCRIBE_DATACLASSES = '''
import dataclasses, json, sys, types
def describe(value):
    code = value.__code__ if isinstance(value, types.FunctionType) else None
    return [getattr(value, "__module__", None), getattr(value, "__qualname__", None),
            code.co_filename if code else None, code.co_firstlineno if code else None]
described = {name: describe(value) for name, value in sorted(vars(dataclasses).items())
             if isinstance(value, (types.FunctionType, type))}
json.dump(described, sys.stdout)
'''

# Imports every module given on stdin (the ones a cryptocheck run loads), keeps each module's
# functions and classes, uses cryptocheck, and prints those no longer the same object.
COMPARE = '''
import importlib, json, sys, types
for name in json.load(sys.stdin):
    try:
        importlib.import_module(name)
    except Exception:
        pass  # a module that only imports as part of its package's import order
kept = {(name, attr): value
        for name, module in list(sys.modules.items()) if module is not None
        for attr, value in list(vars(module).items())
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type))}
checked = sorted({name for name, _ in kept})
''' + USE + '''
replaced = sorted(f"{name}.{attr}" for (name, attr), value in kept.items()
                  if getattr(sys.modules[name], attr, None) is not value)
json.dump({"checked": checked, "replaced": replaced}, sys.stdout)
'''


def _python(code: str, stdin: str = "") -> str:
    # The caller's environment, without what could turn behaviour off or point elsewhere.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CRYPTOCHECK_CACHE_DIR", "XDG_CACHE_HOME")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_dataclasses_is_the_standard_librarys_own() -> None:
    fresh = json.loads(_python(DESCRIBE_DATACLASSES))
    after_use = json.loads(_python(USE + DESCRIBE_DATACLASSES))
    assert after_use == fresh
    if "_create_fn" in fresh:  # Python 3.11 and 3.12
        assert fresh["_create_fn"][:2] == ["dataclasses", "_create_fn"]


def test_no_module_function_or_class_is_replaced() -> None:
    loaded = json.loads(_python(USE + '''
import json, sys
json.dump(sorted(n for n in sys.modules if n.split(".")[0] != "cryptocheck"), sys.stdout)
'''))
    result = json.loads(_python(COMPARE, json.dumps(loaded)))
    # The run's own dependencies were among the modules checked.
    assert {"dataclasses", "functools", "json", "click", "cryptography.x509"} <= \
        set(result["checked"])
    assert result["replaced"] == []
