"""Turn the frontend's raw flow into the IR: decorators become normalized settings.

Units are converted once, here: CPU cores as a decimal, memory and disk in
MiB, timeouts and retry delays in seconds.  Where @resources, @batch and
@kubernetes all give a value, the larger wins (as in Metaflow).
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from flowc.compiler.normalize_compute import normalize_kubernetes, normalize_skypilot
from flowc.compiler.normalize_triggers import normalize_triggers
from flowc.compiler.command import WITH_FILE
from flowc.compiler.diagnostics import Diagnostic
from flowc.compiler.frontend import RawFlow, RawStep
from flowc.compiler.ir import (
    Batch,
    Catch,
    Compute,
    DecoratorUse,
    FlowGraph,
    Location,
    Packages,
    Resources,
    Retry,
    Schedule,
    Step,
    StepKind,
    derive_structure,
    with_structure,
)
from flowc.contract.command import DEFAULT_RECURSION_MAX
from flowc.contract.decorators import DECORATORS, check_value, did_you_mean

COMPUTE_DECORATORS = ("batch", "kubernetes", "skypilot")
RESOURCE_ARGS = ("cpu", "memory", "gpu", "disk", "shared_memory")
DEFAULT_RESOURCES = Resources()
SCHEDULE_PRESETS = {"hourly": "0 * * * *", "daily": "0 0 * * *", "weekly": "0 0 * * 0"}
WITH_LOCATION = Location(WITH_FILE, 1, 1)


def parse_with(spec: str) -> tuple[DecoratorUse | None, list[Diagnostic]]:
    """`--with batch:cpu=4,queue=gpu` -> a DecoratorUse, checked against the decorator table."""
    name, _, rest = spec.partition(":")
    name = name.strip()
    where = WITH_LOCATION
    if name not in DECORATORS or DECORATORS[name].level != "step":
        choices = [n for n, s in DECORATORS.items() if s.level == "step"]
        return None, [Diagnostic(where, f"--with {name}: not a step decorator" + did_you_mean(name, choices))]
    decorator = DECORATORS[name]
    args: dict[str, Any] = {}
    problems = []
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, text = item.partition("=")
        arg = decorator.arg(key.strip())
        if not eq or arg is None:
            problems.append(
                Diagnostic(where, f"--with {name}: no argument '{key}'" + did_you_mean(key, decorator.arg_names))
            )
            continue
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        problem = check_value(decorator, arg, value)
        if problem:
            problems.append(Diagnostic(where, f"--with {name}: {problem}"))
            continue
        args[arg.name] = value
    if problems:
        return None, problems
    return DecoratorUse(name, tuple(sorted(args.items())), where), []


def build_graph(raw: RawFlow, filename: str, with_decorators: tuple[DecoratorUse, ...] = ()):
    """The IR for `raw`, with derived structure; diagnostics for bad settings."""
    diagnostics: list[Diagnostic] = []
    flow_decorators = {d.name: d for d in raw.decorators}
    flow_packages = _packages(flow_decorators.get("conda_base") or flow_decorators.get("pypi_base"))
    steps = []
    for raw_step in raw.steps:
        decorators = _with_attached(raw_step.decorators, with_decorators)
        steps.append(_build_step(raw_step, decorators, flow_packages, diagnostics))
    structure = derive_structure(steps)
    project = flow_decorators["project"].get("name") if "project" in flow_decorators else None
    flow = FlowGraph(
        name=raw.name,
        file=filename,
        location=raw.location,
        steps=tuple(with_structure(steps, structure)),
        parameters=tuple(raw.parameters),
        schedule=_schedule(flow_decorators.get("schedule"), diagnostics),
        project=project,
        packages=flow_packages,
        decorators=tuple(raw.decorators),
        doc=raw.doc,
        configs=tuple(raw.configs),
        triggers=normalize_triggers(flow_decorators, tuple(raw.parameters), project, diagnostics),
    )
    return flow, structure, diagnostics


def _with_attached(own: list[DecoratorUse], attached: tuple[DecoratorUse, ...]) -> tuple[DecoratorUse, ...]:
    names = {d.name for d in own}
    has_compute = bool(names & set(COMPUTE_DECORATORS))
    extra = [
        d
        for d in attached
        # a repeatable one (@card) is added beside the step's own, as Metaflow's --with adds a decorator
        # whose allow_multiple is set; the runtime drops it if its page is one the step already writes
        if (d.name not in names or DECORATORS[d.name].repeatable) and not (has_compute and d.name in COMPUTE_DECORATORS)
    ]
    return tuple(own) + tuple(extra)


def _build_step(raw: RawStep, decorators: tuple[DecoratorUse, ...], flow_packages, diagnostics) -> Step:
    by_name = {d.name: d for d in decorators}
    compute_uses = [by_name[n] for n in COMPUTE_DECORATORS if n in by_name]
    if len(compute_uses) > 1:
        diagnostics.append(
            Diagnostic(
                compute_uses[1].location,
                f"step '{raw.name}' has both @{compute_uses[0].name} and @{compute_uses[1].name}; choose one",
            )
        )
    compute_use = compute_uses[0] if compute_uses else None
    return Step(
        name=raw.name,
        kind=step_kind(raw),
        next=raw.next,
        location=raw.location,
        next_location=raw.next_location,
        takes_inputs=raw.takes_inputs,
        foreach_var=raw.foreach_var,
        condition=raw.condition,
        switch=raw.switch,
        recursion_max=_recursion_max(raw, by_name.get("recursion")),
        resources=_resources([by_name.get("resources"), by_name.get("batch"), by_name.get("kubernetes")]),
        retry=_retry(by_name.get("retry")),
        catch=_catch(by_name.get("catch"), diagnostics),
        timeout_seconds=_timeout(by_name.get("timeout"), diagnostics),
        environment=_environment(by_name.get("environment"), diagnostics),
        secrets=_secrets(by_name.get("secrets"), diagnostics),
        image=compute_use.get("image") if compute_use and compute_use.name != "skypilot" else None,
        compute=_compute(compute_use, diagnostics),
        packages=_step_packages(by_name.get("conda") or by_name.get("pypi"), flow_packages),
        decorators=decorators,
        doc=raw.doc,
    )


def _recursion_max(raw: RawStep, use: DecoratorUse | None) -> int | None:
    """A recursive step's bound on iterations (@recursion(max=N), else the default); None for any other step.

    @recursion on a step that is not recursive is validation's to report (check_recursion)."""
    if not any(target == raw.name for _, target in raw.switch):
        return None
    return int(use.get("max", DEFAULT_RECURSION_MAX)) if use is not None else DEFAULT_RECURSION_MAX


