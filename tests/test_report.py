"""`flowc report`: a real local run's report, parsed and rendered in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from html.parser import HTMLParser

import pytest

from conftest import EXAMPLES, need, run_flowc

HOSTILE_FLOW = textwrap.dedent('''
    from flowc import FlowSpec, Parameter, step


    class Hostile(FlowSpec):
        note = Parameter("note", default="plain")

        @step
        def start(self):
            print("<script>alert('step output')</script>")
            self.payload = "<script>alert('artifact')</script>"
            self.api_token = "s3cr3t-value"
            self.next(self.end)

        @step
        def end(self):
            raise RuntimeError("</details><script>alert('error')</script>")
''')


class PageFacts(HTMLParser):
    """Tags with their attributes, the text, and the statuses next to each step heading."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> PageFacts:
    facts = PageFacts()
    facts.feed(html)
    return facts


def assert_self_contained(html: str, facts: PageFacts) -> None:
    for tag, attrs in facts.tags:
        for name in ("src", "href", "srcset", "action", "data"):
            value = attrs.get(name) or ""
            assert "//" not in value, f"<{tag} {name}={value!r}> would reach the network"
        assert tag not in ("link", "img", "iframe", "object", "embed"), f"<{tag}> is an outside resource"
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"url\((?!#)|@import", html), "CSS and SVG refer only to the page itself (url(#id))"


@pytest.fixture(scope="module")
def foreach_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    store = folder / "ds"
    ran = run_flowc("run", str(EXAMPLES / "foreach.py"), "--datastore", str(store), "--run-id", "r1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    made = run_flowc("report", "ForeachFlow/r1", "--datastore", str(store), "-o", str(folder / "report.html"))
    assert made.returncode == 0, made.stderr
    return folder / "report.html"


def test_report_names_every_step_with_its_status(foreach_report):
    html = foreach_report.read_text()
    facts = parse(html)
    headings = {attrs["id"] for tag, attrs in facts.tags if tag == "h3"}
    assert headings == {"step-start", "step-train", "step-pick", "step-end"}
    nodes = {
        attrs["data-step"]: attrs["class"]
        for tag, attrs in facts.tags
        if tag == "g" and "node" in attrs.get("class", "")
    }
    assert nodes == {s: "node status-ok" for s in ("start", "train", "pick", "end")}
    text = " ".join(facts.text)
    for task in ("start/0", "train/0", "train/1", "train/2", "pick/0", "end/0"):
        assert task in text
    assert "2048 MiB" in text and "3 times" in text  # train's @resources and @retry, from the IR
    assert "learning_rates" in text and "[0.001, 0.01, 0.1]" in text  # an artifact's name and short repr
    assert_self_contained(html, facts)


def test_report_renders_in_chromium_without_console_errors(foreach_report, tmp_path):
    browser = shutil.which("chromium")
    need(browser is not None, "headless Chromium is not installed (Debian package `chromium`)")
    argv = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        foreach_report.as_uri(),
    ]
    shown = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    console = [line for line in shown.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], "\n".join(console)
    dom = parse(shown.stdout)
    assert {attrs["data-step"] for tag, attrs in dom.tags if tag == "g"} >= {"start", "train", "pick", "end"}
    assert "ok" in " ".join(dom.text)


def test_report_escapes_what_the_run_wrote(tmp_path):
    (tmp_path / "hostile.py").write_text(HOSTILE_FLOW)
    store = tmp_path / "ds"
    ran = run_flowc(
        "run",
        "hostile.py",
        "--datastore",
        str(store),
        "--run-id",
        "h1",
        "--param",
        "note=<img src=x onerror=alert(1)>",
        cwd=tmp_path,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    made = run_flowc("report", "h1", "--datastore", str(store), "-o", "page.html", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    html = (tmp_path / "page.html").read_text()
    facts = parse(html)
    assert [tag for tag, _ in facts.tags if tag in ("script", "img")] == ["script"]  # the page's own script only
    text = " ".join(facts.text)
    assert "<script>alert('artifact')</script>" in text  # shown as text
    assert "<img src=x onerror=alert(1)>" in text
    assert "s3cr3t-value" not in html  # an artifact named like a credential is not shown
    nodes = {
        attrs["data-step"]: attrs["class"]
        for tag, attrs in facts.tags
        if tag == "g" and "node" in attrs.get("class", "")
    }
    assert nodes == {"start": "node status-ok", "end": "node status-failed"}
    assert_self_contained(html, facts)


def test_report_of_an_unknown_run_is_one_line(tmp_path):
    made = run_flowc("report", "Nope/r9", "--datastore", str(tmp_path))
    assert made.returncode == 2
    assert "not found" in made.stderr and "Traceback" not in made.stderr
