"""Metaflow's `Config` (2.13+), each test from Metaflow's documented behaviour:

- docs.metaflow.org/metaflow/configuring-flows/basic-configuration: `Config("config",
  default="myconfig.json")`; `@timeout(seconds=config.timeout)` reads a key with dot
  notation outside steps; `self.config.timeout` inside; `print(self.config)` shows it all.
- .../parsing-configs: `parser="tomllib.loads"` (TOML) and `"yaml.safe_load"` are named
  as strings; `@resources(cpu=config.resources.cpu)`.
- Metaflow's config_parameters.py docstrings: the value is the user-given file, else the
  default file, else `default_value`; default and default_value together is an error; a
  required config with none is an error; `config_expr("config").project.name` and
  `config_expr("config.a.b")` for flow decorators; `**config` unpacks into a decorator;
  ConfigValue reads `cfg.a.b` and `cfg["a"]["b"]`, is a dict, and is immutable.
- The flowc rule (issue 14): a `parser=` function would run user code, so it is refused at
  its line; a missing file is a located error naming the path; the tasks get the values the
  compiler saw with their command, never by reading the file again.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap

import pytest

from conftest import run_flowc
from flowc.api.configs import ConfigValue, set_config_values
from flowc.compiler import CompileError, compile_flow, load_flow
from flowc.contract.command import CONFIG_VALUES_FLAG, decode_config_values

TIMEOUT_FLOW = """
from metaflow import FlowSpec, step, Config, timeout, resources

class TimeoutConfigFlow(FlowSpec):
    config = Config("config", default="myconfig.json"{extra})

    @timeout(seconds=config.timeout)
    @resources(cpu=config.resources.cpu)
    @step
    def start(self):
        print(f"timing out after {{self.config.timeout}} seconds")
        self.next(self.end)

    @step
    def end(self):
        print("full config", self.config)
"""


def write(folder, name: str, text: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def flow_in(
    folder, extra: str = "", config: str | None = '{"timeout": 5, "resources": {"cpu": 2}}', name="myconfig.json"
):
    if config is not None:
        write(folder, name, config)
    return write(folder, "timeout_config.py", TIMEOUT_FLOW.format(extra=extra))


def load(path: str, config_files=()):
    with open(path, "rb") as f:
        return load_flow(f.read(), path, (), tuple(config_files))[0]


def errors(path: str, config_files=()) -> list[str]:
    with pytest.raises(CompileError) as raised:
        load(path, config_files)
    return [str(e) for e in raised.value.errors]


def test_json_config_values_resolve_into_decorators(tmp_path):
    """basic-configuration: `@timeout(seconds=config.timeout)` takes the file's value."""
    flow = load(flow_in(tmp_path))
    start = flow.step("start")
    assert start.timeout_seconds == 5
    assert start.resources.cpu == 2
    assert [(c.name, c.value) for c in flow.configs] == [("config", {"timeout": 5, "resources": {"cpu": 2}})]


@pytest.mark.parametrize(
    "parser,name,text",
    [
        ("tomllib.loads", "myconfig.toml", "timeout = 5\n[resources]\ncpu = 2\n"),
        ("yaml.safe_load", "myconfig.yaml", "timeout: 5\nresources:\n  cpu: 2\n"),
    ],
    ids=["toml", "yaml"],
)
def test_toml_and_yaml_parsers_named_as_strings(tmp_path, parser, name, text):
    """parsing-configs: `Config("config", default="myconfig.toml", parser="tomllib.loads")`."""
    write(tmp_path, name, text)
    path = write(
        tmp_path, "timeout_config.py", TIMEOUT_FLOW.format(extra=f", parser={parser!r}").replace("myconfig.json", name)
    )
    flow = load(path)
    assert flow.step("start").timeout_seconds == 5 and flow.step("start").resources.cpu == 2


