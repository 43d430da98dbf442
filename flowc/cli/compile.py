"""`flowc compile`, `flowc check`, `flowc graph`."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from pathlib import Path

import click

from flowc.compiler.targets import TARGETS
from flowc.contract.command import EXIT_FAILED, EXIT_USAGE


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector off for one bounded burst of work: importing hera (pydantic builds
    ~300 model classes), parsing and building thousands of small objects.  That work makes no cycles
    worth collecting, while the collector's repeated passes over the growing heap cost about a third
    of a 1,000-step argo compile.  Restored afterwards (a long `flowc run` collects as usual)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def report(diagnostics) -> None:
    for d in diagnostics:
        click.echo(str(d), err=True)


def target_option(default: str | None = None):
    return click.option(
        "--target",
        "-t",
        type=click.Choice(list(TARGETS)),
        default=default,
        required=default is None,
        help="What to compile to.",
    )


# The flags of Options fields every compiling command shares (compile, check, deploy, trigger); each
# target reads only some (flowc/compiler/options.py READ_BY) and refuses the others.
# @project's branch (flowc/contract/project.py): the same two flags on compile, deploy, trigger, run and resume -t
BRANCH_FLAG = click.option("--branch", help="@project: the branch test.BRANCH (prod.BRANCH with --production).")
PRODUCTION_FLAG = click.option("--production", is_flag=True, default=None, help="@project: the production branch.")
OPTION_FLAGS = [
    click.option("--image", help="Container image for steps that do not name one."),
    click.option("--datastore", help="Datastore root, e.g. s3://bucket/prefix."),
    click.option("--python", help="The interpreter inside the container (default python)."),
    click.option("--namespace", help="Kubernetes namespace (argo, airflow)."),
    click.option("--service-account", help="Kubernetes service account (argo, airflow)."),
    click.option("--max-workers", type=int, help="Most tasks at once (argo parallelism, Map concurrency, airflow)."),
    click.option("--name", help="Deployed name (default: derived from the flow's name)."),
    click.option("--format", "output_format", type=click.Choice(["yaml", "json"]), help="Argo output format."),
    click.option("--operator", type=click.Choice(["kubernetes", "local"]), help="Airflow task operator."),
    click.option("--code-dir", help="Airflow --operator local: the folder holding the flow file."),
    click.option("--gpu-vendor", help="GPU resource vendor on Kubernetes (default nvidia; argo, airflow)."),
    click.option("--job-queue", help="AWS Batch job queue (step-functions)."),
    click.option("--job-definition", help="AWS Batch job definition (step-functions; default one per image)."),
    click.option("--skypilot-image", help="The @skypilot launcher's image (argo, airflow)."),
    BRANCH_FLAG,
    PRODUCTION_FLAG,
]
WITH_FLAG = click.option(
    "--with",
    "with_decorators",
    multiple=True,
    metavar="DECORATOR[:k=v,...]",
    help="Attach a decorator to every step that lacks it, e.g. --with retry:times=2.",
)


CONFIG_FLAG = click.option(
    "--config",
    "config_files",
    type=(str, click.Path(dir_okay=False)),
    multiple=True,
    metavar="NAME PATH",
    help="Read the flow's Config NAME from PATH instead of its default (repeatable).",
)


def options_flags(func):
    """--with, --config and the flags of the Options fields."""
    for flag in reversed([WITH_FLAG, CONFIG_FLAG, *OPTION_FLAGS]):
        func = flag(func)
    return func


def fail(message: str) -> None:
    """One `error:` line on stderr, exit 2: how every bad setting ends a command."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def settings_for(kwargs: dict, flow_path: str, target: str):
    """TargetSettings for `target` from the command's flags (flowc/cli/options.py); bad values exit 2."""
    # the resolver pulls in the compiler's Options and the target table: not needed by --help
    from flowc.cli.options import SETTING_NAMES, SettingsError, resolve_for_target

    flags = {k: kwargs.get(k) for k in SETTING_NAMES}
    try:
        return resolve_for_target(flags, Path(flow_path).resolve().parent, target)
    except SettingsError as exc:
        fail(str(exc))


