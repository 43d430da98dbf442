"""Argo's names for flows and steps, and the value checks only Argo needs (Kubernetes' own rules: lower/kubernetes_names.py).

The naming rule is stable (a name depends only on the original name) and
collision-free within a flow:

- `_` becomes `-`.  Python identifiers never contain `-`, so this alone is
  one-to-one, and a name that comes out a valid DNS-1123 label is kept as is
  (`shard_join` -> `shard-join`).
- Anything else (upper case, a leading `_` or digit, too long, or a name that
  would clash with the templates flowc adds: `main`, `*-body`, `*-loop`) is lowercased,
  cleaned, truncated, and given an 8-hex suffix from the SHA-256 of the
  original name (`Train` -> `train-6b2a1f0c`).  Hex never ends in `body` or `loop`.

The original names are kept in an annotation on the WorkflowTemplate.
"""

from __future__ import annotations

import hashlib
import re

LABEL_MAX = 63
STEP_NAME_MAX = LABEL_MAX - len("-body")  # room for the foreach body template's suffix
CRON_NAME_MAX = 52  # Argo appends "-<unix time>" to a CronWorkflow's name for each run
MAIN_TEMPLATE = "main"
BODY_SUFFIX = "-body"
LOOP_SUFFIX = "-loop"  # a recursive step's loop template (same length as BODY_SUFFIX)
HASH_CHARS = 8
# The code package a @skypilot step's VM fetches: a workflow argument, so `argo submit -p` can give it when the
# template was compiled without --package-url (`flowc deploy` compiles with it, which makes it the value).
PACKAGE_PARAMETER = "flowc-package"

_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_PARAMETER_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def dns_label(original: str, max_length: int = LABEL_MAX) -> str:
    """`original` as a DNS-1123 label starting with a letter, by the stable rule above."""
    plain = original.replace("_", "-")
    reserved = plain == MAIN_TEMPLATE or plain.endswith(BODY_SUFFIX) or plain.endswith(LOOP_SUFFIX)
    if _LABEL.match(plain) and len(plain) <= max_length and not reserved:
        return plain
    cleaned = re.sub(r"[^a-z0-9-]+", "-", original.lower().replace("_", "-"))
    cleaned = re.sub(r"^[^a-z]+", "", cleaned)  # a task name may not start with a digit or '-'
    cleaned = cleaned[: max_length - HASH_CHARS - 1].rstrip("-")
    return f"{cleaned}-{short_hash(original)}" if cleaned else f"x{short_hash(original)}"


def step_name(original: str) -> str:
    """The template and DAG task name of a step."""
    return dns_label(original, STEP_NAME_MAX)


def body_template_name(foreach_step: str) -> str:
    """The DAG template (and the task that runs it) of a foreach step's body."""
    return step_name(foreach_step) + BODY_SUFFIX


def loop_template_name(recursive_step: str) -> str:
    """The DAG template of a recursive step's loop (the parent DAG's task for the step runs it)."""
    return step_name(recursive_step) + LOOP_SUFFIX


def flow_resource_name(flow_name: str, project: str | None, explicit: str | None) -> str:
    """The WorkflowTemplate's name: `--name` if given, else [project-]flow, lowercased.

    Flow classes are CamelCase by convention, so lowercasing alone does not
    earn a hash suffix here; the original is kept in an annotation.
    """
    if explicit:
        return explicit
    base = f"{project}-{flow_name}" if project else flow_name
    lowered = base.lower().replace("_", "-")
    if _LABEL.match(lowered) and len(lowered) <= LABEL_MAX:
        return lowered
    return dns_label(base.lower(), LABEL_MAX)


def cron_resource_name(template_name: str) -> str:
    if len(template_name) <= CRON_NAME_MAX:
        return template_name
    return dns_label("_" + template_name, CRON_NAME_MAX)  # "_" forces the hashed form


def is_label(name: str) -> bool:
    """A DNS-1123 label that starts with a letter: what Argo takes as a template, task or resource name."""
    return bool(_LABEL.match(name)) and len(name) <= LABEL_MAX


def is_parameter_name(name: str) -> bool:
    return bool(_PARAMETER_NAME.match(name))


def has_argo_expression(text: str) -> bool:
    """Argo substitutes `{{...}}` everywhere in a template; a user value must not contain it."""
    return "{{" in text
