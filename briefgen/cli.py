"""The `briefgen` command: parses options and calls the library, nothing more.

Built on click; each command is a function of the library (``build.build``,
``loader.check_case``, ``distribution.distribute``...) behind a thin wrapper, and
:func:`main` runs the command line in process (the tests call it, and click's CliRunner).

Exit codes: 0 success; 1 the input (facts, profiles, lists, templates) has problems
or an output could not be written; 2 the command line is wrong; 3 an internal error
(a bug in briefgen: please report it).
"""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import BriefgenError, CaseInvalid, UsageError

if TYPE_CHECKING:
    from .output.distribute import DistributionReport

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3

# briefgen uses no Pydantic plugin: spare start-up the search for them.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


class Console:
    """Where messages go: colour and grouping on a terminal (rich), plain lines in a pipe."""

    def __init__(self, quiet: bool = False, verbose: bool = False, stream: IO[str] | None = None, writes: bool = True):
        self.writes = writes
        """Whether the command writes files (its problem count then says nothing was written)."""
        self.out = stream or sys.stdout
        self.err = sys.stderr
        self.quiet = quiet
        self.verbose = verbose
        self.colour = self.err.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"

    def info(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def detail(self, text: str) -> None:
        if self.verbose:
            print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def problems(self, exc: BriefgenError) -> None:
        if not isinstance(exc, CaseInvalid):
            for line in exc.lines():
                print(f"briefgen: error: {line}", file=self.err, flush=True)
            return
        n = exc.count
        total = f"{n:,} problem{'s' if n != 1 else ''} found" + ("; nothing was written." if self.writes else ".")
        if not self.colour:
            for line in exc.lines():
                print(line, file=self.err)
            print(total, file=self.err, flush=True)
            return
        from rich.console import Console as Rich
        from rich.text import Text

        rich = Rich(file=self.err, highlight=False)
        current = None
        for e in exc.errors:
            if e.path != current:
                current = e.path
                rich.print(Text(e.path, style="bold"))
            rich.print(Text.assemble("  ", (f"{e.line}:{e.col}", "dim"), "  ", ("error", "red"), " ", e.message))
        for path, more in sorted(exc.more.items()):
            rich.print(Text.assemble((path, "bold"), f": {more:,} more problems not listed"))
        rich.print(Text(total, style="bold red"))


class Progress:
    """A progress bar on a terminal (rich); plain log lines elsewhere."""

    def __init__(self, con: Console, verb: str = "rendered"):
        self.con = con
        self.verb = verb
        self.start = time.perf_counter()
        self.bar: Any = None
        if sys.stdout.isatty() and not con.quiet:
            from rich.progress import Progress as Bar

            self.bar = Bar(transient=True)
            self.task = self.bar.add_task("building", total=None)
            self.bar.start()

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.con.quiet:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total, description=label)
            if done == total:
                self.bar.stop()
            return
        print(
            f"{self.verb} {label} ({done}/{total}, {time.perf_counter() - self.start:.1f}s)",
            file=self.con.out,
            flush=True,
        )


F = TypeVar("F", bound=Callable[..., int])
READ_ONLY = frozenset({"check", "cite", "diff", "audiences"})
"""Commands that write nothing."""


def command(fn: F) -> F:
    """Common options (``-q``, ``-v``) and the error handling every command shares: a user
    mistake is printed without a traceback and gives its exit code; a bug, exit 3."""

    @click.option("-v", "--verbose", is_flag=True, help="print more detail (and tracebacks of internal errors)")
    @click.option("-q", "--quiet", is_flag=True, help="print only errors")
    @functools.wraps(fn)
    def wrapper(quiet: bool, verbose: bool, **kwargs: Any) -> int:
        ctx = click.get_current_context()
        con = Console(quiet=quiet, verbose=verbose, writes=ctx.info_name not in READ_ONLY)
        try:
            code = fn(con, **kwargs)
        except UsageError as exc:
            print(f"briefgen {ctx.info_name}: error: {exc}", file=sys.stderr)
            code = EXIT_USAGE
        except BriefgenError as exc:
            con.problems(exc)
            code = exc.exit_code
        except KeyboardInterrupt:
            print(
                "briefgen: interrupted; outputs already written are complete, the rest are unchanged", file=sys.stderr
            )
            code = 130
        except Exception as exc:  # a bug: short report, traceback only with --verbose
            if verbose:
                traceback.print_exc()
            print(
                f"briefgen: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in briefgen, not in your facts. Please file a bug with the command you ran\n"
                "and this message (run again with --verbose to include the traceback).",
                file=sys.stderr,
            )
            code = EXIT_BUG
        ctx.exit(code)

    return wrapper  # type: ignore[return-value]


