"""Step Functions' AWS Batch job definitions: one per distinct set of properties a step needs.

A step's resources travel per job (ContainerOverrides); what only a job
definition can hold — the image, the job and execution roles, linux
parameters (shared memory, tmpfs, swap) — makes the job definition's content,
whose hash names it, so equal content shares one definition.  `flowc deploy`
registers every one of them (flowc/deploy/step_functions.py).
"""

from __future__ import annotations

import hashlib
import json

from flowc.compiler.ir import FlowGraph, Step
from flowc.compiler.options import Options
from flowc.compiler.targets import step_functions_skypilot as launched
from flowc.contract.secrets import SECRET_SOURCES_ENV, encode_sources

# What a job definition holds for resources; a step's own come in ContainerOverrides.
JOB_DEFINITION_RESOURCES = [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "4096"}]
JOB_DEFINITION_COMMAND = ["python", "-m", "flowc.runtime", "--help"]
TMPFS_PATH = "/tmp"


def container_properties(step: Step, options: Options) -> dict:
    """The job definition's containerProperties a step needs (its resources come per job, in the overrides)."""
    image = options.skypilot_image if launched.is_launched(step) else step.image or options.image
    properties: dict = {
        "image": image,
        "resourceRequirements": JOB_DEFINITION_RESOURCES,
        "command": JOB_DEFINITION_COMMAND,
    }
    batch = step.compute.batch
    if batch is not None and batch.iam_role:
        properties["jobRoleArn"] = batch.iam_role
    if batch is not None and batch.execution_role:
        properties["executionRoleArn"] = batch.execution_role
    linux: dict = {}
    if step.resources.shared_memory_mib:
        linux["sharedMemorySize"] = step.resources.shared_memory_mib
    if batch is not None and batch.use_tmpfs:
        # Metaflow's default size: half the step's memory (a tmpfs counts against it).
        size_mib = batch.tmpfs_size_mib or max(1, step.resources.memory_mib // 2)
        linux["tmpfs"] = [{"containerPath": TMPFS_PATH, "size": size_mib}]
    if batch is not None and batch.max_swap_mib is not None:
        linux["maxSwap"] = batch.max_swap_mib
    if batch is not None and batch.swappiness is not None:
        linux["swappiness"] = batch.swappiness
    if linux:
        properties["linuxParameters"] = linux
    return properties


def job_definition_name(properties: dict, options: Options) -> str:
    """`--job-definition`, else a name that is a hash of the content, so equal content shares one definition."""
    if options.job_definition:
        return options.job_definition
    if set(properties) == {"image", "resourceRequirements", "command"}:
        content = properties["image"]  # the name plain steps always had: redeploys reuse it
    else:
        content = json.dumps(properties, sort_keys=True, separators=(",", ":"))
    return "flowc-" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:8]


def job_definitions(flow: FlowGraph, options: Options) -> dict[str, dict]:
    """{job definition name: containerProperties} for every step, in name order; deploy registers each."""
    found = {}
    for step in flow.steps:
        properties = container_properties(step, options)
        found.setdefault(job_definition_name(properties, options), properties)
    return dict(sorted(found.items()))


def container_environment(step: Step) -> list[tuple[str, str]]:
    """The job's environment: @environment, then the secret sources the runtime reads (a launcher's: none)."""
    if launched.is_launched(step):
        return []  # @environment is in the SkyPilot task's envs; @secrets are refused there
    environment = list(step.environment)
    if step.secrets:
        environment.append((SECRET_SOURCES_ENV, encode_sources(step.secrets)))
    return environment
