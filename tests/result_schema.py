"""docs/result.schema.json, applied to every JSON document the test suite sees.

conftest's Run (every command-line run, in-process or a child process) and the other
places that parse the probe's JSON call ``validated``, so a key the schema does not
declare, a missing one or a wrong type fails the test that produced it.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "result.schema.json")


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def is_diagnose_report(document: Any) -> bool:
    """`ocpp-probe diagnose --json` prints a report, not a check result.

    That report has no schema in docs/ yet; only the check result it carries (``ocpp``)
    is validated.
    """
    return isinstance(document, dict) and "findings" in document and "suggestions" in document


def validated(document: Any) -> Any:
    """``document`` unchanged; AssertionError listing every way it breaks the schema."""
    if is_diagnose_report(document):
        if document.get("ocpp") is not None:
            validated(document["ocpp"])
        return document
    errors = sorted(validator().iter_errors(document), key=lambda error: list(error.path))
    assert not errors, "JSON output does not match docs/result.schema.json:\n" + "\n".join(
        f"  at {'/'.join(map(str, error.path)) or '(top)'}: {error.message}" for error in errors
    )
    return document


def validated_lines(text: str) -> list[Any]:
    """Every line of ``text`` that is a JSON object, parsed and validated."""
    return [validated(json.loads(line)) for line in text.splitlines() if line.startswith("{")]