def _cases(given: Sequence[str]) -> list[Path]:
    if given:
        return [Path(c) for c in given]
    root = Path("facts")
    if not root.is_dir():
        raise UsageError("no case given and no facts/ folder here; give a case folder (e.g. facts/my-case)")
    found = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not found:
        raise UsageError("facts/ holds no case folders; create one with 'briefgen new facts/<case-id>'")
    return found


def _folders(option: str, given: Sequence[str]) -> tuple[Path, ...]:
    for f in given:
        if not Path(f).is_dir():
            raise UsageError(f"{option} {f}: no such folder")
    return tuple(Path(f) for f in given)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 ok, 1 invalid input or unwritable output, 2 usage error, 3 internal error.",
)
@click.version_option(__version__, prog_name="briefgen", message="%(prog)s %(version)s")
def cli() -> None:
    """Turn hand-checked YAML facts into HTML and PDF situation briefings."""


CASES = click.argument("cases", nargs=-1, metavar="[CASE_DIR]...")


@cli.command(
    epilog="""\b
examples:
  briefgen check                               check every case under facts/
  briefgen check facts/my-case                 check one case
  briefgen check --archive ../shared/seeds     also verify every excerpt against the archived sources""",
)
@CASES
@click.option("--archive", metavar="DIR", help="also check every excerpt against DIR/<source archive file>")
@command
def check(con: Console, cases: tuple[str, ...], archive: str | None) -> int:
    """Validate cases and report every problem as file:line:col."""
    from .errors import Problems
    from .facts.loader import check_case

    folder = _folders("--archive", [archive])[0] if archive else None
    problems = Problems()
    for path in _cases(cases):
        try:
            loaded = check_case(path, folder)
        except CaseInvalid as exc:
            problems.extend(exc.errors)
            problems.dropped.update(exc.more)
            continue
        for w in loaded.warnings:
            con.warn(w.format())
        counts = loaded.counts
        summary = ", ".join(f"{counts[k]} {k}" for k in ("sources", "events", "motives", "judgments"))
        con.info(f"{path}: ok ({summary}{'; every excerpt found in the archive' if folder else ''})")
    problems.raise_if_any()
    return EXIT_OK


def build_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options of build, watch and serve."""
    for option in reversed(
        [
            CASES,
            click.option(
                "--audience", "audience", multiple=True, metavar="NAME", help="build for this audience (repeatable)"
            ),
            click.option("--all", "all_", is_flag=True, help="build for every audience (the default)"),
            click.option(
                "--format",
                "formats",
                multiple=True,
                type=click.Choice(["html", "pdf"]),
                help="output format (repeatable; default both)",
            ),
            click.option("--out", default="output", metavar="DIR", show_default=True, help="output folder"),
            click.option("--force", is_flag=True, help="rebuild even outputs whose inputs are unchanged"),
            click.option(
                "--templates", multiple=True, metavar="DIR", help="template folder searched before the built-in ones"
            ),
            click.option(
                "--audiences", "audience_dirs", multiple=True, metavar="DIR", help="folder of extra audience profiles"
            ),
            click.option(
                "--jobs", type=int, default=0, metavar="N", help="worker processes for PDFs (default: one per core)"
            ),
            click.option("--previous", metavar="CASE_DIR", help="previous edition of the case, for 'What changed'"),
        ]
    ):
        fn = option(fn)
    return fn


def _build_options(o: dict[str, Any]) -> Any:
    from .output.build import BuildOptions

    return BuildOptions(
        out=Path(o["out"]),
        audiences=None if (o["all_"] or not o["audience"]) else tuple(o["audience"]),
        formats=tuple(o["formats"]) or ("html", "pdf"),
        force=o["force"],
        templates=_folders("--templates", o["templates"]),
        audience_dirs=tuple(Path(a) for a in o["audience_dirs"]),
        jobs=o["jobs"],
        previous=Path(o["previous"]) if o["previous"] else None,
    )


@cli.command(
    epilog="""\b