def options_for(kwargs: dict, flow_path: str, target: str):
    """The Options for `target` (see settings_for)."""
    return settings_for(kwargs, flow_path, target).options


def config_files_for(kwargs: dict) -> tuple[tuple[str, str], ...]:
    """The `--config NAME PATH` pairs of a command's flags (flowc/cli/options.py); bad ones exit 2."""
    from flowc.cli.options import SettingsError, resolve_config_files  # not needed by --help

    try:
        return resolve_config_files(kwargs.get("config_files"))
    except SettingsError as exc:
        fail(str(exc))


def load_or_exit(path: str, with_decorators=(), config_files=()):
    """The flow's IR, printing warnings; on errors print them all and exit 2."""
    # the compiler loads on first use, so `flowc --help` stays fast
    from flowc.compiler import CompileError, load_flow, read_source

    try:
        flow, warnings = load_flow(read_source(path), path, tuple(with_decorators), config_files)
    except CompileError as exc:
        report(exc.diagnostics)
        sys.exit(EXIT_USAGE)
    report(warnings)
    return flow


def compile_one(path: str, target: str, kwargs: dict, options=None):
    """The artifact, or None after printing its errors (`options`: already resolved for this flow)."""
    # the compiler loads on first use, so `flowc --help` stays fast
    from flowc.compiler import CompileError, compile_flow, read_source

    options = options_for(kwargs, path, target) if options is None else options
    try:
        artifact = compile_flow(
            read_source(path),
            path,
            target,
            options,
            tuple(kwargs.get("with_decorators") or ()),
            config_files_for(kwargs),
        )
    except CompileError as exc:
        report(exc.diagnostics)
        return None
    report(artifact.warnings)
    return artifact


@click.command("compile")
@click.argument("flows", nargs=-1, required=True, type=click.Path(dir_okay=False))
@target_option()
@click.option("-o", "--output", type=click.Path(), help="File (one flow) or directory (one output per flow).")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; print a diff and exit 1 when the files in -o differ from what FLOWS compile to.",
)
@click.option("--package-url", help="Code package the containers bootstrap from (what deploy sets).")
@click.option("--no-cache", is_flag=True, help="Compile every flow, ignoring DIR/.flowc-cache (and not updating it).")
@options_flags
def compile_command(flows, target, output, check, no_cache, **kwargs):
    """Compile FLOWS for a target. Several flows compile in one process with -o DIR.

    With -o DIR, a flow whose inputs (its file, the local modules it imports, the
    options, --with, the target, flowc itself) are unchanged since the last compile
    into DIR, and whose outputs there are byte-identical to what that compile
    wrote, is not compiled again (DIR/.flowc-cache; --no-cache to bypass).
    """
    to_dir = output is not None and (len(flows) > 1 or os.path.isdir(output) or output.endswith(os.sep))
    if len(flows) > 1 and output is None:
        raise click.UsageError("several flows need -o DIR")
    if check and output is None:
        raise click.UsageError("--check compares with the files in -o FILE or -o DIR: pass -o")
    cache = None
    if to_dir and not no_cache:
        # only a compile into a directory keeps a cache
        from flowc.cli.compile_cache import CompileCache

        cache = CompileCache(Path(output))
    failed = 0
    stale = 0
    for path in flows:
        with gc_paused():
            key, options = None, None
            if cache is not None:
                key, warnings, options = cached_compile(cache, path, target, kwargs)
                if warnings is not None:  # a verified hit: the files in DIR are what this compile writes
                    click.echo("".join(w + "\n" for w in warnings), err=True, nl=False)
                    continue
            artifact = compile_one(path, target, kwargs, options)
        if artifact is None:
            failed += 1
            continue
        if output is None:
            click.echo(artifact.text, nl=False)
            continue
        written = output_files(path, artifact, target, Path(output), to_dir)
        for destination, text in written.items():
            if check:
                stale += not same_as_committed(destination, text)
            else:
                write_atomically(destination, text)
        if key is not None and not check:  # --check writes nothing, the cache included
            reads = tuple(c.source for c in artifact.flow.configs if c.source not in ("default_value", "none"))
            cache.store(key, written, [str(w) for w in artifact.warnings], reads)
    if failed:
        sys.exit(EXIT_USAGE)
    if stale:
        click.echo(f"{stale} file(s) would change: run the same command without --check", err=True)
        sys.exit(EXIT_FAILED)


