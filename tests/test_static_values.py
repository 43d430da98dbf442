"""Values the compiler sees without running code: source snippet -> IR value, and source -> exact located error.

Written from what Python itself makes of each snippet (an f-string, `str.format`,
`%`, `{**d}`, `f(**d)`, `from settings import X`): flowc must agree with Python
or refuse at the value's line, naming it.
"""

from __future__ import annotations

import textwrap

import pytest

from flowc.compiler import CompileError, load_flow

HEAD = "from metaflow import FlowSpec, step, resources, batch, environment, kubernetes, Parameter\n"

FLOW = """
class F(FlowSpec):
    size = Parameter('size', default=SIZE_DEFAULT)

    {decorators}
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def write_flow(folder, module_code: str, decorators: str, siblings: dict[str, str] | None = None) -> str:
    for name, text in (siblings or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    source = HEAD + textwrap.dedent(module_code) + "SIZE_DEFAULT = 1\n" + FLOW.replace("{decorators}", decorators)
    flow_path = folder / "flow.py"
    flow_path.write_text(source, encoding="utf-8")
    return str(flow_path)


def load(path: str):
    with open(path, "rb") as handle:
        return load_flow(handle.read(), path)[0]


def start(flow):
    return flow.step("start")


# (id, module code, decorators, sibling files, what to read from the flow, the value Python gives)
VALUES = [
    (
        "fstring",
        "BASE = 'ml'\n",
        "@batch(queue=f'{BASE}-queue')",
        {},
        lambda f: start(f).compute.batch.queue,
        "ml-queue",
    ),
    (
        "fstring-of-fstring-constant",
        "BASE = 'ml'\nQUEUE = f'{BASE}-queue'\n",
        "@batch(queue=QUEUE)",
        {},
        lambda f: start(f).compute.batch.queue,
        "ml-queue",
    ),
    (
        "fstring-spec-and-conversion",
        "N = 7\nNAME = 'x'\n",
        "@environment(vars={'V': f'{NAME!r}-{N:03d}-{N / 2:.2f}'})",
        {},
        lambda f: start(f).environment,
        (("V", "'x'-007-3.50"),),
    ),
    (
        "str-format",
        "BASE = 'ml'\nN = 2\n",
        "@batch(queue='{}-{n}'.format(BASE, n=N))",
        {},
        lambda f: start(f).compute.batch.queue,
        "ml-2",
    ),
    (
        "str-format-on-constant",
        "TEMPLATE = '{team}-queue'\n",
        "@batch(queue=TEMPLATE.format(team='ml'))",
        {},
        lambda f: start(f).compute.batch.queue,
        "ml-queue",
    ),
    (
        "percent",
        "BASE = 'ml'\n",
        "@batch(queue='%s-%d' % (BASE, 3))",
        {},
        lambda f: start(f).compute.batch.queue,
        "ml-3",
    ),
    (
        "percent-dict",
        "",
        "@batch(queue='%(a)s' % {'a': 'q'})",
        {},
        lambda f: start(f).compute.batch.queue,
        "q",
    ),
    (
        "dict-star-star",
        "BASE = {'A': 'x', 'B': 'y'}\n",
        "@environment(vars={**BASE, 'B': 'z'})",
        {},
        lambda f: start(f).environment,
        (("A", "x"), ("B", "z")),
    ),
    (
        "decorator-star-star",
        "RESOURCES = {'cpu': 4, 'memory': 8192}\n",
        "@resources(**RESOURCES)",
        {},
        lambda f: (start(f).resources.cpu, start(f).resources.memory_mib),
        (4.0, 8192),
    ),
    (
        "decorator-star-star-and-keyword",
        "",
        "@resources(gpu=1, **{'memory': 2048})",
        {},
        lambda f: (start(f).resources.gpu, start(f).resources.memory_mib),
        (1, 2048),
    ),
    (
        "sibling-constant",
        "from settings import MEMORY\n",
        "@resources(memory=MEMORY)",
        {"settings.py": "MEMORY = 16 * 1024\n"},
        lambda f: start(f).resources.memory_mib,
        16384,
    ),
    (
        "sibling-alias-and-fstring",
        "from settings import TEAM as T\n",
        "@batch(queue=f'{T}-queue')",
        {"settings.py": "import os\nTEAM = 'ml'\ndef helper():\n    return os.environ\n"},
        lambda f: start(f).compute.batch.queue,
        "ml-queue",
    ),
    (
        "sibling-package-module",
        "from config.compute import RESOURCES\n",
        "@resources(**RESOURCES)",
        {
            "config/__init__.py": "",
            "config/compute.py": "from .base import CPU\nRESOURCES = {'cpu': CPU}\n",
            "config/base.py": "CPU = 3\n",
        },
        lambda f: start(f).resources.cpu,
        3.0,
    ),
    (
        "sibling-module-imports-from-the-flows-folder",
        "from config.compute import MEMORY\n",
        "@resources(memory=MEMORY)",
        {
            "config/__init__.py": "",
            "config/compute.py": "from base import MEMORY\n",
            "base.py": "MEMORY = 512\n",
            "config/base.py": "MEMORY = 1\n",
        },
        lambda f: start(f).resources.memory_mib,
        512,  # Python finds `base` on sys.path, whose first entry is the flow's folder
    ),
    (
        "sibling-star-import",
        "from settings import *\n",
        "@resources(memory=MEMORY)",
        {"settings.py": "MEMORY = 1000\n"},
        lambda f: start(f).resources.memory_mib,
        1000,
    ),
    (
        "sibling-parameter-default",
        "from settings import DEFAULT_SIZE as SIZE_DEFAULT\n",
        "",
        {"settings.py": "DEFAULT_SIZE = 5\n"},
        lambda f: f.parameters[0].default,
        1,  # the flow's own later `SIZE_DEFAULT = 1` rebinds the name, as in Python
    ),
    (
        # Metaflow's tutorial 04: every interpreter flowc and its tasks run is a Python 3, so the
        # major version is the same when compiling and in the task, as Python gives it here
        "python-major-helper",
        "def pick():\n    import platform\n\n    versions = {'2': '2.7.15', '3': '3.9.10'}\n"
        "    return versions[platform.python_version_tuple()[0]]\n",
        "@environment(vars={'PY': pick()})",
        {},
        lambda f: start(f).environment,
        (("PY", {"2": "2.7.15", "3": "3.9.10"}[__import__("platform").python_version_tuple()[0]]),),
    ),
    (
        # a subclass body does not see its base's names: `Base.X` is how Python (and Metaflow) reads them
        "base-class-constants",
        "class Defaults:\n    CPU = 3\n    MEMORY = CPU * 1024\n",
        "@resources(cpu=Defaults.CPU, memory=Defaults.MEMORY)",
        {},
        lambda f: (start(f).resources.cpu, start(f).resources.memory_mib),
        (3, 3072),
    ),
    (
        "subscript-of-constant",
        "QUEUES = {'gpu': 'q-gpu', 'cpu': 'q-cpu'}\nSIZES = [1, 2, 3]\n",
        "@batch(queue=QUEUES['gpu'], cpu=SIZES[-1])",
        {},
        lambda f: (start(f).compute.batch.queue, start(f).resources.cpu),
        ("q-gpu", 3),
    ),
]


SCRIPT_PATH = """\
import os


