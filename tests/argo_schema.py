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
    """Readable errors of one manifest against the schema (empty when valid); a Sensor: sensor_errors."""
    if doc.get("kind") == "Sensor":  # an Argo Events object: the Argo Workflows schema has no definition of it
        return sensor_errors(schema_file, doc)
    validator = _validators(str(schema_file))[doc["kind"]]
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message[:300] for e in errors]


def sensor_errors(schema_file: Path, doc: dict) -> list[str]:
    """Readable errors of an Argo Events Sensor: hera's events models, strictly (no unknown key), for every field
    but the triggers' `source.resource`, which hera types as an encoded string; that resource, a Workflow, is
    checked against Argo's schema instead.  No Argo Events schema is vendored here."""
    import copy

    import hera.events.models as models

    errors: list[str] = []
    body = copy.deepcopy(doc)
    for i, trigger in enumerate(body.get("spec", {}).get("triggers", [])):
        source = trigger.get("template", {}).get("argoWorkflow", {}).get("source", {})
        resource = source.pop("resource", None)
        if resource is not None:
            errors += [f"spec/triggers/{i}/source/resource/{e}" for e in schema_errors(schema_file, resource)]
    errors += _strict_model_errors(models.Sensor, {k: v for k, v in body.items() if k not in ("apiVersion", "kind")})
    try:
        models.Sensor.model_validate(body)
    except Exception as exc:  # pydantic's ValidationError, read as text
        errors.append(str(exc)[:300])
    return errors


def _strict_model_errors(model, value, where: str = "") -> list[str]:
    """Keys of `value` that no field of the pydantic `model` (by alias) takes, recursively."""
    import typing

    if not isinstance(value, dict) or not hasattr(model, "model_fields"):
        return []
    by_alias = {(f.alias or name): f for name, f in model.model_fields.items()}
    errors = []
    for key, item in value.items():
        field = by_alias.get(key)
        if field is None:
            errors.append(f"{where}/{key}: not a field of {model.__name__}")
            continue
        for inner in _model_types(field.annotation, typing):
            items = item if isinstance(item, list) else [item]
            for n, element in enumerate(items):
                errors += _strict_model_errors(
                    inner, element, f"{where}/{key}" + (f"/{n}" if isinstance(item, list) else "")
                )
    return errors


def _model_types(annotation, typing) -> list:
    if hasattr(annotation, "model_fields"):
        return [annotation]
    return [t for arg in typing.get_args(annotation) for t in _model_types(arg, typing)]
