"""A @skypilot step as SkyPilot sees it: its task document, and the launcher argv every orchestrator runs.

Each task:
- `resources` from `@skypilot`, filled from `@resources` where `@skypilot` is
  silent (memory MiB -> GB, `gpu=N` with the `accelerators` type -> `TYPE:N`),
  and `@retry` -> `job_recovery.max_restarts_on_errors` for managed jobs.
- `envs`: every value the step needs (flow file, step, datastore, code
  package, run id, task id, parameters).  Values known only at run time are
  `null`, which SkyPilot refuses to launch without an `--env`.
- `setup`: installs nothing; it checks the interpreter.  The code package is
  fetched, hash-checked and cached by the bootstrap in `run` (so `sky exec` on a
  reused cluster, which skips setup, still gets it).
- `run`: SkyPilot runs it as a shell script, so it is built from constant
  tokens only: flags and `"$FLOWC_..."` references.  No user value (a path, a
  parameter, a datastore URL) is ever written into it; they travel in `envs`,
  where the shell expands them as single quoted words.

Argo and Airflow run `launcher_argv` in a small container; `flowc run
--skypilot` runs it locally (flowc/local/skypilot.py).
"""

from __future__ import annotations

import math
from dataclasses import replace

from flowc.compiler.command import ATTEMPT, RUN_ID, TASK_ID, Placeholder, flow_file_name, runtime_argv
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.ir import FlowGraph, SkyPilot, Step, StepKind
from flowc.compiler.lower.yaml import dump_yaml
from flowc.compiler.options import Options
from flowc.contract import command as c

BACKEND = "skypilot"
LAUNCHER_MODULE = c.SKYPILOT_LAUNCHER_MODULE
ENV_PREFIX = "FLOWC_"
# The runtime's flags and the env var that carries each one's value (--param: FLOWC_PARAM_<i>).
FLAG_ENV = {
    c.RUN_ID_FLAG: "FLOWC_RUN_ID",
    c.TASK_ID_FLAG: "FLOWC_TASK_ID",
    c.DATASTORE_FLAG: "FLOWC_DATASTORE",
    c.ATTEMPT_FLAG: "FLOWC_ATTEMPT",
    c.MAX_ATTEMPTS_FLAG: "FLOWC_MAX_ATTEMPTS",
    c.PACKAGE_FLAG: "FLOWC_PACKAGE",
    c.ENVIRONMENT_FLAG: "FLOWC_ENVIRONMENT",
    c.CONFIG_VALUES_FLAG: "FLOWC_CONFIG_VALUES",
    c.PROJECT_BRANCH_FLAG: "FLOWC_PROJECT_BRANCH",
    c.ORIGIN_RUN_FLAG: "FLOWC_ORIGIN_RUN",
}
# Placeholders whose value the launcher must supply; the others have a usable default.
REQUIRED_AT_LAUNCH = (RUN_ID, TASK_ID)
SETUP = '"$FLOWC_PYTHON" -c "import sys; assert sys.version_info >= (3, 9), sys.version"\n'
HEADER = (
    "# SkyPilot task for step {step} of flow {flow}, compiled by flowc.  Launched by\n"
    "# `python -m flowc.runtime.skypilot_launch`; by hand: sky jobs launch FILE --env FLOWC_RUN_ID=<run>\n"
    "# (and --env FLOWC_PACKAGE=<code package URL> where it is null).\n"
)
NO_SKYPILOT = SkyPilot()


def skypilot_steps(flow: FlowGraph) -> list[Step]:
    return [s for s in flow.steps if s.compute.backend == BACKEND]


def settings(step: Step) -> SkyPilot:
    return step.compute.skypilot or NO_SKYPILOT


