"""The commands beyond check and schema: build, audiences (and more registered below).

Kept apart from cli.py so that `briefgen check` imports nothing it does not need.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import UsageError

EXAMPLES = {
    "build": """examples:
  briefgen build                                  every case, every audience, HTML and PDF, into output/
  briefgen build facts/my-case --audience executive --format pdf
  briefgen build --out /tmp/briefs --force        rebuild everything into another folder
  briefgen build --templates my-templates/        use my template overrides first
  briefgen build --previous editions/3            add 'What changed since edition 3'""",
    "audiences": """examples:
  briefgen audiences                      list the built-in profiles
  briefgen audiences --audiences my-profiles/""",
    "distribute": """examples:
  briefgen distribute lists/board.yaml                 a stamped PDF for everyone on the list, and a register
  briefgen distribute lists/board.yaml --out /tmp/copies
  briefgen distribute lists/board.yaml --case facts/my-case --audiences my-profiles/

a list (copies are numbered per audience, in list order):
  case: ../facts/my-case            # relative to the list file
  edition_label: Edition 4 (final)  # optional; default 'Edition N'
  recipients:
    - {name: Ana Lima, organisation: Foreign Office, audience: executive}
    - {name: Jo Park, organisation: Ops Centre, audience: analyst, marking: RED, email: jo@example.org}""",
}


class ProgressLine:
    """A one-line progress display on a terminal; plain log lines elsewhere."""

    def __init__(self, con: Any):
        self.con = con
        self.tty = sys.stdout.isatty() and not con.quiet
        self.start = time.perf_counter()

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.con.quiet:
            return
        elapsed = time.perf_counter() - self.start
        if self.tty:
            width = 24
            filled = int(width * done / total)
            bar = "█" * filled + "·" * (width - filled)
            sys.stdout.write(f"\r\033[K[{bar}] {done}/{total} {elapsed:5.1f}s  {label}")
            if done == total:
                sys.stdout.write("\n")
            sys.stdout.flush()
        else:
            print(f"rendered {label} ({done}/{total}, {elapsed:.1f}s)", flush=True)


def _options(args: argparse.Namespace) -> Any:
    from .build import BuildOptions

    formats = tuple(args.format) if args.format else ("html", "pdf")
    audiences = None if (args.all or not args.audience) else tuple(args.audience)
    templates = tuple(Path(t) for t in (args.templates or []))
    for t in templates:
        if not t.is_dir():
            raise UsageError(f"--templates {t}: no such folder")
    return BuildOptions(
        out=Path(args.out),
        audiences=audiences,
        formats=formats,
        force=args.force,
        templates=templates,
        audience_dirs=tuple(Path(a) for a in (args.audiences or [])),
        jobs=args.jobs,
        previous=Path(args.previous) if args.previous else None,
    )


def cmd_build(args: argparse.Namespace, con: Any) -> int:
    from .build import build
    from .cli import _cases

    options = _options(args)
    t0 = time.perf_counter()
    report = build(_cases(args.cases), options, progress=ProgressLine(con))
    for o in report.unchanged:
        con.detail(f"unchanged {o.path}")
    n_built, n_same = len(report.built), len(report.unchanged)
    if n_same and not n_built:
        con.info(f"nothing to do: all {n_same} outputs are up to date (use --force to rebuild)")
    else:
        con.info(
            f"{n_built} output{'s' if n_built != 1 else ''} built"
            + (f", {n_same} unchanged" if n_same else "")
            + f" in {time.perf_counter() - t0:.1f}s"
        )
    return 0


def cmd_audiences(args: argparse.Namespace, con: Any) -> int:
    from .audiences import load_audiences

    found = load_audiences([Path(a) for a in (args.audiences or [])])
    width = max(len(n) for n in found)
    for name, aud in sorted(found.items()):
        p = aud.profile
        con.info(f"{name:<{width}}  TLP:{p.marking:<12} {p.page_size:<6} {p.detail:<8} {p.description}")
    return 0


def add_build_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("cases", nargs="*", metavar="CASE_DIR", help="case folders (default: every folder under facts/)")
    p.add_argument("--audience", action="append", metavar="NAME", help="build for this audience (repeatable)")
    p.add_argument("--all", action="store_true", help="build for every audience (the default)")
    p.add_argument(
        "--format", action="append", choices=["html", "pdf"], help="output format (repeatable; default both)"
    )
    p.add_argument("--out", default="output", metavar="DIR", help="output folder (default: output)")
    p.add_argument("--force", action="store_true", help="rebuild even outputs whose inputs are unchanged")
    p.add_argument(
        "--templates", action="append", metavar="DIR", help="template folder searched before the built-in ones"
    )
    p.add_argument("--audiences", action="append", metavar="DIR", help="folder of extra audience profiles")
    p.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes for PDFs (default: one per core)")
    p.add_argument("--previous", metavar="CASE_DIR", help="previous edition of the case, for 'What changed'")


NEW_EXAMPLES = """examples:
  briefgen new facts/my-case --parties "Northland,Southland"
  briefgen new facts/my-case --parties "Party A,Party B,Party C" --title "Border crisis"
  briefgen new facts/my-case --parties '"Northland, Inc.",Southland'   quote a name with a comma
then:
  briefgen check facts/my-case --archive facts/my-case/archive
  briefgen build facts/my-case --format html"""


def add_new_arguments(p: Any) -> None:
    """The `new` command's arguments (briefgen.scaffold does the work)."""
    p.add_argument("case_dir", metavar="CASE_DIR", help="the new case folder (must not exist, or be empty)")
    p.add_argument(
        "--parties",
        required=True,
        metavar="NAMES",
        help='the parties, comma-separated: "A,B[,C...]" (2 to 8); quote a name holding a comma: \'"A, Inc.",B\'',
    )
    p.add_argument("--title", metavar="TITLE", help="title of the briefing (default: 'Example briefing: A and B')")


def cmd_new(args: Any, con: Any) -> int:
    from .scaffold import cmd_new as run  # (imported only when `new` runs: check starts faster)

    return run(args, con)


def register(add: Callable[..., Any]) -> None:
    """Add the build, audience and distribution commands to the parser."""
    p = add("build", cmd_build, "build HTML and PDF briefings (only what changed)")
    add_build_options(p)
    p = add("audiences", cmd_audiences, "list the audience profiles")
    p.add_argument("--audiences", action="append", metavar="DIR", help="folder of extra audience profiles")
    p = add("new", cmd_new, "start a new case folder with a commented example of every kind of fact")
    p.epilog = NEW_EXAMPLES
    add_new_arguments(p)
    from .commands_editing import register as register_editing  # diff, watch, serve

    register_editing(add)

    def cmd_distribute(args: argparse.Namespace, con: Any) -> int:
        from .distribution import cmd_distribute as run  # imported on use: keeps start-up quick

        return run(args, con)

    about = "write a stamped PDF copy per recipient of a distribution list, and a register"
    p = add("distribute", cmd_distribute, about)
    p.add_argument("list", metavar="LIST.yaml", help="the distribution list")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the list's 'out', else output)")
    p.add_argument("--case", metavar="CASE_DIR", help="case folder (default: the list's 'case')")
    p.add_argument("--templates", action="append", metavar="DIR", help="template folder searched first")
    p.add_argument("--audiences", action="append", metavar="DIR", help="folder of extra audience profiles")
    from .completion import add_command as add_completion

    add_completion(add)
