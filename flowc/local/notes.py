"""What a local run does differently from the deployed one, said once per step before it starts."""

from __future__ import annotations

import os
import shutil

from flowc.local import remote
from flowc.local.skypilot import local_note


def machine_memory_mib() -> int | None:
    """This machine's memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return None


def local_notes(flow, launch_skypilot: bool = False, launched: tuple[str, ...] = ()) -> list[str]:
    """What a local run does differently from the remote one: said once per step, before starting.

    `launched`: the backends (batch, kubernetes) whose steps this run sends to their service.
    """
    notes = []
    cpus, memory = os.cpu_count() or 1, machine_memory_mib()
    has_gpu = shutil.which("nvidia-smi") is not None
    for step in flow.steps:
        if step.compute.backend == "skypilot" and launch_skypilot:
            continue  # launched through SkyPilot: its resources are the cloud's, not this machine's
        if step.compute.backend in launched:
            continue  # a job on AWS Batch or Kubernetes: its resources are the service's
        if step.compute.backend == "skypilot":
            notes.append(local_note(step))
        elif step.compute.backend in ("batch", "kubernetes"):
            notes.append(remote.local_note(step))
        r = step.resources
        if r.cpu > cpus:
            notes.append(f"warning: step '{step.name}' asks for {r.cpu:g} CPUs; this machine has {cpus}")
        if memory is not None and r.memory_mib > memory:
            notes.append(
                f"warning: step '{step.name}' asks for {r.memory_mib} MiB of memory; this machine has {memory}"
            )
        if r.gpu and not has_gpu:
            notes.append(f"warning: step '{step.name}' asks for {r.gpu} GPU(s); no GPU found (nvidia-smi)")
        if step.secrets:
            notes.append(
                f"note: step '{step.name}' has @secrets({', '.join(step.secrets)}); flowc does not fetch "
                "secrets locally: export the variables they provide before `flowc run`"
            )
    return notes
