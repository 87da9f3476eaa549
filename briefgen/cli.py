"""The `briefgen` command: parses options and calls the library, nothing more.

Exit codes: 0 success; 1 the input (facts, profiles, lists, templates) has problems
or an output could not be written; 2 the command line is wrong; 3 an internal error
(a bug in briefgen: please report it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import briefgen

from . import __version__
from .errors import BriefgenError, CaseInvalid, UsageError

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3


class Console:
    """Where messages go: colour and grouping on a terminal, plain lines in a pipe."""

    def __init__(self, quiet: bool = False, verbose: bool = False, stream=None):  # type: ignore[no-untyped-def]
        self.out = stream or sys.stdout
        self.err = sys.stderr
        self.quiet = quiet
        self.verbose = verbose
        self.colour = self.err.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"

    def _c(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def info(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def detail(self, text: str) -> None:
        if self.verbose:
            print(text, file=self.out, flush=True)

    def problems(self, exc: BriefgenError) -> None:
        lines = exc.lines()
        if isinstance(exc, CaseInvalid) and self.colour:
            current = None
            for e in exc.errors:
                if e.path != current:
                    current = e.path
                    print(self._c("1", e.path), file=self.err)
                print(f"  {self._c('2', f'{e.line}:{e.col}')}  {self._c('31', 'error')} {e.message}", file=self.err)
        else:
            for line in lines:
                print(line if isinstance(exc, CaseInvalid) else f"briefgen: error: {line}", file=self.err)
        if isinstance(exc, CaseInvalid):
            n = len(exc.errors)
            print(self._c("31;1", f"{n} problem{'s' if n != 1 else ''} found; nothing was written."), file=self.err)


EXAMPLES = {
    "check": """examples:
  briefgen check                               check every case under facts/
  briefgen check facts/my-case                 check one case
  briefgen check --archive ../shared/seeds     also verify every excerpt against the archived sources""",
    "schema": """examples:
  briefgen schema                  print where the packaged schemas are
  briefgen schema --out schemas/   write <kind>.schema.json files for editors""",
}


def _cases(args_cases: Sequence[str]) -> list[Path]:
    if args_cases:
        return [Path(c) for c in args_cases]
    root = Path("facts")
    if not root.is_dir():
        raise UsageError("no case given and no facts/ folder here; give a case folder (e.g. facts/my-case)")
    found = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not found:
        raise UsageError("facts/ holds no case folders; create one with 'briefgen new facts/<case-id>'")
    return found


def cmd_check(args: argparse.Namespace, con: Console) -> int:
    from .loader import check_case, load_located

    errors = []
    cases = _cases(args.cases)
    archive = Path(args.archive) if args.archive else None
    if archive is not None and not archive.is_dir():
        raise UsageError(f"--archive {archive}: no such folder")
    for path in cases:
        try:
            if archive is None:
                counts = check_case(path)
            else:  # excerpts are compared with the archive: every item is needed
                from .archive import check_archive

                case, case_doc, origins = load_located(path)
                found = check_archive(case, case_doc, origins, archive)
                if found:
                    errors.extend(found)
                    continue
                counts = {k: len(getattr(case, k)) for k in ("sources", "events", "motives", "judgments")}
        except CaseInvalid as exc:
            errors.extend(exc.errors)
            continue
        summary = ", ".join(f"{counts[k]} {k}" for k in ("sources", "events", "motives", "judgments"))
        extra = "; every excerpt found in the archive" if archive else ""
        con.info(f"{path}: ok ({summary}{extra})")
    if errors:
        raise CaseInvalid(errors)
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, con: Console) -> int:
    from .schema import SCHEMA_DIR, write_schemas

    if args.out:
        for p in write_schemas(Path(args.out)):
            con.info(str(p))
    else:
        con.info(f"packaged schemas: {SCHEMA_DIR}")
        for p in sorted(SCHEMA_DIR.glob("*.schema.json")):
            con.info(f"  {p.name}")
    return EXIT_OK


Handler = Callable[[argparse.Namespace, Console], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="briefgen",
        description="Turn hand-checked YAML facts into HTML and PDF situation briefings.",
        epilog="Exit codes: 0 ok, 1 invalid input or unwritable output, 2 usage error, 3 internal error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"briefgen {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    common.add_argument(
        "-v", "--verbose", action="store_true", help="print more detail (and tracebacks of internal errors)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from .commands import EXAMPLES as MORE_EXAMPLES
    from .commands import register

    examples = {**EXAMPLES, **MORE_EXAMPLES}

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            parents=[common],
            epilog=examples.get(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    p = add("check", cmd_check, "validate cases and report every problem as file:line:col")
    p.add_argument("cases", nargs="*", metavar="CASE_DIR", help="case folders (default: every folder under facts/)")
    p.add_argument("--archive", metavar="DIR", help="also check every excerpt against DIR/<source archive file>")

    p = add("schema", cmd_schema, "write the JSON Schemas of the fact files, audience profiles and distribution lists")
    p.add_argument("--out", metavar="DIR", help="folder to write <kind>.schema.json into")

    register(add)
    return parser


LONG_RUNNING = frozenset({"watch", "serve"})


_PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_plugin_discovery() -> None:
    """Spare start-up Pydantic's search for plugins, which briefgen does not use.

    When the first model is defined, Pydantic imports its plugin loader, which imports
    ``importlib.metadata`` (and with it zipfile, email, socket...) and reads the entry
    points of every installed package: 35-60 ms of ``briefgen check``'s 250. Pydantic's
    own switch, ``PYDANTIC_DISABLE_PLUGINS=__all__``, skips the reading but not the
    imports; so the switch is set (unless the user set it, even to nothing) and a light
    stand-in for the loader module answers "no plugins" while it is on. Anything else
    asked of the stand-in, or any call once the switch is off, goes to the real module.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if _PLUGIN_LOADER in sys.modules:
        return
    import types

    stand_in = types.ModuleType(_PLUGIN_LOADER)

    def real() -> types.ModuleType:
        import importlib

        if sys.modules.get(_PLUGIN_LOADER) is stand_in:
            del sys.modules[_PLUGIN_LOADER]
        return importlib.import_module(_PLUGIN_LOADER)

    def get_plugins() -> object:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in ("__all__", "1", "true"):
            return ()
        return real().get_plugins()

    def other(name: str) -> object:
        if name.startswith("__"):  # (the import system asks for __path__ and the like)
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in.get_plugins = get_plugins  # type: ignore[attr-defined]
    stand_in.__getattr__ = other  # type: ignore[method-assign]
    sys.modules[_PLUGIN_LOADER] = stand_in