def _number(value: Any) -> float:
    return float(value)


def _resources(uses: list[DecoratorUse | None]) -> Resources:
    given: dict[str, float] = {}
    for use in uses:
        if use is None:
            continue
        for key in RESOURCE_ARGS:
            value = use.get(key)
            if value is not None:
                given[key] = max(given.get(key, 0.0), _number(value))
    cpu = given.get("cpu", DEFAULT_RESOURCES.cpu)
    return Resources(
        cpu=float(cpu),
        memory_mib=int(math.ceil(given.get("memory", DEFAULT_RESOURCES.memory_mib))),
        gpu=int(math.ceil(given.get("gpu", DEFAULT_RESOURCES.gpu))),
        disk_mib=int(math.ceil(given["disk"])) if "disk" in given else None,
        shared_memory_mib=int(math.ceil(given["shared_memory"])) if "shared_memory" in given else None,
    )


def _default(name: str, arg: str) -> Any:
    return DECORATORS[name].arg(arg).default


def _retry(use: DecoratorUse | None) -> Retry | None:
    if use is None:
        return None
    minutes = use.get("minutes_between_retries", _default("retry", "minutes_between_retries"))
    return Retry(times=int(use.get("times", _default("retry", "times"))), delay_seconds=int(round(minutes * 60)))


