"""Options: one frozen object that travels from the CLI down to the emitters.

Emitters never read files, the clock or the environment; everything they may
vary on is here.  The CLI fills it from flags, `FLOWC_*` environment variables
and the `[tool.flowc]` table of pyproject.toml (flowc/cli/options.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Options:
    image: str = "python:3.11-slim"
    datastore: str = "s3://flowc-datastore/flowc"
    python: str = "python"  # the interpreter inside the container
    namespace: str | None = None
    service_account: str | None = None
    max_workers: int | None = None
    name: str | None = None  # the deployed name, default derived from the flow
    output_format: str = "yaml"  # argo: yaml or json
    operator: str = "kubernetes"  # airflow: kubernetes or local
    code_dir: str | None = None  # airflow --operator local: folder holding the flow file (default: the DAG's folder)
    gpu_vendor: str = "nvidia"
    package_url: str | None = None  # code package to bootstrap from (deploy sets it)
    package_sha: str | None = None
    job_queue: str | None = None  # step-functions
    job_definition: str | None = None  # step-functions
    skypilot_image: str = "berkeleyskypilot/skypilot:0.14.1"  # argo, airflow: the @skypilot launcher's image (needs flowc)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
