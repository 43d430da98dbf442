"""The capability table: for each target, the decision on every construct (FEATURES[target][construct]).

A construct is a decorator (`@batch`), one argument of a decorator
(`@batch(queue=)`, one per argument of flowc/contract/decorators.py's table)
or a graph or flow shape (`split`, `foreach`, `Parameter(int)`, ...).  Every
cell is a `Decision`: honoured (and how), refused (an error at the construct's
line), warned (compiled, with a located warning) or, for `flowc run`, a note.
The argument rows are generated from the decorator table: an argument the
table gains without a decision here is listed by `missing_decisions()` (a test
fails) and refused by the check (flowc/compiler/capabilities.py), never dropped.
"""

from __future__ import annotations

from flowc.compiler.capability_cells import (  # noqa: F401 - the table's vocabulary, read from here by capabilities.py
    HONOUR,
    KUBERNETES_TARGETS,
    NOTE,
    ORCHESTRATORS,
    REFUSE,
    SEVERITY,
    TARGETS,
    WARN,
    Decision,
    argument_construct,
)
from flowc.compiler.capability_cells import cells as _cells
from flowc.compiler.capability_graph import (  # noqa: F401 - PARAMETER_TYPES: read from here by capabilities.py
    AIRFLOW_UNROLLED,
    GRAPH_DECISIONS,
    PARAMETER_TYPES,
    SKYPILOT_NO_SWITCH,
)
from flowc.contract.decorators import DECORATORS

# ---------------------------------------------------------------------------
# The reasons, each written once

_LOCAL_PLACEMENT = "`flowc run` runs every step as a local process on this machine; it applies when deployed"
_BATCH_ONLY = (
    "it is an AWS Batch setting and this target runs the step as a Kubernetes pod (Metaflow refuses @batch "
    "on Argo too); remove it, or keep the flow's @batch for --target step-functions and put settings every "
    "target reads in @resources"
)
_KUBERNETES_ONLY = (
    "it is a Kubernetes setting and AWS Batch neither places nor configures jobs by Kubernetes "
    "labels, service accounts or secrets; remove it, or choose the machines with @batch(queue=) "
    "(the queue's compute environment)"
)
_PACKAGES = (
    "the step runs in its locked environment (the lock file beside the flow, `flowc lock`): `flowc deploy` "
    "builds it, the container fetches it by hash from the datastore (`--environment`); the image needs only "
    "the Python it was locked for"
)
_PACKAGE_DECORATORS = ("pypi", "pypi_base", "conda", "conda_base")
_PACKAGE_ARGUMENTS = {
    "packages": "pinned with hashes in the lock and installed in the step's environment",
    "python": "the Python the environment is locked for; the runtime refuses to enter it from another (exit 2)",
    "disabled": "the step has no environment: it runs in the image's (or flowc run's) Python",
}
_CONDA_PACKAGES = (
    "served from PyPI by uv under their PyPI names (pytorch -> torch, ...); a conda-only package "
    "(compilers, CUDA, R) is an error at the decorator"
)
_LOCAL_PACKAGES = "`flowc run` builds the step's locked environment for this machine and runs the step in it"
_LAUNCH_SETTINGS = ("cluster_name", "managed", "autostop_minutes")
_ONE_COMPUTE = "a step has one compute decorator, and a @skypilot step's task cannot carry another"
_SKYPILOT_NOT_DEPLOYED = (
    "SkyPilot task files are launched by an orchestrator or by hand, never deployed on their "
    "own; it applies when the flow is deployed with argo, step-functions or airflow"
)

_RESOURCES = {
    "argo": "container requests and limits",
    "step-functions": "ContainerOverrides ResourceRequirements",
    "airflow": "the pod's container resources",
    "skypilot": "the task's resources",
    "local": "flowc run warns when this machine has less",
}
_RUNTIME = "the runtime applies it inside the step's process, the same on every target"
_CARD = (
    "the runtime renders the card after the step, in the task's own process, and stores it beside the task "
    "(cards/<id or type>.html): the same page on every target, read with `flowc card`"
)