def run() -> None:
    """The ``briefgen`` command: :func:`main`, then an exit that skips freeing what the
    command kept (:func:`briefgen.keep_until_exit`): the operating system takes it back
    at once, where freeing a large case object by object takes the better part of a
    second. Output is flushed first; nothing else waits for the interpreter's exit."""
    code = main(exiting=True)
    if briefgen._KEPT:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None, *, exiting: bool = False) -> int:
    """Run one command; its exit code. ``exiting``: the process ends right after (what
    the command kept for the end is then left to :func:`run`)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    con = Console(quiet=args.quiet, verbose=args.verbose)
    _no_plugin_discovery()
    # A command that ends with its work may leave large data to the process's end (see
    # loader.gc_paused); watch and serve run on, as does a library user.
    briefgen.ONE_SHOT = args.command not in LONG_RUNNING
    try:
        return int(args.handler(args, con))
    except UsageError as exc:
        print(f"briefgen {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BriefgenError as exc:
        con.problems(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("briefgen: interrupted; outputs already written are complete, the rest are unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: short report, traceback only with --verbose
        if args.verbose:
            traceback.print_exc()
        print(
            f"briefgen: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in briefgen, not in your facts. Please file a bug with the command you ran\n"
            "and this message (run again with --verbose to include the traceback).",
            file=sys.stderr,
        )
        return EXIT_BUG
    finally:
        briefgen.ONE_SHOT = False
        if not exiting:
            briefgen._KEPT.clear()