def test_config_option_replaces_the_default_file(tmp_path):
    """The user-given file wins over the default (`--config config other.json`)."""
    path = flow_in(tmp_path)
    other = write(tmp_path, "other.json", '{"timeout": 9, "resources": {"cpu": 3}}')
    flow = load(path, [("config", other)])
    assert flow.step("start").timeout_seconds == 9
    assert flow.configs[0].source == other


def test_default_value_when_no_file_is_given(tmp_path):
    path = write(
        tmp_path,
        "flow.py",
        """
        from metaflow import FlowSpec, step, Config, resources
        class F(FlowSpec):
            cfg = Config("cfg", default_value={"cpu": 3})
            @resources(cpu=cfg.cpu)
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
        """,
    )
    assert load(path).step("start").resources.cpu == 3


def test_config_expr_in_flow_decorators_and_unpacking(tmp_path):
    """config_expr's docstring: `config_expr("config").project.name`; `**config.x` unpacks into a decorator."""
    write(tmp_path, "c.json", '{"project": {"name": "demo"}, "schedule": {"cron": "0 2 * * *"}, "res": {"cpu": 4}}')
    path = write(
        tmp_path,
        "flow.py",
        """
        from metaflow import FlowSpec, step, Config, config_expr, project, schedule, resources
        @project(name=config_expr("config").project.name)
        @schedule(cron=config_expr("config.schedule['cron']"))
        class F(FlowSpec):
            config = Config("config", default="c.json")
            @resources(**config.res)
            @step
            def start(self):
                self.next(self.end)
            @step
            def end(self):
                pass
        """,
    )
    flow = load(path)
    assert flow.project == "demo"
    assert flow.schedule.cron == "0 2 * * *"
    assert flow.step("start").resources.cpu == 4


@pytest.mark.parametrize(
    "extra,config,line,message",
    [
        (", parser=my_parser", "{}", 5, "parser=my_parser is a function: flowc reads configs at compile time"),
        (", parser=lambda s: {}", "{}", 5, "is a function"),
        (", parser='mypkg.parse'", "{}", 5, "names a function flowc would have to import and run"),
        ("", None, 5, "its default file"),
        ("", "{not json", 5, "is not valid JSON"),
        ("", "[1, 2]", 5, "holds a list; a config is a mapping"),
        (", default_value={'a': 1}", "{}", 5, "give default (a file) or default_value, not both"),
    ],
    ids=[
        "parser-function",
        "parser-lambda",
        "parser-module-string",
        "missing-file",
        "bad-json",
        "not-a-mapping",
        "both-defaults",
    ],
)
def test_refused_configs_are_one_located_error(tmp_path, extra, config, line, message):
    path = flow_in(tmp_path, extra, config)
    found = errors(path)
    assert len(found) == 1, found  # the uses of a config that failed are not reported again
    assert found[0].startswith(f"{path}:{line}:") and message in found[0], found
    if config is None:
        assert str(tmp_path / "myconfig.json") in found[0]  # the missing path is named


def test_missing_config_option_file_and_unknown_name(tmp_path):
    path = flow_in(tmp_path)
    assert any("--config config nope.json does not exist" in e for e in errors(path, [("config", "nope.json")]))
    assert any("declares no Config named 'cfg'" in e for e in errors(path, [("cfg", "x.json")]))


def test_required_config_without_value(tmp_path):
    path = flow_in(tmp_path, ", required=True", None)
    path = write(tmp_path, "timeout_config.py", open(path).read().replace('default="myconfig.json", ', ""))
    assert any("is required and has no default: give --config config PATH" in e for e in errors(path))


def test_missing_key_is_located_at_its_use(tmp_path):
    path = flow_in(tmp_path, config='{"timeout": 5, "resources": {}}')
    (found,) = errors(path)
    assert ":8:" in found and "config.resources['cpu']: the config has no such key" in found


