"""Argo's own JSON schema, with its two known defects handled, as a validator for manifests.

- Argo's schema types int-or-string fields and resource quantities as strings
  only (upstream issue 6060, won't fix): widened to accept integers too.
- It never forbids unknown keys: every object definition with properties gets
  `additionalProperties: false`, so a typo such as `withParams` fails.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

KINDS = ("WorkflowTemplate", "CronWorkflow", "Workflow")


@functools.lru_cache(maxsize=None)
def _validators(path: str):
    from jsonschema import Draft202012Validator

    schema = json.loads(Path(path).read_text())
    definitions = schema["definitions"]
    definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
    definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"] = {"type": ["string", "number"]}
    for definition in definitions.values():
        if (
            definition.get("type") == "object"
            and "properties" in definition
            and "additionalProperties" not in definition
        ):
            definition["additionalProperties"] = False
    return {
        kind: Draft202012Validator(
            {
                "$schema": schema.get("$schema"),
                "definitions": definitions,
                "$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}",
            }
        )
        for kind in KINDS
    }


def schema_errors(schema_file: Path, doc: dict) -> list[str]:
    """Readable errors of one manifest against the schema (empty when valid)."""
    validator = _validators(str(schema_file))[doc["kind"]]
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message[:300] for e in errors]