examples:
  briefgen build                                  every case, every audience, HTML and PDF, into output/
  briefgen build facts/my-case --audience executive --format pdf
  briefgen build --out /tmp/briefs --force        rebuild everything into another folder
  briefgen build --templates my-templates/        use my template overrides first
  briefgen build --previous editions/3            add 'What changed since edition 3'""",
)
@build_options
@command
def build(con: Console, cases: tuple[str, ...], **o: Any) -> int:
    """Build HTML and PDF briefings (only what changed)."""
    from .output.build import build as run

    t0 = time.perf_counter()
    report = run(_cases(cases), _build_options(o), progress=Progress(con))
    for w in report.warnings:
        con.warn(w.format())
    for out in report.unchanged:
        con.detail(f"unchanged {out.path}")
    built, same = len(report.built), len(report.unchanged)
    if same and not built:
        con.info(f"nothing to do: all {same} outputs are up to date (use --force to rebuild)")
    else:
        con.info(
            f"{built} output{'s' if built != 1 else ''} built"
            + (f", {same} unchanged" if same else "")
            + f" in {time.perf_counter() - t0:.1f}s"
        )
    return EXIT_OK


@cli.command(
    epilog="""\b
examples:
  briefgen audiences                      list the built-in profiles
  briefgen audiences --audiences my-profiles/""",
)
@click.option("--audiences", "audience_dirs", multiple=True, metavar="DIR", help="folder of extra audience profiles")
@command
def audiences(con: Console, audience_dirs: tuple[str, ...]) -> int:
    """List the audience profiles."""
    from .briefing.audiences import load_audiences

    found = load_audiences([Path(a) for a in audience_dirs])
    width = max(len(n) for n in found)
    for name, aud in sorted(found.items()):
        p = aud.profile
        con.info(f"{name:<{width}}  TLP:{p.marking:<12} {p.page_size:<6} {p.detail:<8} {p.description}")
    return EXIT_OK


@cli.command(
    epilog="""\b
examples:
  briefgen schema                  print where the packaged schemas are
  briefgen schema --out schemas/   write <kind>.schema.json files for editors""",
)
@click.option("--out", metavar="DIR", help="folder to write <kind>.schema.json into")
@command
def schema(con: Console, out: str | None) -> int:
    """Write the JSON Schemas of the fact files, audience profiles and distribution lists."""
    from .editing.schema import SCHEMA_DIR, write_schemas

    if out:
        for p in write_schemas(Path(out)):
            con.info(str(p))
    else:
        con.info(f"packaged schemas: {SCHEMA_DIR}")
        for p in sorted(SCHEMA_DIR.glob("*.schema.json")):
            con.info(f"  {p.name}")
    return EXIT_OK


@cli.command(
    epilog="""\b
examples:
  briefgen new facts/my-case --parties "Northland,Southland"
  briefgen new facts/my-case --parties "Party A,Party B,Party C" --title "Border crisis"
  briefgen new facts/my-case --parties '"Northland, Inc.",Southland'   quote a name with a comma
then:
  briefgen check facts/my-case --archive facts/my-case/archive
  briefgen build facts/my-case --format html""",
)
@click.argument("case_dir", metavar="CASE_DIR")
@click.option(
    "--parties",
    required=True,
    metavar="NAMES",
    help='the parties, comma-separated: "A,B[,C...]" (2 to 8); quote a name holding a comma: \'"A, Inc.",B\'',
)
@click.option("--title", metavar="TITLE", help="title of the briefing (default: 'Example briefing: A and B')")
@command
def new(con: Console, case_dir: str, parties: str, title: str | None) -> int:
    """Start a new case folder with a commented example of every kind of fact."""
    from .editing.scaffold import ARCHIVE_DIR, parse_parties, scaffold

    folder = Path(case_dir)
    written = scaffold(folder, parse_parties(parties), title)
    con.info(f"created {folder}/ with one commented example of every kind of fact:")
    con.info("  " + ", ".join(p.relative_to(folder).as_posix() for p in written))
    con.info("every entry is an invented EXAMPLE: replace it with your own facts (docs/facts.md). Next:")
    con.info(f"  briefgen check {folder} --archive {folder / ARCHIVE_DIR}")
    con.info(f"  briefgen build {folder} --format html")
    return EXIT_OK


@cli.command(
    epilog="""\b