def _resource_row(
    argo: str = _RESOURCES["argo"],
    step_functions: str = _RESOURCES["step-functions"],
    airflow: str = _RESOURCES["airflow"],
    skypilot: str = _RESOURCES["skypilot"],
) -> dict[str, Decision]:
    return {
        "argo": Decision(HONOUR, argo),
        "step-functions": Decision(HONOUR, step_functions),
        "airflow": Decision(HONOUR, airflow),
        "skypilot": Decision(HONOUR, skypilot),
        "local": Decision(HONOUR, _RESOURCES["local"]),
    }


_DISK = {
    **_resource_row(
        argo="an ephemeral-storage request",
        airflow="an ephemeral-storage request",
        skypilot="the task's disk_size (GB, rounded up)",
    ),
    "step-functions": Decision(
        REFUSE,
        "AWS Batch on EC2 has no per-job disk size (the compute environment's "
        "launch template sizes the volume); remove disk= for this target and size "
        "the queue's instances instead",
    ),
    "local": Decision(NOTE, "the step uses this machine's disk"),
}
_SHARED_MEMORY = {
    **_resource_row(
        argo="a Memory emptyDir of that size mounted at /dev/shm",
        airflow="a Memory emptyDir of that size mounted at /dev/shm",
        step_functions="the job definition's linuxParameters.sharedMemorySize",
    ),
    "skypilot": Decision(
        REFUSE,
        "a SkyPilot VM's /dev/shm is sized by its machine and SkyPilot has no "
        "setting for it; remove shared_memory for this step or choose a machine "
        "with more memory",
    ),
    "local": Decision(NOTE, "the step uses this machine's /dev/shm"),
}
_IMAGE = {**_cells(HONOUR, "the step's container image"), "local": Decision(NOTE, _LOCAL_PLACEMENT)}

_BATCH_SETTINGS = {
    "queue": "the Task's JobQueue",
    "iam_role": "the job definition's jobRoleArn",
    "execution_role": "the job definition's executionRoleArn",
    "max_swap": "the job definition's linuxParameters.maxSwap (MiB)",
    "swappiness": "the job definition's linuxParameters.swappiness",
    "use_tmpfs": "a tmpfs at /tmp in the job definition's linuxParameters (half the memory unless tmpfs_size)",
    "tmpfs_size": "the size (MiB) of the tmpfs at /tmp",
    "aws_batch_tags": "SubmitJob Tags with PropagateTags, so the ECS task carries them too",
}
_KUBERNETES_SETTINGS = {
    "image_pull_policy": "the container's imagePullPolicy",
    "namespace": "the pod's namespace",
    "service_account": "the pod's serviceAccountName",
    "node_selector": "the pod's nodeSelector",
    "tolerations": "the pod's tolerations",
    "secrets": "one envFrom secretRef per Kubernetes Secret: each key becomes an environment variable",
    "gpu_vendor": "the GPU resource name <vendor>.com/gpu",
    "labels": "the pod's metadata labels",
    "annotations": "the pod's metadata annotations",
}


def _batch_setting(how: str) -> dict[str, Decision]:
    return {**_cells(REFUSE, _BATCH_ONLY, KUBERNETES_TARGETS), "step-functions": Decision(HONOUR, how)}


def _kubernetes_setting(how: str) -> dict[str, Decision]:
    return {**_cells(HONOUR, how, KUBERNETES_TARGETS), "step-functions": Decision(REFUSE, _KUBERNETES_ONLY)}


def _compute_decorator(how: str) -> dict[str, Decision]:
    """A compute decorator: honoured where it runs its resources and image; its own settings decide per argument."""
    return {
        **_cells(HONOUR, how, ORCHESTRATORS),
        "skypilot": Decision(REFUSE, _ONE_COMPUTE),
        "local": Decision(NOTE, _LOCAL_PLACEMENT),
    }


