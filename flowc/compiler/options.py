"""Options: one frozen object that travels from the CLI down to the emitters.

Emitters never read files, the clock or the environment; everything they may
vary on is here.  The CLI fills it from flags, `FLOWC_*` environment variables
and the `[tool.flowc]` table of pyproject.toml (flowc/cli/options.py).

`READ_BY` says which target reads which field.  The CLI refuses a field the
user gave explicitly (flag, `FLOWC_*`, or the target's own `[tool.flowc.T]`
table) for a target that does not read it: an option silently ignored is a
construct silently dropped.  A test keeps the table true to the targets.
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
    job_queue: str | None = None  # step-functions
    job_definition: str | None = None  # step-functions
    branch: str | None = None  # @project: deploy to test.BRANCH (prod.BRANCH with production)
    production: bool | None = None  # @project: deploy to the production branch
    user: str | None = None  # @project: the user of the default branch user.USER (the CLI fills it in)
    skypilot_image: str = (
        "berkeleyskypilot/skypilot:0.14.1"  # the orchestrators' @skypilot launcher image (needs flowc)
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


_KUBERNETES = frozenset({"argo", "airflow"})
_CONTAINERS = frozenset({"argo", "step-functions", "airflow"})
_RUNTIME_COMMAND = _CONTAINERS | {"skypilot"}  # targets that render the runtime command (flowc/compiler/command.py)

# Options field -> the targets that read it.  The `ir` target reads none.
READ_BY: dict[str, frozenset[str]] = {
    "image": _CONTAINERS,
    "datastore": _RUNTIME_COMMAND,
    "python": _RUNTIME_COMMAND,
    "namespace": _KUBERNETES,
    "service_account": _KUBERNETES,
    "max_workers": _CONTAINERS,
    "name": _CONTAINERS,
    "output_format": frozenset({"argo"}),
    "operator": frozenset({"airflow"}),
    "code_dir": frozenset({"airflow"}),
    "gpu_vendor": _KUBERNETES,
    "package_url": _RUNTIME_COMMAND,
    "job_queue": frozenset({"step-functions"}),
    "job_definition": frozenset({"step-functions"}),
    "skypilot_image": _CONTAINERS,
    # the deployed name (project.branch.Flow) and every task's `current.branch_name`
    "branch": _RUNTIME_COMMAND,
    "production": _RUNTIME_COMMAND,
    "user": _RUNTIME_COMMAND,
}
