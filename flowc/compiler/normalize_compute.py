"""Normalize's part for @kubernetes and @skypilot: Metaflow's shapes in, typed and validated IR fields out.

Accepted shapes (Metaflow's):
- `node_selector`: a dict, or the string "key=value,key2=value2".
- `secrets`: a list of names, or the string "a,b".
- `tolerations`: a list of dicts with Kubernetes' camelCase keys (`key`,
  `operator`, `value`, `effect`, `tolerationSeconds`).  `toleration_seconds`
  is accepted too, because Metaflow checks toleration dicts against the
  kubernetes client's V1Toleration attribute names, which are snake_case.

Every value is checked against the rule the Kubernetes API server applies
(flowc/compiler/lower/kubernetes_names.py), so a value it would refuse is an
error at its decorator on every target, not a failed pod at run time.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import DecoratorUse, Kubernetes, SkyPilot, Toleration
from flowc.compiler.lower import kubernetes_names as names
from flowc.contract.decorators import did_you_mean

OPERATORS = ("Equal", "Exists")
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_KEYS = {
    "key": "key",
    "operator": "operator",
    "value": "value",
    "effect": "effect",
    "tolerationSeconds": "toleration_seconds",
    "toleration_seconds": "toleration_seconds",
}
_CLOUD_OR_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_CLUSTER_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def normalize_kubernetes(use: DecoratorUse, diagnostics: list[Diagnostic]) -> Kubernetes:
    """The typed @kubernetes settings; each value Kubernetes would refuse is reported at `use`."""

    def problem(message: str) -> None:
        diagnostics.append(Diagnostic(use.location, f"@kubernetes({message}"))

    namespace, service_account, vendor = use.get("namespace"), use.get("service_account"), use.get("gpu_vendor")
    if namespace is not None and not names.is_dns_label(namespace):
        problem(f"namespace={namespace!r}): not a Kubernetes namespace name ({names.DNS_LABEL_RULE})")
    if service_account is not None and not names.is_subdomain(service_account):
        problem(f"service_account={service_account!r}): not a Kubernetes ServiceAccount name ({names.SUBDOMAIN_RULE})")
    if vendor is not None and not names.is_gpu_vendor(vendor):
        problem(
            f"gpu_vendor={vendor!r}): does not make a Kubernetes resource name (nvidia -> nvidia.com/gpu, "
            "or a full name such as amd.com/gpu)"
        )
    secrets = _secret_list(use.get("secrets"))
    for secret in secrets:
        if not names.is_subdomain(secret):
            problem(f"secrets): {secret!r} is not a Kubernetes Secret name ({names.SUBDOMAIN_RULE})")
    return Kubernetes(
        namespace=namespace,
        service_account=service_account,
        node_selector=_node_selector(use.get("node_selector"), problem),
        tolerations=tuple(
            t
            for i, raw in enumerate(use.get("tolerations") or (), 1)
            if (t := _toleration(i, raw, problem)) is not None
        ),
        labels=_string_map("labels", use.get("labels"), names.is_label_value, "label value", problem),
        annotations=_string_map("annotations", use.get("annotations"), None, "", problem),
        image_pull_policy=use.get("image_pull_policy"),  # its choices are in the decorator table
        gpu_vendor=vendor,
        secrets=tuple(dict.fromkeys(secrets)),
    )


def _secret_list(value: Any) -> list[str]:
    """Metaflow's list, or its comma-separated string (one name is a string without a comma)."""
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    return [s if isinstance(s, str) else repr(s) for s in value or ()]


def _node_selector(value: Any, problem: Callable[[str], None]) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not all("=" in item for item in items):
            problem(f"node_selector={value!r}): expected a dict or 'key=value,key2=value2'")
            return ()
        value = dict((k.strip(), v.strip()) for k, _, v in (item.partition("=") for item in items))
    return _string_map("node_selector", value, names.is_label_value, "label value", problem)


def _string_map(
    arg: str, mapping: Any, value_ok: Callable[[str], bool] | None, value_kind: str, problem: Callable[[str], None]
) -> tuple[tuple[str, str], ...]:
    """Sorted (key, text) pairs; keys are Kubernetes qualified names, values pass `value_ok` (any text if None)."""
    pairs = []
    for key, value in (mapping or {}).items():
        if not names.is_qualified_name(key):
            problem(f"{arg}): key {key!r} is not a valid Kubernetes key ({names.KEY_RULE})")
            continue
        if isinstance(value, (dict, list, tuple)) or value is None:
            problem(f"{arg}): the value of {key!r} must be a string, got {value!r}")
            continue
        text = value if isinstance(value, str) else str(value)
        if value_ok is not None and not value_ok(text):
            problem(f"{arg}): value {text!r} of {key!r} is not a valid Kubernetes {value_kind} ({names.VALUE_RULE})")
            continue
        pairs.append((key, text))
    return tuple(sorted(pairs))