def _packages_decorator() -> dict[str, Decision]:
    return {**_cells(HONOUR, _PACKAGES, ORCHESTRATORS + ("skypilot",)), "local": Decision(HONOUR, _LOCAL_PACKAGES)}


_DECORATOR_DECISIONS: dict[str, dict[str, Decision]] = {
    "resources": _cells(HONOUR, "the step's resources (the largest of @resources, @batch and @kubernetes)"),
    "batch": _compute_decorator(
        "its resources and image apply everywhere; its Batch settings decide argument by argument"
    ),
    "kubernetes": _compute_decorator(
        "its resources and image apply everywhere; its Kubernetes settings decide argument by argument"
    ),
    "retry": _cells(
        HONOUR,
        "argo retryStrategy, step-functions a retry loop of states, airflow retries, skypilot restarts, local reruns",
    ),
    "catch": _cells(HONOUR, _RUNTIME),
    "recursion": {
        "skypilot": Decision(REFUSE, SKYPILOT_NO_SWITCH),
        "argo": Decision(HONOUR, "the runtime counts a recursive step's iterations and fails the one past max"),
        "step-functions": Decision(HONOUR, "a loop of states around the step's Task, its counter in the state"),
        "airflow": Decision(HONOUR, AIRFLOW_UNROLLED),
        "local": Decision(HONOUR, "the runtime counts a recursive step's iterations and fails the one past max"),
    },
    "timeout": _cells(
        HONOUR,
        "argo activeDeadlineSeconds, step-functions TimeoutSeconds, airflow execution_timeout, "
        "the local runner's and the launcher's deadline",
    ),
    "environment": _cells(HONOUR, "the container's (or process's) environment"),
    "secrets": {
        **_cells(HONOUR, "each named secret's keys become environment variables", ORCHESTRATORS),
        "skypilot": Decision(
            REFUSE,
            "secrets are passed by reference to the orchestrator, which a SkyPilot "
            "VM cannot read; give the values to SkyPilot (its `secrets:`) instead",
        ),
        "local": Decision(NOTE, "`flowc run` fetches no secrets: export the variables they provide first"),
    },
    "conda": _packages_decorator(),
    "pypi": _packages_decorator(),
    "conda_base": _packages_decorator(),
    "pypi_base": _packages_decorator(),
    "skypilot": {
        **_cells(HONOUR, "a launcher task runs the step through SkyPilot", ORCHESTRATORS + ("skypilot",)),
        "local": Decision(NOTE, "`flowc run` runs the step locally unless it launches @skypilot steps"),
    },
    "schedule": {
        "argo": Decision(HONOUR, "a CronWorkflow"),
        "step-functions": Decision(HONOUR, "an EventBridge rule"),
        "airflow": Decision(HONOUR, "the DAG's schedule"),
        "skypilot": Decision(WARN, _SKYPILOT_NOT_DEPLOYED),
        "local": Decision(NOTE, "`flowc run` runs the flow once, now; the schedule applies when deployed"),
    },
    "card": _cells(HONOUR, _CARD),
    "trigger": {
        "argo": Decision(
            HONOUR, "an Argo Events Sensor that submits the WorkflowTemplate, parameters from the payload"
        ),
        "step-functions": Decision(
            HONOUR, "an EventBridge rule on flowc's events; the state machine's first states map the payload"
        ),
        "airflow": Decision(
            HONOUR, "the DAG is scheduled on the event's Asset; parameters from the asset event's extra"
        ),
        "skypilot": Decision(WARN, _SKYPILOT_NOT_DEPLOYED),
        "local": Decision(NOTE, "`flowc run` runs the flow once, now; events start it only when deployed"),
    },
    "trigger_on_finish": {
        "argo": Decision(
            HONOUR, "an Argo Events Sensor on the upstream's succeeded Workflows that submits the template"
        ),
        "step-functions": Decision(HONOUR, "an EventBridge rule on the upstream state machine's SUCCEEDED executions"),
        "airflow": Decision(HONOUR, "the DAG is scheduled on the upstream DAG's Asset, which its end task updates"),
        "skypilot": Decision(WARN, _SKYPILOT_NOT_DEPLOYED),
        "local": Decision(NOTE, "`flowc run` runs the flow once, now; the upstream's runs start it only when deployed"),
    },
    "project": {
        "argo": Decision(HONOUR, "the WorkflowTemplate named project-branch-flow; every task's current.branch_name"),
        "step-functions": Decision(HONOUR, "the state machine named project-branch-Flow; every task's branch"),
        "airflow": Decision(HONOUR, "the DAG id project.branch.Flow, tags project: and project_branch:"),
        "skypilot": Decision(WARN, _SKYPILOT_NOT_DEPLOYED),
        "local": Decision(NOTE, "`flowc run` keeps runs by flow name; tasks see the branch (--branch, --production)"),
    },
}

