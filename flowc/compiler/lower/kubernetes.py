"""What a step's pod looks like on Kubernetes, for Argo and Airflow alike.

`pod(step, options)` resolves every setting once (defaults from `Options`,
units as Kubernetes quantities, secret names in one order), so the two
targets only choose how to print it: hera's models for Argo, the
KubernetesPodOperator's arguments for Airflow.  Tolerations, volumes and
mounts are dicts with the snake_case field names that both hera's models and
the `kubernetes` client's V1 models take as keyword arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, Kubernetes, Resources, Step, Toleration
from flowc.compiler.lower import kubernetes_names as k8s_names
from flowc.compiler.options import Options

SHARED_MEMORY_VOLUME = "dshm"
SHARED_MEMORY_PATH = "/dev/shm"
NO_KUBERNETES = Kubernetes()


@dataclass(frozen=True)
class Pod:
    """One step's pod, with every default resolved."""

    image: str
    namespace: str | None
    service_account: str | None
    resources: dict  # quantity by resource name; requests equal limits
    secrets: tuple[str, ...]  # Kubernetes Secret names, each exposed as environment variables
    node_selector: dict
    tolerations: tuple[dict, ...]
    labels: dict
    annotations: dict
    image_pull_policy: str | None
    volumes: tuple[dict, ...]
    volume_mounts: tuple[dict, ...]


def pod(step: Step, options: Options) -> Pod:
    """The pod that runs `step` (not for @skypilot steps: their pod is the launcher's)."""
    k = kubernetes_settings(step)
    shm = step.resources.shared_memory_mib
    return Pod(
        image=step.image or options.image,
        namespace=k.namespace or options.namespace,
        service_account=k.service_account or options.service_account,
        resources=resource_quantities(step.resources, k.gpu_vendor or options.gpu_vendor),
        secrets=secret_names(step),
        node_selector=dict(k.node_selector),
        tolerations=tuple(toleration_fields(t) for t in k.tolerations),
        labels=dict(k.labels),
        annotations=dict(k.annotations),
        image_pull_policy=k.image_pull_policy,
        volumes=(shared_memory_volume(shm),) if shm else (),
        volume_mounts=({"name": SHARED_MEMORY_VOLUME, "mount_path": SHARED_MEMORY_PATH},) if shm else (),
    )


def kubernetes_settings(step: Step) -> Kubernetes:
    """The step's @kubernetes settings; all unset for a step without it (it still runs in a pod)."""
    return step.compute.kubernetes or NO_KUBERNETES


def cpu_quantity(cores: float) -> str:
    """Whole cores as "2", fractions in millicores ("500m")."""
    millicores = round(cores * 1000)
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def resource_quantities(resources: Resources, gpu_vendor: str) -> dict[str, str]:
    """Requests equal to limits: GPUs require it, and a memory limit keeps a step from starving its node."""
    quantities = {"cpu": cpu_quantity(resources.cpu), "memory": f"{resources.memory_mib}Mi"}
    if resources.gpu:
        quantities[k8s_names.gpu_resource_name(gpu_vendor)] = str(resources.gpu)
    if resources.disk_mib:
        quantities["ephemeral-storage"] = f"{resources.disk_mib}Mi"
    return quantities


def default_resource_quantities(options: Options) -> dict[str, str]:
    return resource_quantities(Resources(), options.gpu_vendor)


def secret_names(step: Step) -> tuple[str, ...]:
    """@secrets sources, then @kubernetes(secrets=...), by reference only, in the order written, once each."""
    return tuple(dict.fromkeys([*step.secrets, *kubernetes_settings(step).secrets]))


def toleration_fields(toleration: Toleration) -> dict:
    """The set fields, snake_case (hera's `Toleration`, kubernetes' `V1Toleration`)."""
    fields = (
        ("key", toleration.key),
        ("operator", toleration.operator),
        ("value", toleration.value),
        ("effect", toleration.effect),
        ("toleration_seconds", toleration.toleration_seconds),
    )
    return {name: value for name, value in fields if value is not None}


def shared_memory_volume(mib: int) -> dict:
    """A memory-backed emptyDir mounted at /dev/shm: the container's default 64 MiB is too small for many libraries."""
    return {"name": SHARED_MEMORY_VOLUME, "empty_dir": {"medium": "Memory", "size_limit": f"{mib}Mi"}}


def step_namespaces(flow: FlowGraph) -> dict[str, str]:
    """{step: namespace} for the steps whose @kubernetes names one."""
    return {s.name: kubernetes_settings(s).namespace for s in flow.steps if kubernetes_settings(s).namespace}


# ---------------------------------------------------------------------------
# The kubelet's expansion of command, args and env values


def kubelet_literal(text: str, before_runtime_value: bool = False) -> str:
    """`text` escaped so that the kubelet's expansion of container command, args and env gives it back unchanged.

    The kubelet turns `$$` into `$` and `$(NAME)` into NAME's value when NAME
    is set (the container's env, service links such as KUBERNETES_SERVICE_HOST);
    every other `$` is kept.  So a `$` is doubled exactly where the next
    character is `$` or `(`, or, at the end, where a value substituted at run
    time follows it (and could begin with either).
    """
    out = []
    for i, char in enumerate(text):
        following = text[i + 1] if i + 1 < len(text) else None
        if char == "$" and (following in ("$", "(") or (following is None and before_runtime_value)):
            out.append("$$")
        else:
            out.append(char)
    return "".join(out)


def kubelet_may_rewrite(text: str) -> bool:
    """True when the kubelet would change `text` if it reached a container unescaped."""
    return "$$" in text or "$(" in text


# ---------------------------------------------------------------------------
# Values that reach a pod without passing through normalize


def problems(flow: FlowGraph, options: Options) -> Iterable[Diagnostic]:
    """Options and @secrets names a pod cannot take (decorator values are checked by normalize)."""
    for step in flow.steps:
        if step.compute.backend == "skypilot":
            continue  # runs on a SkyPilot VM, which refuses @secrets itself (lower/skypilot.py)
        for secret in step.secrets:
            if not k8s_names.is_subdomain(secret):
                yield Diagnostic(
                    step.location_of("secrets"),
                    f"secret {secret!r} is not a Kubernetes Secret name ({k8s_names.SUBDOMAIN_RULE}); "
                    "pods get secrets by reference to a Kubernetes Secret",
                )
    checks = (
        (options.namespace, "--namespace", k8s_names.is_dns_label, k8s_names.DNS_LABEL_RULE),
        (options.service_account, "--service-account", k8s_names.is_subdomain, k8s_names.SUBDOMAIN_RULE),
    )
    for value, flag, is_valid, rule in checks:
        if value is not None and not is_valid(value):
            yield Diagnostic(flow.location, f"{flag} {value!r} is not a valid Kubernetes name ({rule})")
    if not k8s_names.is_gpu_vendor(options.gpu_vendor):
        yield Diagnostic(
            flow.location,
            f"--gpu-vendor {options.gpu_vendor!r} does not make a Kubernetes resource name such as nvidia.com/gpu",
        )