def step_problems(step: Step) -> list[Diagnostic]:
    """What a @skypilot step combines that SkyPilot cannot take (its own values are checked by normalize)."""
    problems = []
    if step.resources.gpu and settings(step).accelerators is None:
        problems.append(
            Diagnostic(
                step.location_of("resources", "skypilot"),
                f"step '{step.name}' asks for {step.resources.gpu} GPU(s) but SkyPilot needs their "
                "type: add @skypilot(accelerators=\"A100\") (the count comes from @resources)",
            )
        )
    if step.secrets:
        problems.append(
            Diagnostic(
                step.location_of("secrets"),
                f"step '{step.name}': @secrets are passed by reference to the orchestrator, which a "
                "SkyPilot VM cannot read; give the values to SkyPilot (its `secrets:`) instead",
            )
        )
    for key, _ in step.environment:
        if key.startswith(ENV_PREFIX):
            problems.append(
                Diagnostic(
                    step.location_of("environment"),
                    f"@environment {key}: names starting with {ENV_PREFIX} are flowc's own on SkyPilot",
                )
            )
    return problems


def launch_mode(step: Step) -> str:
    """`cluster` (reuse a named cluster), `managed` (sky jobs: spot recovery) or `fresh` (own cluster, torn down)."""
    if settings(step).cluster_name:
        return "cluster"
    return "managed" if settings(step).managed else "fresh"


def restarts_in_skypilot(step: Step) -> bool:
    """Managed jobs retry in SkyPilot (@retry -> max_restarts_on_errors): the orchestrator then must not retry too."""
    return launch_mode(step) == "managed"


# ---------------------------------------------------------------------------
# The task


def task_yaml(flow: FlowGraph, step: Step, options: Options) -> str:
    """One step's SkyPilot task, as YAML text with a short header comment."""
    return HEADER.format(step=step.name, flow=flow.name) + dump_yaml(task_document(flow, step, options))


def task_document(flow: FlowGraph, step: Step, options: Options) -> dict:
    from flowc.contract.bootstrap import BOOTSTRAP_SOURCE  # the fixed program: no user value in it

    words, values = run_words(flow, step, options)
    envs = {
        "FLOWC_PYTHON": "python3" if options.python == "python" else options.python,
        "FLOWC_BOOTSTRAP": BOOTSTRAP_SOURCE,
        "FLOWC_FLOW": flow.name,
        "FLOWC_FLOW_FILE": flow_file_name(flow),
        "FLOWC_STEP": step.name,
        **values,
        **dict(step.environment),
    }
    document = {"name": task_name(step)}
    resources = task_resources(step)
    if resources:
        document["resources"] = resources
    document["envs"] = envs
    document["setup"] = SETUP
    document["run"] = run_script(words)
    return document


def task_name(step: Step) -> str:
    return step.name.replace("_", "-").lower()


def run_words(flow: FlowGraph, step: Step, options: Options) -> tuple[list[str], dict]:
    """The run line's words (constants and "$VAR" references) and each variable's default (None: required).

    Derived from the runtime argv (flowc/compiler/command.py), so the two
    cannot drift: python -m flowc.runtime becomes the bootstrap (which fetches
    the code package and hands over to flowc.runtime), each flag stays, each
    value becomes a variable.
    """
    words = [
        "exec",
        '"$FLOWC_PYTHON"',
        "-c",
        '"$FLOWC_BOOTSTRAP"',
        c.STEP_COMMAND,
        '"$FLOWC_FLOW_FILE"',
        '"$FLOWC_STEP"',
    ]
    values: dict[str, str | None] = {}
    for flag, name, value_item in flag_variables(flow, step, options):
        values[name] = default_value(value_item)
        words += [flag, f'"${name}"']
    values["FLOWC_PACKAGE"] = options.package_url
    words += [c.PACKAGE_FLAG, '"$FLOWC_PACKAGE"']
    return words, values


def flag_variables(flow: FlowGraph, step: Step, options: Options) -> list[tuple[str, str, tuple]]:
    """(flag, variable name, value item) for each flag of the runtime argv after `step FLOW STEP`."""
    argv = runtime_argv(flow, step, replace(options, package_url=None))
    head, tail = argv[:6], argv[6:]
    if [item[0] for item in head[1:4]] != ["-m", c.RUNTIME_MODULE, c.STEP_COMMAND]:
        raise AssertionError("the runtime argv changed shape")  # a compiler bug, not a user error
    found, counts = [], {c.PARAM_FLAG: 0, c.DECORATOR_FLAG: 0}  # repeatable flags: one variable each
    for flag_item, value_item in zip(tail[0::2], tail[1::2]):
        flag = flag_item[0]
        if flag in counts:
            name = f"FLOWC_{flag[2:].upper()}_{counts[flag]}"
            counts[flag] += 1
        else:
            name = FLAG_ENV[flag]
        found.append((flag, name, value_item))
    return found