def test_every_target_carries_the_values_the_compiler_saw(tmp_path):
    path = flow_in(tmp_path)
    source = open(path, "rb").read()
    for target in ("argo", "step-functions", "airflow"):
        text = compile_flow(source, path, target).text
        assert CONFIG_VALUES_FLAG in text, target
    flow = load(path)
    from flowc.compiler.command import runtime_argv
    from flowc.compiler.options import Options

    argv = [item[0] for item in runtime_argv(flow, flow.step("end"), Options())]
    values = decode_config_values(argv[argv.index(CONFIG_VALUES_FLAG) + 1])
    assert values == {"config": {"timeout": 5, "resources": {"cpu": 2}}}


def test_config_value_reads_like_metaflows():
    value = ConfigValue({"train": {"cpu": 2, "layers": [{"n": 1}]}})
    assert value.train.cpu == value["train"]["cpu"] == 2
    assert value.train.layers[0].n == 1
    assert isinstance(value, dict) and json.loads(json.dumps(value)) == {"train": {"cpu": 2, "layers": [{"n": 1}]}}
    for change in (lambda: value.__setitem__("x", 1), lambda: setattr(value, "x", 1), lambda: value.update(x=1)):
        with pytest.raises(TypeError):
            change()
    assert pickle.loads(pickle.dumps(value)) == value
    with pytest.raises(AttributeError):
        value.missing


def test_run_uses_the_config_and_the_config_option(tmp_path):
    path = flow_in(tmp_path)
    result = run_flowc("run", path, "--datastore", str(tmp_path / "ds"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "timing out after 5 seconds" in result.stdout
    assert "full config {'timeout': 5, 'resources': {'cpu': 2}}" in result.stdout
    other = write(tmp_path, "other.json", '{"timeout": 7, "resources": {"cpu": 1}}')
    result = run_flowc("run", path, "--config", "config", other, "--datastore", str(tmp_path / "ds"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "timing out after 7 seconds" in result.stdout
    for command in (["check", path], ["compile", path, "-t", "argo"]):
        result = run_flowc(*command, "--config", "config", str(tmp_path / "nope.json"), cwd=tmp_path)
        assert result.returncode == 2 and "nope.json does not exist" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_task_never_reads_the_config_file(tmp_path):
    """The values come with the command: with the file gone, the task still sees them."""
    path = flow_in(tmp_path)
    flow = load(path)
    from flowc.compiler.command import ORIGIN_RUN, render, runtime_argv
    from flowc.compiler.options import Options

    (tmp_path / "myconfig.json").unlink()
    argv = render(
        runtime_argv(flow, flow.step("start"), Options(datastore=str(tmp_path / "ds"), python=sys.executable)),
        lambda p: "" if p.kind == ORIGIN_RUN else "r1",  # a fresh run
    )
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "timing out after 5 seconds" in result.stdout + result.stderr


def test_runtime_refuses_a_damaged_config_values_flag(tmp_path):
    path = flow_in(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flowc.runtime", "step", path, "start", "--run-id", "r", "--task-id", "0",
         "--datastore", str(tmp_path / "ds"), CONFIG_VALUES_FLAG, "not base64!"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "--config-values is not base64 of JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_outside_a_run_says_why():
    from flowc.api.configs import Config

    set_config_values({})
    with pytest.raises(AttributeError, match="configs are resolved when flowc compiles or runs"):
        Config("cfg").value


def test_an_edited_default_config_file_compiles_again_through_the_cache(tmp_path):
    """The compile cache (`compile -o DIR`) must not serve an output built from an older config file."""
    path = flow_in(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    for timeout in (5, 6):
        write(tmp_path, "myconfig.json", json.dumps({"timeout": timeout, "resources": {"cpu": 2}}))
        result = run_flowc("compile", path, "-t", "argo", "-o", str(out) + "/", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"activeDeadlineSeconds: '{timeout}'" in (out / "timeout_config.argo.yaml").read_text()
