"""@card and current.card (issue 14, item 6), written from Metaflow's documented card API.

Metaflow's docs: `@card` "creates a human-readable report ... after this step completes"; several @card
on a step are told apart by `id` (`current.card["id"]`); the built-in types `default` (the task's
artifacts and the flow's DAG, then the components) and `blank` (the components only); a card's failure
never fails the task.  Each page is checked in headless Chromium with every host unresolvable and a
net log: its text holds the values, and it asks the network for nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import run_flowc, need
from flowc.api.cards import Artifact, CardCollector, Image, Markdown, Table, VegaChart, markdown_html
from flowc.contract import layout

HOSTILE = "</script><img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)

CARD_FLOW = '''
from metaflow import FlowSpec, card, current, step
from metaflow.cards import Artifact, Image, Markdown, Table, VegaChart

PNG = bytes.fromhex({png!r})


class ReportFlow(FlowSpec):
    @card
    @step
    def start(self):
        self.accuracy = 0.9375
        self.api_token = "sk-very-secret-value"
        self.hostile = {hostile!r}
        current.card.append(Markdown("# Training report\\n\\nThe model reached **93.75%**."))
        current.card.append(Table([["alpha", 0.1], ["beta", 0.2]], headers=["name", "weight"]))
        current.card.append(Image(PNG, label="loss curve"))
        self.next(self.end)

    @card(type="blank", id="summary")
    @card(id="details")
    @step
    def end(self):
        current.card["summary"].append(Markdown("## Summary: all good"))
        current.card["details"].extend([Artifact({{"k": [1, 2]}}, name="nested"), VegaChart(
            {{"title": "scores", "data": {{"values": [{{"x": 1, "y": 7}}, {{"x": 2, "y": 9}}]}}, "mark": "bar"}}
        )])
        current.card.append(Markdown("no default card here"))  # two cards with ids: ignored with a warning
        current.card["missing"].append(Markdown("nowhere"))
'''.format(png=PNG.hex(), hostile=HOSTILE)


# ---------------------------------------------------------------------------- components


def test_every_component_escapes_what_it_shows():
    html = "".join(
        c.html()
        for c in (
            Markdown(HOSTILE),
            Table([[HOSTILE]], headers=[HOSTILE]),
            Artifact(HOSTILE, name=HOSTILE),
            Image(PNG, label=HOSTILE),
            VegaChart({"title": HOSTILE, "data": {"values": [{"v": HOSTILE}]}}),
        )
    )
    assert "<script" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;") >= 5


def test_markdown_subset():
    html = markdown_html(
        "# Title\n\nSome **bold** and *it* and `code`.\n\n- one\n- two\n\n```\nx < 1\n```\n[out](https://e.x) [in](#top)"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>code</code>" in html and "<ul><li>one</li><li>two</li></ul>" in html
    assert "<pre><code>x &lt; 1</code></pre>" in html
    assert 'href="#top"' in html and "https://" not in html  # a link off the page keeps its text only


def test_image_is_inlined_and_non_image_bytes_say_so():
    assert 'src="data:image/png;base64,' in Image(PNG).html()
    assert "not PNG, JPEG, GIF or WebP" in Image(b"<svg onload=x>").html()


def test_long_artifacts_are_cut():
    assert "more characters" in Artifact("x" * 5000).html()


# ---------------------------------------------------------------------------- current.card


def test_current_card_without_card_is_ignored_with_one_warning(capsys):
    collector = CardCollector([], "train")
    collector.append(Markdown("a"))
    collector.extend([Markdown("b")])
    captured = capsys.readouterr().err
    assert captured.count("current.card is used but the step has no @card") == 1


def test_current_card_goes_to_the_one_card_or_by_id(capsys):
    one = CardCollector([{"type": "blank", "id": "x"}], "s")
    one.append(Markdown("a"))
    assert len(one.components_of(one.cards[0])) == 1
    two = CardCollector([{"id": "a"}, {}], "s")
    two.append(Markdown("to the card without an id"))
    two["a"].append(Markdown("to a"))
    two["a"].append("not a component")
    assert [len(two.components_of(c)) for c in two.cards] == [1, 1]
    assert "is not a card component" in capsys.readouterr().err


# ---------------------------------------------------------------------------- runs, pages, Chromium


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    need(Path(path).exists(), "Debian's chromium is not installed")
    return path


def render(page: Path, tmp_path: Path) -> tuple[str, set[str]]:
    """(the DOM Chromium builds from `page`, the URLs the page asked for) with every host unresolvable."""
    urls = {}
    for name, url in (("blank", "about:blank"), ("page", page.resolve().as_uri())):
        log = tmp_path / f"net-{name}.json"
        result = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path / ('profile-' + name)}",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--log-net-log={log}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        urls[name] = set(re.findall(r'"url":"([^"]*)"', log.read_text()))
        dom = result.stdout
    # Chromium's own background requests (updates, accounts) happen for about:blank too: the page's are the rest.
    browser_hosts = {re.sub(r"^\w+://([^/]*).*", r"\1", u) for u in urls["blank"]}
    asked = {u for u in urls["page"] if re.sub(r"^\w+://([^/]*).*", r"\1", u) not in browser_hosts}
    return dom, {u for u in asked if not u.startswith(("file:", "data:"))}


def test_the_network_check_sees_a_remote_reference(tmp_path):
    page = tmp_path / "remote.html"
    page.write_text('<!doctype html><p>x</p><img src="http://flowc-card-test.invalid/a.png">')
    _dom, asked = render(page, tmp_path)
    assert any("flowc-card-test.invalid" in u for u in asked)


def no_remote_reference(text: str) -> bool:
    return not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:|//)""", text, re.I) and "@import" not in text