# Arguments of decorators honoured (or compute decorators) somewhere; the others follow their decorator.
_ARGUMENT_DECISIONS: dict[tuple[str, str], dict[str, Decision]] = {
    **{(d, a): _resource_row() for d in ("resources", "batch", "kubernetes") for a in ("cpu", "memory", "gpu")},
    **{(d, "disk"): _DISK for d in ("resources", "kubernetes")},
    **{(d, "shared_memory"): _SHARED_MEMORY for d in ("resources", "batch", "kubernetes")},
    **{(d, "image"): _IMAGE for d in ("batch", "kubernetes")},
    **{("batch", a): _batch_setting(how) for a, how in _BATCH_SETTINGS.items()},
    **{("kubernetes", a): _kubernetes_setting(how) for a, how in _KUBERNETES_SETTINGS.items()},
    ("retry", "times"): _cells(HONOUR, "the number of retries after the first attempt"),
    ("catch", "var"): _cells(HONOUR, _RUNTIME),
    ("recursion", "max"): {
        "argo": Decision(HONOUR, "the runtime fails the iteration past max (exit 2, not retried)"),
        "step-functions": Decision(
            HONOUR, "the runtime fails the iteration past max (exit 2, not retried); max must fit the history budget"
        ),
        "airflow": Decision(HONOUR, "max tasks <step>-0 ... <step>-<max-1>; the runtime fails the iteration past max"),
        "local": Decision(HONOUR, "the runtime fails the iteration past max (exit 2, not retried)"),
    },
    ("catch", "print_exception"): _cells(HONOUR, _RUNTIME),
    **{("timeout", a): _cells(HONOUR, "part of the step's deadline") for a in ("seconds", "minutes", "hours")},
    ("environment", "vars"): _cells(HONOUR, "the container's (or process's) environment"),
    ("secrets", "sources"): {
        "argo": Decision(HONOUR, "one envFrom secretRef per Kubernetes Secret"),
        "airflow": Decision(HONOUR, "one secret_names entry per Kubernetes Secret"),
        "step-functions": Decision(
            HONOUR,
            "the runtime reads each AWS Secrets Manager secret (a JSON object) at "
            "task start and sets each key as an environment variable",
        ),
    },
    ("retry", "minutes_between_retries"): {
        **_cells(
            HONOUR,
            "argo backoff duration, step-functions a Wait state, airflow retry_delay, local waits",
            ORCHESTRATORS + ("local",),
        ),
        "skypilot": Decision(
            WARN, "SkyPilot restarts a failed managed job at once; the delay between retries is not applied"
        ),
    },
    ("secrets", "role"): _cells(
        REFUSE,
        "a secret is read with the step's own identity: @batch(iam_role=) on "
        "step-functions, @kubernetes(service_account=) on Kubernetes; remove role=",
        ORCHESTRATORS,
    ),
    **{
        ("skypilot", a.name): _cells(HONOUR, "the SkyPilot task's resources and options", ORCHESTRATORS + ("skypilot",))
        for a in DECORATORS["skypilot"].args
        if a.name not in _LAUNCH_SETTINGS
    },
    # How a task is launched is the launcher's (the orchestrators, `flowc run --skypilot`); a task file has no field for it.
    **{
        ("skypilot", name): {
            **_cells(HONOUR, "the launcher's --mode/--cluster/--autostop-minutes", ORCHESTRATORS),
            "skypilot": Decision(
                WARN,
                "a SkyPilot task file holds no launch mode; flowc's launcher "
                "applies it, by hand give it to sky (sky launch -c NAME, "
                "sky jobs launch, -i MINUTES)",
            ),
        }
        for name in _LAUNCH_SETTINGS
    },
    **{
        ("schedule", a): {t: _DECORATOR_DECISIONS["schedule"][t] for t in ORCHESTRATORS}
        for a in ("cron", "hourly", "daily", "weekly")
    },
    ("schedule", "timezone"): {
        "argo": Decision(HONOUR, "the CronWorkflow's timezone"),
        "airflow": Decision(HONOUR, "the timetable's timezone"),
        "step-functions": Decision(
            REFUSE,
            "flowc deploys the schedule as an EventBridge rule, which runs in UTC; "
            "write the cron in UTC and remove timezone=",
        ),
    },
    ("project", "name"): {t: _DECORATOR_DECISIONS["project"][t] for t in ORCHESTRATORS},
    **{
        (d, a): {t: _DECORATOR_DECISIONS[d][t] for t in ORCHESTRATORS}
        for d, names in (("trigger", ("event", "events")), ("trigger_on_finish", ("flow", "flows")))
        for a in names
    },
    **{("card", a): _cells(HONOUR, _CARD) for a in ("type", "id", "options", "timeout", "save_errors")},
    **{(d, a): _cells(HONOUR, _PACKAGE_ARGUMENTS[a]) for d in _PACKAGE_DECORATORS for a in _PACKAGE_ARGUMENTS},
    **{(d, "packages"): _cells(HONOUR, _CONDA_PACKAGES) for d in ("conda", "conda_base")},
    **{(d, "libraries"): _cells(HONOUR, _CONDA_PACKAGES) for d in ("conda", "conda_base")},
}