def script_path(filename):
    \"\"\"The tutorials' helper: a file beside this flow, wherever it is launched from.\"\"\"
    import os

    filepath = os.path.join(os.path.dirname(__file__))
    return os.path.join(filepath, filename)


"""
FILE_DEFAULTS = [
    ("script-path", SCRIPT_PATH, "script_path('movies.csv')", "movies.csv"),
    ("script-path-constant", SCRIPT_PATH + "DATA = script_path('data/movies.csv')\n", "DATA", "data/movies.csv"),
    ("os-path-join", "import os\n", "os.path.join(os.path.dirname(__file__), 'data', 'x.csv')", "data/x.csv"),
    ("abspath-of-file", "import os\n", "os.path.join(os.path.dirname(os.path.abspath(__file__)), 'x.csv')", "x.csv"),
    (
        "realpath-normalized",
        "import os\n",
        "os.path.join(os.path.dirname(os.path.realpath(__file__)), './a/../x.csv')",
        "x.csv",
    ),
    ("plain-string", "", "'movies.csv'", "movies.csv"),
]


def flow_declaring(module_code: str, declaration: str) -> str:
    head = "from metaflow import FlowSpec, step, IncludeFile, Parameter\n"
    body = FLOW.replace("size = Parameter('size', default=SIZE_DEFAULT)", "data = " + declaration)
    return head + module_code + body.replace("{decorators}", "")


@pytest.mark.parametrize(
    "module_code,default,expected", [d[1:] for d in FILE_DEFAULTS], ids=[d[0] for d in FILE_DEFAULTS]
)
def test_include_file_default_beside_the_flow(tmp_path, module_code, default, expected):
    """flowc reads an IncludeFile default relative to the flow's folder: the idiom's value is that relative path."""
    source = flow_declaring(module_code, f"IncludeFile('data', default={default})")
    flow = load_flow(source, str(tmp_path / "flow.py"))[0]
    assert (flow.parameters[0].type, flow.parameters[0].default) == ("file", expected)
    assert type(flow.parameters[0].default) is str


PATH_ERRORS = [
    (
        "folder-itself",
        "import os\n",
        "IncludeFile('data', default=os.path.dirname(__file__))",
        "argument 'default' of IncludeFile must be a literal or a module-level constant, "
        "not the flow file's folder, a path of the machine that compiles",
    ),
    (
        "outside-the-folder",
        SCRIPT_PATH,
        "IncludeFile('data', default=script_path('../x.csv'))",
        "argument 'default' of IncludeFile must be a literal or a module-level constant, not a call of 'script_path' "
        "(line 5), which flowc cannot follow: a path that is not a file inside the flow file's folder",
    ),
    (
        "inside-text",
        "import os\n",
        "IncludeFile('data', default=os.path.dirname(__file__) + '/x.csv')",
        "argument 'default' of IncludeFile must be a literal or a module-level constant, "
        "not a path beside the flow file inside text; give it whole to os.path.join",
    ),
    (
        "string-parameter",
        SCRIPT_PATH,
        "Parameter('data', default=script_path('x.csv'))",
        "argument 'default' of Parameter is a path beside the flow file, which means a path of the machine that "
        "compiles except as an IncludeFile default; write the path the task should use as a literal",
    ),
    (
        "abspath",
        "import os\n",
        "IncludeFile('data', default=os.path.abspath('x.csv'))",
        "argument 'default' of IncludeFile must be a literal or a module-level constant, "
        "not os.path.abspath, a path of the machine that compiles",
    ),
    (
        "helper-that-reads-a-file",
        "def load(name):\n    return open(name).read()\n",
        "Parameter('data', default=load('x.csv'))",
        "argument 'default' of Parameter must be a literal or a module-level constant, not a call of 'load' "
        "(line 2), which flowc cannot follow: a function call",
    ),
    (
        "helper-with-a-loop",
        "def load(name):\n    for x in name:\n        pass\n    return name\n",
        "Parameter('data', default=load('x.csv'))",
        "argument 'default' of Parameter must be a literal or a module-level constant, "
        "not a call of 'load', which flowc cannot run; write the value as a literal",
    ),
]


@pytest.mark.parametrize(
    "module_code,declaration,message", [e[1:] for e in PATH_ERRORS], ids=[e[0] for e in PATH_ERRORS]
)
def test_file_default_idiom_error(tmp_path, module_code, declaration, message):
    source = flow_declaring(module_code, declaration)
    with pytest.raises(CompileError) as raised:
        load_flow(source, str(tmp_path / "flow.py"))
    rendered = [str(e) for e in raised.value.errors]
    assert [r.split(": error: ", 1)[1] for r in rendered] == [message]
    line = int(rendered[0].split(": error: ")[0].rsplit(":", 2)[1])
    assert "data = " in source.splitlines()[line - 1]  # located at the declaration, not in the helper


@pytest.mark.parametrize(
    "module_code,decorators,siblings,read,expected", [v[1:] for v in VALUES], ids=[v[0] for v in VALUES]
)
def test_static_value(tmp_path, module_code, decorators, siblings, read, expected):
    assert read(load(write_flow(tmp_path, module_code, decorators, siblings))) == expected


# (id, module code, decorators, sibling files, the exact error after "flow.py:LINE:COL: error: ")
FLOW_LINE = len(HEAD.splitlines()) + 1  # the first line of module code
ERRORS = [
    (
        "fstring-of-unknown-name",
        "",
        "@batch(queue=f'{TEAM}-queue')",
        {},
        "argument 'queue' of @batch must be a literal or a module-level constant, "
        "not the name 'TEAM', which is not a module-level constant",
    ),
    (
        "format-field-reaching-into-value",
        "",
        "@batch(queue='{0.__class__}'.format('x'))",
        {},
        "argument 'queue' of @batch must be a literal or a module-level constant, "
        "not a format field '{0.__class__}' that reaches into a value",
    ),
    (
        "huge-format-width",
        "",
        "@batch(queue=f'{1:999999999}')",
        {},
        "argument 'queue' of @batch must be a literal or a module-level constant, not a format width too large to evaluate",
    ),
    (
        "star-star-of-call",
        "RESOURCES = dict(cpu=2)\n",
        "@resources(**RESOURCES)",
        {},
        "the ** arguments of @resources must be a literal or a module-level constant, "
        f"not the name 'RESOURCES', which is bound at line {FLOW_LINE} to a call of 'dict', which flowc cannot run; "
        "write the value as a literal",
    ),
    (
        "star-star-unknown-argument",
        "",
        "@resources(**{'cpu': 1, 'cpu2': 2})",
        {},
        "@resources has no argument 'cpu2' (did you mean 'cpu'?)",
    ),
    (
        "star-star-duplicate",
        "",
        "@resources(cpu=1, **{'cpu': 2})",
        {},
        "@resources is given argument 'cpu' twice",
    ),
    (
        "sibling-module-missing",
        "from settings import MEMORY\n",
        "@resources(memory=MEMORY)",
        {},
        "argument 'memory' of @resources must be a literal or a module-level constant, "
        "not the name 'MEMORY', imported from 'settings', which is not a .py file beside the flow",
    ),
    (
        "sibling-name-not-constant",
        "from settings import MEMORY\n",
        "@resources(memory=MEMORY)",
        {"settings.py": "import os\nMEMORY = int(os.environ['MEM'])\n"},
        "argument 'memory' of @resources must be a literal or a module-level constant, "
        "not the name 'MEMORY', imported from 'settings' (settings.py), where it is not a module-level constant",
    ),
    (
        "sibling-syntax-error",
        "from settings import MEMORY\n",
        "@resources(memory=MEMORY)",
        {"settings.py": "MEMORY = (\n"},
        "argument 'memory' of @resources must be a literal or a module-level constant, "
        "not the name 'MEMORY', imported from 'settings' (settings.py), which flowc cannot read: "
        "syntax error at line 1: '(' was never closed",
    ),
    (
        "relative-import-in-the-flow-file",
        "from .settings import MEMORY\n",
        "@resources(memory=MEMORY)",
        {"settings.py": "MEMORY = 1\n"},
        "argument 'memory' of @resources must be a literal or a module-level constant, "
        "not the name 'MEMORY', imported from '.settings', a relative import outside a package beside the flow",
    ),
    (
        "sibling-import-cycle",
        "from settings import MEMORY\n",
        "@resources(memory=MEMORY)",
        {"settings.py": "from settings import MEMORY\n"},
        "argument 'memory' of @resources must be a literal or a module-level constant, "
        "not the name 'MEMORY', imported from 'settings' (settings.py), where it is not a module-level constant",
    ),
    (
        # the minor and patch differ between the machine that compiles and the task's image
        "python-full-version",
        "import platform\n",
        "@environment(vars={'PY': platform.python_version()})",
        {},
        "argument 'vars' of @environment must be a literal or a module-level constant, not a function call",
    ),
    (
        "python-minor-from-tuple",
        "def pick():\n    import platform\n\n    return platform.python_version_tuple()[1]\n",
        "@environment(vars={'PY': pick()})",
        {},
        "argument 'vars' of @environment must be a literal or a module-level constant, "
        "not a call of 'pick' (line 2), which flowc cannot follow: a function call",
    ),
    (
        "class-attribute-not-bound",
        "class Defaults:\n    CPU = 3\n",
        "@resources(cpu=Defaults.GPU)",
        {},
        "argument 'cpu' of @resources must be a literal or a module-level constant, "
        "not 'Defaults.GPU', which the class does not bind",
    ),
    (
        "subscript-missing-key",
        "QUEUES = {'gpu': 'q-gpu'}\n",
        "@batch(queue=QUEUES['cpu'])",
        {},
        "argument 'queue' of @batch must be a literal or a module-level constant, "
        "not a subscript ['cpu'] that the constant does not have",
    ),
]


@pytest.mark.parametrize("module_code,decorators,siblings,message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_static_value_error(tmp_path, module_code, decorators, siblings, message):
    path = write_flow(tmp_path, module_code, decorators, siblings)
    with pytest.raises(CompileError) as raised:
        load(path)
    rendered = [str(e).split(": error: ", 1) for e in raised.value.errors]
    assert [m for _where, m in rendered] == [message]
    where = rendered[0][0]
    lines = open(path, encoding="utf-8").read().splitlines()
    line, col = (int(x) for x in where.rsplit(":", 2)[1:])
    assert lines[line - 1].lstrip().startswith("@"), where  # located at the decorator's line


def test_a_value_from_a_sibling_module_follows_its_edits_through_the_compile_cache(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from flowc.cli import main

    write_flow(
        tmp_path,
        "from settings import QUEUE_ENV\n",
        "@environment(vars={'Q': QUEUE_ENV})",
        {"settings.py": "QUEUE_ENV = 'first-value'\n"},
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()  # -o DIR: the compile cache's mode
    compiled = tmp_path / "out" / "flow.argo.yaml"
    for value in ("first-value", "second-value"):
        (tmp_path / "settings.py").write_text(f"QUEUE_ENV = '{value}'\n")
        result = CliRunner().invoke(main, ["compile", "flow.py", "-t", "argo", "-o", "out"])
        assert result.exit_code == 0, result.output
        assert value in compiled.read_text()


def test_the_tutorials_script_path_include_file_runs_from_another_folder(tmp_path):
    """Metaflow's tutorial pattern, launched from outside the flow's folder: the step gets the file beside the flow."""
    from conftest import run_flowc

    project = tmp_path / "project"
    project.mkdir()
    (project / "movies.csv").write_text("title,genre\nAlien,sci-fi\n", encoding="utf-8")
    (project / "settings.py").write_text("GENRE = 'sci-fi'\n", encoding="utf-8")
    (project / "flow.py").write_text(
        "from flowc import FlowSpec, IncludeFile, Parameter, step\n"
        "from settings import GENRE\n"
        + SCRIPT_PATH
        + textwrap.dedent("""
        class PlayListFlow(FlowSpec):
            movie_data = IncludeFile("movie_data", default=script_path("movies.csv"))
            genre = Parameter("genre", default=f"{GENRE}")

            @step
            def start(self):
                print("ROWS", len(self.movie_data.splitlines()), self.genre)
                self.next(self.end)

            @step
            def end(self):
                pass
        """),
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_flowc("run", str(project / "flow.py"), "--datastore", str(tmp_path / "store"), cwd=elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ROWS 2 sci-fi" in result.stdout + result.stderr
