"""Build hook for the optional C hot path of the bulk certificate scanner.

pyproject.toml holds the project metadata; this file only adds the extension
``cryptocheck.bulk._fastcert``. It is optional: when there is no compiler, no Python headers
or no OpenSSL headers, the build goes on without it and ``cryptocheck.bulk`` uses its
pure-Python scanner, which gives the same output (more slowly).
"""

from __future__ import annotations

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build extensions when possible; never fail the install because of them."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure: fall back to Python
            print(f"cryptocheck: optional C extension not built ({exc}); using pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            print(f"cryptocheck: optional C extension {ext.name} not built ({exc})")


setup(
    ext_modules=[
        Extension(
            "cryptocheck.bulk._fastcert",
            sources=["cryptocheck/bulk/_fastcert.c"],
            libraries=["crypto"],
            extra_compile_args=["-O2", "-std=c11", "-Wall"],
            optional=True,
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