def cached_compile(cache, path: str, target: str, kwargs: dict):
    """(key or None, the cached warnings on a verified hit else None, the resolved Options)."""
    from flowc.cli.compile_cache import cache_key

    options = options_for(kwargs, path, target)
    configs = config_files_for(kwargs)
    key = cache_key(path, target, options, tuple(kwargs.get("with_decorators") or ()), configs)
    return key, (None if key is None else cache.lookup(key)), options


def output_files(path: str, artifact, target: str, output: Path, to_dir: bool) -> dict[Path, str]:
    """{destination: text} that `compile -o` writes for one flow (what `--check` compares)."""
    if to_dir and target == "skypilot":  # one SkyPilot task file per @skypilot step: <flow>.<step>.sky.yaml
        # only for skypilot output into a directory
        from flowc.compiler.targets.skypilot import split_documents

        return {
            output / f"{Path(path).stem}.{task}{artifact.suffix}": text
            for task, text in split_documents(artifact.text).items()
        }
    return {output / (Path(path).stem + artifact.suffix) if to_dir else output: artifact.text}


def same_as_committed(destination: Path, text: str) -> bool:
    """True when `destination` holds exactly `text`; else prints a unified diff (a missing file is all added)."""
    # only --check compares text
    import difflib

    try:
        committed = destination.read_text(encoding="utf-8")
    except FileNotFoundError:
        committed = None
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {destination}: {getattr(exc, 'strerror', None) or exc}")
    if committed == text:
        return True
    lines = difflib.unified_diff(
        [] if committed is None else committed.splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"committed {destination}" + (" (missing)" if committed is None else ""),
        tofile=f"compiled {destination}",
    )
    for line in lines:
        # a last line without its newline still ends the diff's line (as `diff` marks it)
        click.echo(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n", nl=False)
    return False


def write_atomically(destination: Path, text: str) -> None:
    """A regular file is replaced whole (a reader never sees half of it); anything else that exists (`-o
    /dev/null`, a FIFO, a terminal) is written to, never replaced: renaming over /dev/null made it a file."""
    import stat

    try:
        special = not stat.S_ISREG(os.stat(destination).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(destination, "w", encoding="utf-8") as stream:
            stream.write(text)
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.tmp{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, destination)


@click.command("check")
@click.argument("flows", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), help="Also apply this target's rules.")
@options_flags
def check_command(flows, target, with_decorators, config_files, **kwargs):
    """Validate FLOWS without writing anything."""
    if not target and any(v is not None for v in kwargs.values()):
        raise click.UsageError("options are read by a target: pass --target")
    failed = 0
    for path in flows:
        with gc_paused():
            ok = _check_one(path, target, with_decorators, {**kwargs, "config_files": config_files})
        failed += not ok
        if ok:
            click.echo(f"{path}: ok")
    if failed:
        sys.exit(EXIT_USAGE)


def _check_one(path, target, with_decorators, kwargs) -> bool:
    if target:
        return compile_one(path, target, {**kwargs, "with_decorators": with_decorators}) is not None
    # the compiler loads on first use, so `flowc --help` stays fast
    from flowc.compiler import CompileError, load_flow, read_source

    try:
        _, warnings = load_flow(read_source(path), path, tuple(with_decorators), config_files_for(kwargs))
    except CompileError as exc:
        report(exc.diagnostics)
        return False
    report(warnings)
    return True


@click.command("graph")
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
def graph_command(flow, fmt):
    """Print the flow's graph as Mermaid or Graphviz dot."""
    # only `flowc graph` draws
    from flowc.compiler.diagram import to_dot, to_mermaid

    with gc_paused():
        graph = load_or_exit(flow)
    click.echo(to_mermaid(graph) if fmt == "mermaid" else to_dot(graph), nl=False)
