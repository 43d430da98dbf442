"""How a job names the secrets the runtime reads at task start (Step Functions' @secrets).

The compiler puts the list of secret names in SECRET_SOURCES_ENV; the runtime
(flowc/runtime/secrets.py) reads each named secret and sets each key of its
JSON object as an environment variable, the meaning Argo and Airflow give a
Kubernetes Secret in `envFrom`.  Only names travel here, never values.

Standard library only: user flows import this inside containers.
"""

from __future__ import annotations

import json

SECRET_SOURCES_ENV = "FLOWC_SECRET_SOURCES"


def encode_sources(sources) -> str:
    """The environment variable's value: a compact JSON array of secret names."""
    return json.dumps(list(sources), separators=(",", ":"))


def decode_sources(text: str) -> list[str]:
    """The secret names in the environment variable's value; ValueError when it is not a list of names."""
    sources = json.loads(text)
    if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
        raise ValueError(f"{SECRET_SOURCES_ENV} must be a JSON array of secret names")
    return sources