def _features() -> dict[str, dict[str, Decision]]:
    """FEATURES[target][construct], generated from the decorator table plus the graph constructs."""
    table: dict[str, dict[str, Decision]] = {t: {} for t in TARGETS}
    for construct, cells in GRAPH_DECISIONS.items():
        for target, decision in cells.items():
            table[target][construct] = decision
    for name, spec in DECORATORS.items():
        for target, decision in _DECORATOR_DECISIONS.get(name, {}).items():
            table[target][f"@{name}"] = decision
        for arg in spec.args:
            own = _ARGUMENT_DECISIONS.get((name, arg.name), {})
            for target in TARGETS:
                whole = table[target].get(f"@{name}")
                decision = own.get(target) or (whole if whole is not None and whole.verdict != HONOUR else None)
                if decision is not None:
                    table[target][argument_construct(name, arg.name)] = decision
    return table


FEATURES: dict[str, dict[str, Decision]] = _features()


def all_constructs() -> list[str]:
    """Every construct the vocabulary has: graph shapes, each decorator and each of its arguments."""
    found = list(GRAPH_DECISIONS)
    for name, spec in DECORATORS.items():
        found += [f"@{name}"] + [argument_construct(name, a.name) for a in spec.args]
    return found


def missing_decisions() -> list[tuple[str, str]]:
    """(target, construct) cells without a decision: each is a construct added without deciding it."""
    return [(t, c) for c in all_constructs() for t in TARGETS if c not in FEATURES[t]]
