"""Where a remote step of a local run goes: AWS Batch (`--batch`) or Kubernetes (`--kubernetes`).

`flowc run` decides per step, in one place (LocalRun.run_task): a @skypilot
step runs SkyPilot's launcher as a local process (flowc/local/skypilot.py), a
@batch or @kubernetes step of a backend the run launches is a job
(flowc/local/batch.py, flowc/local/kubernetes.py), every other step is a local
process.  A launched step runs the runtime argv the targets render, from the
code package the run uploads once to its s3:// datastore (the job cannot read
this machine's disk), and commits to that datastore, where the runner finds its
DONE and a foreach's split list as for a local task.

Launching is asked for with `--batch` / `--kubernetes`, or implied by
`--with batch[:k=v]` / `--with kubernetes[:k=v]`, which attach the decorator to
every step without a compute decorator (so every such step is launched).
Without it, @batch and @kubernetes steps run locally, with a note.
"""

from __future__ import annotations

import threading
from dataclasses import replace

BACKENDS = ("batch", "kubernetes")
LAUNCH_FLAGS = {"batch": "--batch", "kubernetes": "--kubernetes"}
# The target whose settings (image, python, job queue, namespace...) a launched step takes.
SETTINGS_TARGET = {"batch": "step-functions", "kubernetes": "argo"}
SERVICE = {"batch": "AWS Batch", "kubernetes": "Kubernetes"}


def requested(flags: dict[str, bool], with_decorators=()) -> tuple[str, ...]:
    """The backends this run launches: those whose flag is given or that `--with` attaches."""
    attached = {spec.partition(":")[0].strip() for spec in with_decorators}
    return tuple(b for b in BACKENDS if flags.get(b) or b in attached)


def local_note(step) -> str:
    """What `flowc run` says, once per @batch/@kubernetes step, when it runs the step locally."""
    backend = step.compute.backend
    return (
        f"note: step '{step.name}' has @{backend}; `flowc run` runs it locally "
        f"(pass {LAUNCH_FLAGS[backend]} to run it on {SERVICE[backend]})"
    )


def launch_options(
    flow, datastore: str, flags: dict[str, bool], with_decorators, settings_for
) -> tuple[dict, list[str]]:
    """({backend: Options} of the backends this run launches, why it cannot); `settings_for(target)` resolves a
    target's settings, so a launched step takes the image, python, job queue or namespace its deployed twin would
    ([tool.flowc.step-functions] for Batch, [tool.flowc.argo] for Kubernetes, FLOWC_*)."""
    options = {backend: settings_for(SETTINGS_TARGET[backend]) for backend in requested(flags, with_decorators)}
    return options, launch_problems(flow, datastore, options)


def launch_problems(flow, datastore: str, options_by_backend: dict) -> list[str]:
    """Why the run cannot launch its remote steps from here (usage errors); [] when it can."""
    problems = []
    for backend, options in options_by_backend.items():
        flag = LAUNCH_FLAGS[backend]
        steps = [s for s in flow.steps if s.compute.backend == backend]
        if not steps:
            problems.append(
                f"{flag}: no step of {flow.name} has @{backend}; add it to the steps to run on "
                f"{SERVICE[backend]}, or pass --with {backend} to run every step there"
            )
        if backend == "batch":
            from flowc.local.batch import batch_problems

            problems += batch_problems(steps, options)
        else:
            from flowc.local.kubernetes import kubernetes_problems

            problems += kubernetes_problems(steps, options)
    if options_by_backend and not datastore.startswith("s3://"):
        flags = " and ".join(LAUNCH_FLAGS[b] for b in options_by_backend)
        problems.append(
            f"{flags} needs an s3:// datastore that both this machine and the remote jobs can reach "
            f"(--datastore s3://bucket/prefix); {datastore!r} is a local folder a remote job cannot read"
        )
    return problems


class RemoteSteps:
    """The launched steps of one run: which launcher runs each, and the argv it runs."""

    def __init__(self, flow, flow_path: str, datastore: str, options_by_backend: dict, jobs, show_output: bool):
        self.flow, self.flow_path, self.jobs = flow, flow_path, jobs
        self.options = {b: replace(o, datastore=datastore) for b, o in options_by_backend.items()}
        self.launchers = {}
        for backend, options in self.options.items():
            if backend == "batch":
                from flowc.local.batch import BatchSteps

                self.launchers[backend] = BatchSteps(flow, options, jobs, show_output)
            else:
                from flowc.local.kubernetes import KubernetesSteps

                self.launchers[backend] = KubernetesSteps(flow, options, jobs, show_output)
        self.package_url: str | None = None
        self._lock = threading.Lock()

    def launcher(self, step):
        """The launcher that runs `step` as a job, or None: the step runs as a local process."""
        return self.launchers.get(step.compute.backend)

    def upload_package(self, echo) -> str:
        """Build and upload the code package, once per run; its URL."""
        from flowc.deploy.package import build_package, upload_package

        with self._lock:
            if self.package_url is None:
                data, sha = build_package(self.flow_path)
                root = next(iter(self.options.values())).datastore
                self.package_url = upload_package(root, self.flow.name, data, sha)
                echo(f"code package for the remote steps: {self.package_url}")
            return self.package_url

    def argv(self, step, fill) -> list[str]:
        """The runtime argv the job runs (the targets' own, with `--package`); `fill` gives run-time values."""
        from flowc.compiler import command

        if self.package_url is None:
            raise RuntimeError("upload_package() before argv()")
        options = replace(self.options[step.compute.backend], package_url=self.package_url)
        return command.render(command.runtime_argv(self.flow, step, options), fill)