examples:
  briefgen cite s002-ecss "red line" --archive ../shared/seeds
  briefgen cite s1 "stepped back" --case facts/my-case""",
)
@click.argument("source_id", metavar="SOURCE_ID")
@click.argument("words", metavar="WORDS")
@click.option(
    "--case", "case_dir", metavar="CASE_DIR", help="the case whose source it is (default: the only case under facts/)"
)
@click.option("--archive", metavar="DIR", help="the archive folder (default: the case's archive/ folder)")
@command
def cite(con: Console, source_id: str, words: str, case_dir: str | None, archive: str | None) -> int:
    """Find WORDS in a source's archived text and print a ready-to-paste citation."""
    from .facts.archive import citation_yaml
    from .facts.loader import load

    cases = _cases([case_dir] if case_dir else [])
    if len(cases) != 1:
        raise UsageError("several cases under facts/; say which with --case CASE_DIR")
    folder = Path(archive) if archive else cases[0] / "archive"
    if not folder.is_dir():
        raise UsageError(f"no archive folder {folder}; give one with --archive DIR")
    loaded = load(cases[0])  # (the sources are enough: the rest of the case may be unfinished)
    print(citation_yaml(loaded.sources, folder, source_id, words), end="", file=con.out)
    return EXIT_OK


@cli.command(
    epilog="""\b
examples:
  briefgen diff editions/3 facts/my-case               what changed since the copy of edition 3
  briefgen diff HEAD~1:facts/my-case facts/my-case     what changed since the last commit
  briefgen diff v3:facts/my-case HEAD:facts/my-case --json
  briefgen diff old new --all-fields                   also show re-check dates and checkers""",
)
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--json", "as_json", is_flag=True, help="print the changes as JSON (values in full)")
@click.option(
    "--all-fields",
    is_flag=True,
    help="also report verification bookkeeping (checked_on, checked_by) that changes at every re-check",
)
@command
def diff(con: Console, old: str, new: str, as_json: bool, all_fields: bool) -> int:
    """List what changed between two versions of a case (a folder, or REV:PATH)."""
    from .editing.revisions import load_spec, parse_spec
    from .errors import Problems
    from .facts.diff import diff_cases, render_json, render_text

    problems = Problems()
    loaded = []
    for spec in (parse_spec(old), parse_spec(new)):
        try:
            loaded.append(load_spec(spec))
        except CaseInvalid as exc:
            problems.extend(exc.errors)
    problems.raise_if_any()
    changes = diff_cases(loaded[0], loaded[1], include_verification=all_fields)
    # The listing is the command's result: printed even with --quiet.
    con.out.write(render_json(changes) if as_json else "".join(f"{line}\n" for line in render_text(changes)))
    con.out.flush()
    return EXIT_OK


@cli.command(
    epilog="""\b
examples:
  briefgen watch                                   rebuild every case under facts/ on each save
  briefgen watch facts/my-case --format html       HTML only (fastest)
  briefgen watch facts/my-case --audience analyst --previous editions/3""",
)
@build_options
@click.option(
    "--max-builds",
    type=int,
    default=None,
    metavar="N",
    help="stop after N rebuilds (for scripts); exit 1 if the last failed",
)
@command
def watch(con: Console, cases: tuple[str, ...], max_builds: int | None, **o: Any) -> int:
    """Rebuild the briefings whenever facts, templates or profiles are saved."""
    from .editing.watch import Watcher

    watcher = Watcher(_cases(cases), _build_options(o), con)
    n = len(watcher.case_dirs)
    con.info(
        f"watching {n} case folder{'s' if n != 1 else ''}, the templates and the audience profiles (Ctrl-C to stop)"
    )
    try:
        watcher.run(max_builds=max_builds)
    except KeyboardInterrupt:
        con.info("stopped watching")
        return EXIT_OK
    return EXIT_OK if watcher.status()["ok"] else EXIT_INVALID


