"""`flowc card [FLOW/]RUN/STEP[/TASK]`: write a task's @card page out of the datastore (and open it)."""

from __future__ import annotations

import os

import click

from flowc.cli.compile import fail
from flowc.cli.run import _locate, datastore_errors_in_one_line, datastore_option, flow_option
from flowc.contract import layout
from flowc.contract.ids import is_stored_task_id, task_sort_key


@click.command("card")
@click.argument("pathspec", metavar="[FLOW/]RUN_ID/STEP[/TASK]")
@click.option("--id", "card_id", help="The card's id (or type) when the task has several.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the page (default: FLOW-RUN-STEP-TASK-CARD.html in the current folder).",
)
@click.option("--open", "open_page", is_flag=True, help="Open the page in a web browser.")
@datastore_option
@flow_option
@datastore_errors_in_one_line
def card(pathspec, card_id, output, open_page, datastore, flow_path):
    """Write the card of a task (rendered by the runtime after its step) to a file."""
    parts = pathspec.split("/")
    task_id = parts.pop() if len(parts) >= 3 and is_stored_task_id(parts[-1]) else None
    if not 2 <= len(parts) <= 3:
        fail(f"expected [FLOW/]RUN_ID/STEP[/TASK], got {pathspec!r}")
    step = parts.pop()
    if not step.isidentifier():
        fail(f"{step!r} is not a step name")
    store, flow_name, run_id = _locate("/".join(parts), datastore, flow_path)
    where = f"{flow_name}/{run_id}/{step}"
    if task_id is None:
        tasks = sorted(store.children(layout.run_key(flow_name, run_id, step)), key=task_sort_key)
        if len(tasks) != 1:
            found = ", ".join(tasks[:10]) + (" ..." if len(tasks) > 10 else "") if tasks else "none"
            fail(f"step {where} has {len(tasks)} tasks ({found}): name one as {where}/TASK")
        task_id = tasks[0]
    task = layout.task_key(flow_name, run_id, step, task_id)
    if not store.exists(layout.task_key(flow_name, run_id, step, task_id, layout.DONE)):
        fail(f"task {where}/{task_id} has not finished: its cards are written when it does")
    pages = sorted(n[: -len(layout.CARD_SUFFIX)] for n in store.children(layout.cards_key(task)))
    if not pages:
        fail(f"task {where}/{task_id} has no card: give its step @card (or run with `--with card`)")
    if card_id is None and len(pages) > 1:
        fail(f"task {where}/{task_id} has {len(pages)} cards ({', '.join(pages)}): choose one with --id")
    page = card_id if card_id is not None else pages[0]
    if page not in pages:
        fail(f"task {where}/{task_id} has no card {page!r} (it has {', '.join(pages)})")
    text = store.read_text(layout.card_page_key(task, page))
    output = output or f"{flow_name}-{run_id}-{step}-{task_id}-{page}.html"
    try:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"card {page} of {where}/{task_id}: {output}")
    if open_page:
        import webbrowser  # only when asked to open the page

        webbrowser.open("file://" + os.path.abspath(output))


COMMANDS = [card]
