"""Print one fact about the project, read from the one place it is declared.

    python build/project_meta.py version|maintainer|homepage

version comes from ocpp_probe/__init__.py (pyproject reads it from there too);
maintainer and homepage from pyproject.toml. Used by build/deb.sh.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def version() -> str:
    text = (REPO / "ocpp_probe" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if not match:
        raise SystemExit("project_meta: no __version__ in ocpp_probe/__init__.py")
    return match.group(1)


def project() -> dict[str, object]:
    import tomllib  # Python 3.11+, which the package builds use

    with open(REPO / "pyproject.toml", "rb") as f:
        data: dict[str, object] = tomllib.load(f)["project"]
    return data


def maintainer() -> str:
    first = project()["maintainers"][0]  # type: ignore[index]
    return f"{first['name']} <{first['email']}>"


def homepage() -> str:
    return str(project()["urls"]["Homepage"])  # type: ignore[index]


def main(argv: list[str]) -> int:
    facts = {"version": version, "maintainer": maintainer, "homepage": homepage}
    if len(argv) != 1 or argv[0] not in facts:
        sys.stderr.write(f"usage: project_meta.py {'|'.join(facts)}\n")
        return 2
    print(facts[argv[0]]())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
