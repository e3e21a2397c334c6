"""docs/result.schema.json and docs/diagnose.schema.json, applied to every JSON document the test suite sees.

tests/support/runs.py's Run (every command-line run, in-process or a child process) and the other
places that parse the probe's JSON call ``validated``, so a key the schema does not
declare, a missing one or a wrong type fails the test that produced it.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from .paths import ROOT

SCHEMA_PATH = os.path.join(ROOT, "docs", "result.schema.json")
DIAGNOSE_SCHEMA_PATH = os.path.join(ROOT, "docs", "diagnose.schema.json")


@lru_cache(maxsize=2)
def validator(path: str = SCHEMA_PATH) -> Draft202012Validator:
    with open(path, encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def is_diagnose_report(document: Any) -> bool:
    """`ocpp-probe diagnose --json` prints a report (docs/diagnose.schema.json), not a
    check result; the check result it carries (``ocpp``) is validated as one."""
    return isinstance(document, dict) and "findings" in document and "suggestions" in document


def validated(document: Any) -> Any:
    """``document`` unchanged; AssertionError listing every way it breaks its schema."""
    path = SCHEMA_PATH
    if is_diagnose_report(document):
        path = DIAGNOSE_SCHEMA_PATH
        if document.get("ocpp") is not None:
            validated(document["ocpp"])
    errors = sorted(validator(path).iter_errors(document), key=lambda error: list(error.path))
    assert not errors, f"JSON output does not match docs/{os.path.basename(path)}:\n" + "\n".join(
        f"  at {'/'.join(map(str, error.path)) or '(top)'}: {error.message}" for error in errors
    )
    return document


def validated_lines(text: str) -> list[Any]:
    """Every line of ``text`` that is a JSON object, parsed and validated."""
    return [validated(json.loads(line)) for line in text.splitlines() if line.startswith("{")]