@cli.command(
    epilog="""\b
examples:
  briefgen serve facts/my-case                     open http://127.0.0.1:8000/ ; pages reload on save
  briefgen serve facts/my-case --port 8123 --format html
  briefgen serve --host 0.0.0.0                    share on the network (anyone who can reach it can read)""",
)
@build_options
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="port to listen on (0: any free port)",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDR",
    help="address to listen on (127.0.0.1: this machine only)",
)
@command
def serve(con: Console, cases: tuple[str, ...], port: int, host: str, **o: Any) -> int:
    """Serve the briefings on localhost, rebuilt and reloaded in the browser on save."""
    from .editing.serve import serve as run
    from .editing.watch import Watcher

    return run(Watcher(_cases(cases), _build_options(o), con), con, host=host, port=port, verbose=con.verbose)


@cli.command(
    epilog="""\b
examples:
  briefgen distribute lists/board.yaml                 a stamped PDF for everyone on the list, and a register
  briefgen distribute lists/board.yaml --out /tmp/copies
  briefgen distribute lists/board.yaml --case facts/my-case --audiences my-profiles/
  briefgen distribute lists/board.yaml --send          also mail each copy (the list's mail: section)
  BRIEFGEN_SMTP_PASSWORD=... briefgen distribute lists/board.yaml --send

\b
a list (copies are numbered per audience, in list order):
  case: ../facts/my-case            # relative to the list file
  edition_label: Edition 4 (final)  # optional; default 'Edition N'
  mail:                             # optional: each message is written as .eml beside its copy
    host: smtp.example.org          # security: starttls (default), tls or none
    username: desk@example.org      # password: BRIEFGEN_SMTP_PASSWORD, or asked
    sender: desk@example.org
    allowed: {GREEN: [partner.example], AMBER: [example.org], RED: [example.org]}
  recipients:
    - {name: Ana Lima, organisation: Foreign Office, audience: executive}
    - {name: Jo Park, organisation: Ops Centre, audience: analyst, marking: RED, email: jo@example.org}""",
)
@click.argument("list_file", metavar="LIST.yaml")
@click.option("--out", metavar="DIR", help="output folder (default: the list's 'out', else output)")
@click.option("--case", "case_dir", metavar="CASE_DIR", help="case folder (default: the list's 'case')")
@click.option("--templates", multiple=True, metavar="DIR", help="template folder searched first")
@click.option("--audiences", "audience_dirs", multiple=True, metavar="DIR", help="folder of extra audience profiles")
@click.option("--send", is_flag=True, help="mail each copy to its recipient over SMTP (the list's mail: section)")
@click.option("--dry-run", is_flag=True, help="send nothing, say what --send would send (the default without --send)")
@click.option(
    "--retry-uncertain",
    is_flag=True,
    help="with --send: send again copies an earlier run may or may not have delivered",
)
@command
def distribute(
    con: Console,
    list_file: str,
    out: str | None,
    case_dir: str | None,
    templates: tuple[str, ...],
    audience_dirs: tuple[str, ...],
    send: bool,
    dry_run: bool,
    retry_uncertain: bool,
) -> int:
    """Write a stamped PDF copy per recipient of a distribution list, and a register; mail them with --send."""
    from .output.distribute import DistributeOptions, load_list
    from .output.distribute import distribute as run

    if retry_uncertain and not send:
        raise UsageError("--retry-uncertain goes with --send")
    if send and load_list(Path(list_file))[0].mail is None:
        raise UsageError(
            f"--send: {list_file} has no mail: section (server, sender, allowed addresses); see docs/audiences.md"
        )
    options = DistributeOptions(
        out=Path(out) if out else None,
        case=Path(case_dir) if case_dir else None,
        templates=_folders("--templates", templates),
        audience_dirs=tuple(Path(a) for a in audience_dirs),
    )
    t0 = time.perf_counter()
    report = run(Path(list_file), options, progress=Progress(con))
    for name, secs in report.layouts.items():
        con.detail(f"laid out the {name} briefing once ({secs:.1f}s)")
    for w in report.warnings:
        con.warn(f"briefgen distribute: warning: {w}")
    n, m = len(report.copies), len(report.layouts)
    con.info(
        f"{n} cop{'y' if n == 1 else 'ies'} of {m} briefing{'s' if m != 1 else ''} "
        f"written in {time.perf_counter() - t0:.1f}s; register: {report.register_csv} and .json"
    )
    if report.mail is None:
        return EXIT_OK
    return _deliver(con, report, dry_run=dry_run or not send, retry_uncertain=retry_uncertain)