def _catch(use: DecoratorUse | None, diagnostics) -> Catch | None:
    if use is None:
        return None
    var = use.get("var")
    if var is not None and not var.isidentifier():
        diagnostics.append(Diagnostic(use.location, f"@catch(var={var!r}) must name an attribute"))
    return Catch(var=var, print_exception=bool(use.get("print_exception", True)))


def _timeout(use: DecoratorUse | None, diagnostics) -> int | None:
    if use is None:
        return None
    total = use.get("seconds", 0) + use.get("minutes", 0) * 60 + use.get("hours", 0) * 3600
    if total <= 0:
        diagnostics.append(Diagnostic(use.location, "@timeout needs seconds, minutes or hours greater than zero"))
        return None
    return int(math.ceil(total))


def _environment(use: DecoratorUse | None, diagnostics) -> tuple[tuple[str, str], ...]:
    if use is None:
        return ()
    env = use.get("vars") or {}
    out = []
    for key, value in env.items():
        if not isinstance(key, str) or not key.replace("_", "a").isalnum() or key[:1].isdigit():
            diagnostics.append(Diagnostic(use.location, f"@environment: {key!r} is not a valid variable name"))
            continue
        if isinstance(value, (dict, list)) or value is None:
            diagnostics.append(Diagnostic(use.location, f"@environment: the value of {key} must be a string or number"))
            continue
        out.append(
            (key, value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value))
        )
    return tuple(sorted(out))


def _secrets(use: DecoratorUse | None, diagnostics) -> tuple[str, ...]:
    if use is None:
        return ()
    sources = use.get("sources") or []
    for source in sources:
        if not isinstance(source, str) or not source:
            diagnostics.append(
                Diagnostic(use.location, f"@secrets: each source must be a secret's name, got {source!r}")
            )
            return ()
    return tuple(sources)


def _compute(use: DecoratorUse | None, diagnostics) -> Compute:
    """The typed settings of the step's compute decorator (resources and image are read elsewhere)."""
    if use is None:
        return Compute()
    if use.name == "kubernetes":
        return Compute(backend="kubernetes", kubernetes=normalize_kubernetes(use, diagnostics))
    if use.name == "batch":
        return Compute(backend="batch", batch=_batch(use, diagnostics))
    return Compute(backend="skypilot", skypilot=normalize_skypilot(use, diagnostics))


def _pairs(mapping) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (mapping or {}).items()))


def _mib(value) -> int | None:
    return None if value is None else int(math.ceil(float(value)))


# AWS's rules, so a bad value is refused at its line rather than by Batch at deploy or run time.
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
BATCH_MAX_TAGS, BATCH_TAG_KEY_CHARS, BATCH_TAG_VALUE_CHARS = 50, 128, 256
_BATCH_TAG_TEXT = re.compile(r"^[\w .:/=+@-]*$")  # letters, digits, spaces and _ . : / = + - @


def _batch(use: DecoratorUse, diagnostics) -> Batch:
    batch = Batch(
        queue=use.get("queue"),
        iam_role=use.get("iam_role"),
        execution_role=use.get("execution_role"),
        max_swap_mib=_mib(use.get("max_swap")),
        swappiness=None if use.get("swappiness") is None else int(use.get("swappiness")),
        use_tmpfs=bool(use.get("use_tmpfs")),
        tmpfs_size_mib=_mib(use.get("tmpfs_size")),
        tags=_pairs(use.get("aws_batch_tags")),
    )
    diagnostics += [Diagnostic(use.location, f"@batch: {problem}") for problem in _batch_problems(batch, use)]
    return batch


