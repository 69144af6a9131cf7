"""Write (or, with ``--check``, verify) the JSON form of every TOML file shipped in the package.

Each catalogue table ``cryptocheck/catalog/data/NAME.toml`` and each shipped policy
``policies/NAME.toml`` gets ``NAME.parsed.json`` beside it: what :func:`tomllib.loads` gives,
with the SHA-256 of the TOML text (see :mod:`cryptocheck.catalog.parsed`). Run it after
editing one of them:

    python3 scripts/parsed_json.py          # rewrite the JSON forms that changed
    python3 scripts/parsed_json.py --check  # exit 1 when one is missing or stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptocheck.catalog.parsed import DATA, SUFFIX, document, twin_path
from cryptocheck.policy.loader import _policies_folder

FOLDERS = (DATA, Path(_policies_folder()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args()
    stale: list[str] = []
    count = 0
    for folder in FOLDERS:
        tomls = sorted(folder.glob("*.toml"))
        count += len(tomls)
        for toml in tomls:
            text = document(toml)
            twin = twin_path(toml)
            if twin.is_file() and twin.read_text("utf-8") == text:
                continue
            stale.append(f"{folder.name}/{twin.name}")
            if not args.check:
                twin.write_text(text, "utf-8")
        expected = {twin_path(toml) for toml in tomls}
        for orphan in sorted(set(folder.glob(f"*{SUFFIX}")) - expected):
            stale.append(f"{folder.name}/{orphan.name} (no TOML)")
            if not args.check:
                orphan.unlink()
    verb = "stale" if args.check else "written"
    print(f"{count} TOML files; {verb}: {', '.join(stale) or 'none'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