def default_value(item: tuple) -> str | None:
    """The item with placeholders at their default ("" for a parameter: the flow's default), None if required."""
    if any(isinstance(p, Placeholder) and p.kind in REQUIRED_AT_LAUNCH for p in item):
        return None
    return "".join(p if isinstance(p, str) else ("0" if p.kind == ATTEMPT else "") for p in item)


def run_script(words: list[str]) -> str:
    """The words on one line: no backslash continuation that a decoder or a shell could lose on the way."""
    return " ".join(words) + "\n"


def task_resources(step: Step) -> dict:
    sky, resources = settings(step), step.resources
    from_resources = step.decorator("resources") is not None
    out: dict = {}
    if sky.cloud or sky.region:
        out["infra"] = f"{sky.cloud or '*'}/{sky.region}" if sky.region else sky.cloud
    cpus = sky.cpus
    if cpus is None and from_resources:
        cpus = f"{resources.cpu:g}+"
    if cpus is not None:
        out["cpus"] = cpus
    memory = sky.memory
    if memory is None and from_resources:
        memory = f"{gigabytes(resources.memory_mib):g}+"
    if memory is not None:
        out["memory"] = memory
    accelerators = dict(sky.accelerators) if isinstance(sky.accelerators, tuple) else sky.accelerators
    if isinstance(accelerators, str) and ":" not in accelerators and resources.gpu:
        accelerators = f"{accelerators}:{resources.gpu}"
    if accelerators is not None:
        out["accelerators"] = accelerators
    disk = sky.disk_size_gb
    if disk is None and resources.disk_mib:
        disk = math.ceil(resources.disk_mib / 1024)
    if disk is not None:
        out["disk_size"] = disk
    if sky.use_spot:
        out["use_spot"] = True
    if sky.image_id:
        out["image_id"] = sky.image_id
    restarts = sky.max_restarts_on_errors or (step.retry.times if step.retry else 0)
    if restarts and restarts_in_skypilot(step):
        out["job_recovery"] = {"max_restarts_on_errors": restarts}
    return out


def gigabytes(mib: int) -> float:
    """MiB as SkyPilot's GB (it means GiB), rounded up to a hundredth so a step never gets less."""
    return math.ceil(mib / 1024 * 100) / 100


# ---------------------------------------------------------------------------
# The launcher, as the orchestrators run it


def launcher_argv(flow: FlowGraph, step: Step, options: Options, foreach_out: str | None = None) -> tuple:
    """`python -m flowc.runtime.skypilot_launch --task-yaml TEXT --mode M ... --env NAME=VALUE ...` as argv items.

    Items are tuples of parts, like runtime_argv's, so each target renders the
    run-time values (run id, task id, attempt, parameters) with its own
    placeholders; they reach the task as `sky ... --env NAME=VALUE`.
    """
    sky = settings(step)
    argv: list[tuple] = [
        (options.python,),
        ("-m",),
        (LAUNCHER_MODULE,),
        ("--task-yaml",),
        (task_yaml(flow, step, options),),
        ("--mode",),
        (launch_mode(step),),
    ]
    if sky.cluster_name:
        argv += [("--cluster",), (sky.cluster_name,)]
    if sky.autostop_minutes is not None:
        argv += [("--autostop-minutes",), (str(sky.autostop_minutes),)]
    for flag, name, value_item in flag_variables(flow, step, options):
        if any(isinstance(p, Placeholder) for p in value_item):
            if flag == c.ATTEMPT_FLAG and restarts_in_skypilot(step):
                continue  # SkyPilot restarts it, the orchestrator does not: the attempt stays 0
            argv += [("--env",), (f"{name}=",) + tuple(value_item)]
    if foreach_out and step.kind is StepKind.FOREACH:
        argv += [(c.FOREACH_OUT_FLAG,), (foreach_out,)]
    return tuple(argv)