@pytest.fixture(scope="module")
def card_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cards")
    (folder / "report_flow.py").write_text(CARD_FLOW)
    result = run_flowc("run", "report_flow.py", "--datastore", str(folder / "ds"), "--run-id", "r1", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def test_a_run_stores_each_card_beside_its_task_before_done(card_run):
    task = card_run / "ds" / layout.task_key("ReportFlow", "r1", "start", "0")
    assert (task / layout.CARDS / "default.html").is_file() and (task / layout.DONE).is_file()
    end = card_run / "ds" / layout.task_key("ReportFlow", "r1", "end", "0")
    assert sorted(p.name for p in (end / layout.CARDS).iterdir()) == ["details.html", "summary.html"]
    log = (end / layout.LOGS / "attempt-0.stderr").read_text()
    assert "current.card.append cannot choose one: use current.card[id] ('summary', 'details')" in log
    assert "the step has no @card(id='missing')" in log


def test_the_default_card_in_chromium_shows_artifacts_graph_and_components_and_loads_nothing(card_run, tmp_path):
    out = tmp_path / "start.html"
    result = run_flowc(
        "card", "ReportFlow/r1/start", "--datastore", str(card_run / "ds"), "--output", str(out), cwd=card_run
    )
    assert result.returncode == 0, result.stderr
    source = out.read_text()
    assert no_remote_reference(source) and "Content-Security-Policy" in source
    dom, asked = render(out, tmp_path)
    assert asked == set()
    text = re.sub(r"<[^>]+>", " ", dom)
    for shown in ("Training report", "93.75%", "alpha", "0.2", "weight", "accuracy", "0.9375", "loss curve"):
        assert shown in text, shown
    assert 'data-step="start"' in dom and 'data-step="end"' in dom  # the flow's graph
    assert "api_token" in text and "sk-very-secret-value" not in dom  # a credential's name only, as flowc report
    assert 'src="data:image/png;base64,' in dom
    # the hostile artifact is text: no element came of it, no script ran (the title is the card's)
    assert "<title>start · default</title>" in dom and "pwned" not in re.sub(
        r"&[^;]+;|'[^']*'", "", text.split("hostile")[0]
    )
    assert "<img src=\"x\"" not in dom and "<img src=x" not in dom and dom.count("<script") == 0


def test_blank_and_id_cards_in_chromium(card_run, tmp_path):
    ds = str(card_run / "ds")
    result = run_flowc("card", "r1/end", "--datastore", ds, cwd=card_run)
    assert result.returncode == 2 and "has 2 cards (details, summary): choose one with --id" in result.stderr
    out = tmp_path / "summary.html"
    assert run_flowc("card", "r1/end/0", "--id", "summary", "-o", str(out), "--datastore", ds).returncode == 0
    dom, asked = render(out, tmp_path)
    assert "Summary: all good" in dom and "Artifacts" not in dom and asked == set()  # blank: components only
    out = tmp_path / "details.html"
    assert run_flowc("card", "r1/end/0", "--id", "details", "-o", str(out), "--datastore", ds).returncode == 0
    dom, asked = render(out, tmp_path)
    assert "nested" in dom and "not drawn" in dom and "<td>9</td>" in dom and asked == set()


def test_flowc_card_names_what_is_missing(card_run):
    ds = str(card_run / "ds")
    for spec, message in (
        ("r1/nope", "step ReportFlow/r1/nope has 0 tasks (none)"),
        ("r1/start/0", None),
        ("F/r1/start/0/extra", "expected [FLOW/]RUN_ID/STEP[/TASK], got 'F/r1/start/0/extra'"),
        ("r9/start", "run 'r9' not found"),
    ):
        result = run_flowc("card", spec, "--id", "x", "--datastore", ds, cwd=card_run)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert message is None or message in result.stderr, result.stderr
    assert "has no card 'x' (it has default)" in run_flowc("card", "r1/start/0", "--id", "x", "--datastore", ds).stderr


FAILING_CARD = '''
import time

from flowc import FlowSpec, card, current, step
from flowc.cards import MetaflowCardComponent, Markdown


class Broken(MetaflowCardComponent):
    def html(self):
        raise ValueError("cannot draw this")


class Slow(MetaflowCardComponent):
    def html(self):
        time.sleep(30)
        return "never"


class BrokenCardFlow(FlowSpec):
    @card(id="kept")
    @card(id="dropped", save_errors=False)
    @card(id="slow", timeout=1)
    @step
    def start(self):
        current.card["kept"].append(Broken())
        current.card["dropped"].append(Broken())
        current.card["slow"].append(Slow())
        self.value = 7
        self.next(self.end)

    @step
    def end(self):
        current.card.append(Markdown("no card on this step"))
        print("value", self.value)
'''


def test_a_card_that_fails_never_fails_its_task(tmp_path):
    (tmp_path / "broken.py").write_text(FAILING_CARD)
    result = run_flowc("run", "broken.py", "--datastore", str(tmp_path / "ds"), "--run-id", "r1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cards = tmp_path / "ds" / layout.task_key("BrokenCardFlow", "r1", "start", "0") / layout.CARDS
    assert sorted(p.name for p in cards.iterdir()) == ["kept.html", "slow.html"]  # save_errors=False: none
    assert "ValueError: cannot draw this" in (cards / "kept.html").read_text()
    assert "rendering took longer than the card&#x27;s timeout of 1 s" in (cards / "slow.html").read_text()
    log = (cards.parent / layout.LOGS / "attempt-0.stderr").read_text()
    assert "card 'dropped' failed to render: ValueError: cannot draw this" in log


def test_with_card_gives_every_step_a_default_card(tmp_path):
    (tmp_path / "plain.py").write_text(
        textwrap.dedent(
            """
            from flowc import FlowSpec, step

            class PlainFlow(FlowSpec):
                @step
                def start(self):
                    self.x = 1
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        )
    )
    ds = tmp_path / "ds"
    result = run_flowc("run", "plain.py", "--with", "card", "--datastore", str(ds), "--run-id", "r1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for step in ("start", "end"):
        assert (ds / layout.task_key("PlainFlow", "r1", step, "0") / layout.CARDS / "default.html").is_file()


# ---------------------------------------------------------------------------- on an engine: argo_sim

from test_argo_execution import sim as sim  # noqa: E402,F401 - the argo_sim fixture


def test_cards_land_in_the_datastore_on_argo_sim(sim, tmp_path):
    code = sim.root / "code-cards"
    code.mkdir(exist_ok=True)
    (code / "report_flow.py").write_text(CARD_FLOW)
    result, report = sim.run_source(CARD_FLOW, "report_flow.py", workdir=code)
    assert result.returncode == 0 and report.get("phase") == "Succeeded", result.stderr[-3000:]
    runs = sorted((sim.store / "ReportFlow" / layout.RUNS).iterdir(), key=lambda p: p.stat().st_mtime)
    task = runs[-1] / "start" / "0"
    page = task / layout.CARDS / "default.html"
    assert page.is_file()
    dom, asked = render(page, tmp_path)
    assert "Training report" in dom and "0.9375" in dom and asked == set()
    assert json.loads((task / layout.META).read_text())["status"] == "ok"


CAUGHT_CARD = '''
from flowc import FlowSpec, card, catch, step


class CaughtCardFlow(FlowSpec):
    @card
    @catch(var="failure", print_exception=False)
    @step
    def start(self):
        if self.late():
            raise RuntimeError("the data was late")
        self.next(self.end)

    def late(self):
        return True

    @step
    def end(self):
        pass
'''


def test_a_caught_failure_still_gets_its_card_and_shows_the_exception(tmp_path):
    (tmp_path / "caught.py").write_text(CAUGHT_CARD)
    result = run_flowc("run", "caught.py", "--datastore", str(tmp_path / "ds"), "--run-id", "r1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = tmp_path / "ds" / layout.task_key("CaughtCardFlow", "r1", "start", "0") / layout.CARDS / "default.html"
    assert "RuntimeError: the data was late" in page.read_text()