def _batch_problems(batch: Batch, use: DecoratorUse) -> list[str]:
    problems = []
    for arg, role in (("iam_role", batch.iam_role), ("execution_role", batch.execution_role)):
        if role is not None and not _ROLE_ARN.match(role):
            problems.append(f"{arg}={role!r} must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>")
    if batch.queue is not None and not re.match(r"^([A-Za-z0-9_-]{1,128}|arn:aws[a-z-]*:batch:\S+)$", batch.queue):
        problems.append(f"queue={batch.queue!r} must be a job queue name (1-128 of A-Z a-z 0-9 _ -) or its ARN")
    if batch.tmpfs_size_mib is not None and not batch.use_tmpfs:
        problems.append("tmpfs_size needs use_tmpfs=True (the size is of that tmpfs)")
    if batch.use_tmpfs and batch.tmpfs_size_mib == 0:
        problems.append("tmpfs_size must be at least 1 MiB")
    if batch.swappiness is not None and not 0 <= batch.swappiness <= 100:
        problems.append(f"swappiness={batch.swappiness} must be from 0 to 100")
    if batch.swappiness is not None and batch.max_swap_mib is None:
        problems.append("swappiness needs max_swap (AWS Batch ignores swappiness without it)")
    raw_tags = use.get("aws_batch_tags") or {}
    if len(raw_tags) > BATCH_MAX_TAGS:
        problems.append(f"aws_batch_tags has {len(raw_tags)} tags; AWS Batch allows {BATCH_MAX_TAGS}")
    for key, value in raw_tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(f"aws_batch_tags: key and value must be strings, got {key!r}: {value!r}")
        elif (
            not 1 <= len(key) <= BATCH_TAG_KEY_CHARS or key.lower().startswith("aws:") or not _BATCH_TAG_TEXT.match(key)
        ):
            problems.append(
                f"aws_batch_tags: key {key!r} must be 1-{BATCH_TAG_KEY_CHARS} of letters, digits, spaces "
                "and _ . : / = + - @, not starting with aws:"
            )
        elif len(value) > BATCH_TAG_VALUE_CHARS or not _BATCH_TAG_TEXT.match(value):
            problems.append(
                f"aws_batch_tags: the value of {key!r} must be at most {BATCH_TAG_VALUE_CHARS} of letters, "
                "digits, spaces and _ . : / = + - @"
            )
    return problems


def _packages(use: DecoratorUse | None) -> Packages | None:
    if use is None or use.get("disabled"):
        return None
    manager = "conda" if use.name.startswith("conda") else "pypi"
    packages = dict(use.get("packages") or {})
    packages.update(use.get("libraries") or {})
    return Packages(manager, tuple(sorted((str(k), str(v)) for k, v in packages.items())), use.get("python"))


def _step_packages(use: DecoratorUse | None, base: Packages | None) -> Packages | None:
    """A step's @conda/@pypi over the flow's @conda_base/@pypi_base, as Metaflow merges them: the step's
    packages added to the base's (the step's version wins), its python if given, else the base's;
    `disabled=True` on the step turns the base off for that step."""
    if use is None:
        return base
    own = _packages(use)
    if own is None or base is None or base.manager != own.manager:
        return own
    merged = dict(base.packages)
    merged.update(own.packages)
    return Packages(own.manager, tuple(sorted(merged.items())), own.python or base.python)


def _schedule(use: DecoratorUse | None, diagnostics) -> Schedule | None:
    if use is None:
        return None
    cron = use.get("cron")
    if cron is None:
        for preset in ("hourly", "weekly", "daily"):
            if use.get(preset):
                cron = SCHEDULE_PRESETS[preset]
                break
        else:
            cron = SCHEDULE_PRESETS["daily"]
    elif len(cron.split()) != 5:
        diagnostics.append(
            Diagnostic(use.location, f"@schedule(cron={cron!r}) must have 5 fields: minute hour day month weekday")
        )
    return Schedule(cron=cron, timezone=use.get("timezone"), location=use.location)


def step_kind(step: RawStep) -> StepKind:
    """How control leaves the step, from its name, its self.next(...) and whether it takes inputs."""
    if step.name == "end":
        return StepKind.END
    if step.foreach_var is not None:
        return StepKind.FOREACH
    if step.switch or step.condition is not None:
        return StepKind.SWITCH
    if len(step.next) > 1:
        return StepKind.SPLIT
    if step.takes_inputs:
        return StepKind.JOIN
    if step.name == "start":
        return StepKind.START
    return StepKind.LINEAR