def _toleration(index: int, raw: Any, problem: Callable[[str], None]) -> Toleration | None:
    """One toleration, checked as Kubernetes' ValidateTolerations does; None (reported) when it is wrong."""
    where = f"tolerations): toleration {index}"
    if not isinstance(raw, dict):
        problem(f"{where} must be a dict with keys key, operator, value, effect, tolerationSeconds; got {raw!r}")
        return None
    unknown = [k for k in raw if k not in TOLERATION_KEYS]
    if unknown:
        problem(
            f"{where} has unknown key {unknown[0]!r}{did_you_mean(str(unknown[0]), TOLERATION_KEYS)}; "
            "expected key, operator, value, effect, tolerationSeconds"
        )
        return None
    if "tolerationSeconds" in raw and "toleration_seconds" in raw:
        problem(f"{where} gives both tolerationSeconds and toleration_seconds; keep one")
        return None
    fields = {TOLERATION_KEYS[k]: v for k, v in raw.items()}
    found = []
    key, operator, value = fields.get("key"), fields.get("operator", "Equal"), fields.get("value")
    effect, seconds = fields.get("effect"), fields.get("toleration_seconds")
    if key is not None and not names.is_qualified_name(key):
        found.append(f"key {key!r} is not a valid Kubernetes key ({names.KEY_RULE})")
    if operator not in OPERATORS:
        found.append(f"operator {operator!r} must be Equal or Exists{did_you_mean(str(operator), OPERATORS)}")
    elif operator == "Exists" and value not in (None, ""):
        found.append(f"operator Exists matches every value of the taint; remove value {value!r} or use Equal")
    elif operator == "Equal" and not key:
        found.append("operator Equal needs a key (a toleration without a key must use Exists)")
    if value is not None and not names.is_label_value(value):
        found.append(f"value {value!r} is not a valid Kubernetes label value ({names.VALUE_RULE})")
    if effect is not None and effect not in EFFECTS:
        found.append(
            f"effect {effect!r} must be NoSchedule, PreferNoSchedule or NoExecute{did_you_mean(str(effect), EFFECTS)}"
        )
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            found.append(f"tolerationSeconds must be a non-negative integer, got {seconds!r}")
        elif effect != "NoExecute":
            found.append("tolerationSeconds applies only to effect NoExecute (Kubernetes refuses it otherwise)")
    for message in found:
        problem(f"{where}: {message}")
    if found:
        return None
    return Toleration(key=key, operator=operator, value=value, effect=effect, toleration_seconds=seconds)


def normalize_skypilot(use: DecoratorUse, diagnostics: list[Diagnostic]) -> SkyPilot:
    """The typed @skypilot settings; names SkyPilot would refuse are reported at `use`."""

    def problem(message: str) -> None:
        diagnostics.append(Diagnostic(use.location, message))

    accelerators = use.get("accelerators")
    if isinstance(accelerators, dict):
        if len(accelerators) != 1 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in accelerators.values()
        ):
            problem(f"@skypilot(accelerators={accelerators!r}): give one type, as \"A100:2\" or {{\"A100\": 2}}")
        accelerators = tuple(sorted((str(k), v) for k, v in accelerators.items()))
    for option in ("cloud", "region"):
        value = use.get(option)
        if value is not None and not _CLOUD_OR_REGION.fullmatch(value):
            problem(f"@skypilot({option}={value!r}) is not a {option} name")
    cluster_name = use.get("cluster_name")
    if cluster_name is not None and not (_CLUSTER_NAME.fullmatch(cluster_name) and len(cluster_name) <= 63):
        problem(
            f"@skypilot(cluster_name={cluster_name!r}): SkyPilot cluster names are lowercase letters, digits "
            "and '-', starting with a letter"
        )
    return SkyPilot(
        cluster_name=cluster_name,
        use_spot=bool(use.get("use_spot")),
        cloud=use.get("cloud"),
        region=use.get("region"),
        accelerators=accelerators,
        cpus=use.get("cpus"),
        memory=use.get("memory"),
        disk_size_gb=None if use.get("disk_size") is None else int(math.ceil(use.get("disk_size"))),
        image_id=use.get("image_id"),
        managed=bool(use.get("managed", True)),
        max_restarts_on_errors=int(use.get("max_restarts_on_errors") or 0),
        autostop_minutes=use.get("autostop_minutes"),
    )