def _deliver(con: Console, report: DistributionReport, dry_run: bool, retry_uncertain: bool) -> int:
    """The sending half of ``distribute``: deliver, then a summary; exit 1 unless all went."""
    from .output.deliver import FAILED, NO_ADDRESS, NOT_SENT, REFUSED, SENT, UNCERTAIN, DeliverOptions, deliver

    def ask(prompt: str) -> str:
        return str(click.prompt(prompt, hide_input=True, err=True))

    options = DeliverOptions(
        dry_run=dry_run, retry_uncertain=retry_uncertain, password=ask if sys.stdin.isatty() else None
    )
    result = deliver(report, options, progress=Progress(con, verb="mail"))
    for w in result.warnings:
        con.warn(f"briefgen distribute: warning: {w}")
    count = result.count
    if dry_run:
        would = [d for d in result.deliveries if d.status == NOT_SENT]
        for d in would:
            con.detail(f"would send {d.file.removesuffix('.pdf')}.eml to {d.recipient} <{d.email}>")
        con.info(
            f"dry run: {len(report.messages)} message{'s' if len(report.messages) != 1 else ''} written as .eml beside "
            f"the copies; --send would send {len(would)}, {count(SENT)} already sent, "
            f"{count(UNCERTAIN)} uncertain, {count(NO_ADDRESS)} without an address"
        )
        return EXIT_OK
    for d in result.deliveries:
        if d.this_run and d.status != SENT:
            con.warn(f"briefgen distribute: {d.status}: {d.recipient} <{d.email}>: {d.answer or 'no answer'}")
        elif d.status == UNCERTAIN and not d.this_run:
            con.warn(
                f"briefgen distribute: uncertain: {d.recipient} <{d.email}> (since {d.time}): an earlier run may have "
                "delivered it; not sent again (--retry-uncertain sends it, with the same Message-ID)"
            )
    summary = (
        f"sent {count(SENT, True)}, refused {count(REFUSED)}, failed {count(FAILED)}, uncertain {count(UNCERTAIN)}, "
        f"skipped {count(SENT, False) + count(NO_ADDRESS)} ({count(SENT, False)} sent before, {count(NO_ADDRESS)} "
        f"without an address), not sent {count(NOT_SENT)}; delivery register: {result.register}"
    )
    if result.stopped:
        con.warn(f"briefgen distribute: error: {result.stopped}")
    if result.ok:
        con.info(summary)
        return EXIT_OK
    con.warn(summary)
    if count(REFUSED) + count(FAILED) + count(NOT_SENT):
        con.warn("briefgen distribute: run the same command again to send what was not sent (sent copies are skipped)")
    return EXIT_INVALID


@cli.command(
    epilog="""\b
examples:
  briefgen completion bash > ~/.local/share/bash-completion/completions/briefgen
  eval "$(briefgen completion zsh)"          # in ~/.zshrc""",
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@command
def completion(con: Console, shell: str) -> int:
    """Print a shell completion script (click's own, for bash, zsh or fish)."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None
    print(cls(cli, {}, "briefgen", "_BRIEFGEN_COMPLETE").source(), file=con.out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line in this process; its exit code."""
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="briefgen", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except click.exceptions.Abort:
        return 130
    return code if isinstance(code, int) else EXIT_OK


def run() -> None:
    """The ``briefgen`` command."""
    sys.exit(main())
