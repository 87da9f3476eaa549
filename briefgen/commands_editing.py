"""The commands of the editing loop: diff, watch and serve.

Each one only parses its options and calls the library: :mod:`briefgen.diff` (with
:mod:`briefgen.revisions` for ``REV:PATH``), :mod:`briefgen.watch`, :mod:`briefgen.serve`.
Registered by :func:`briefgen.commands.register`; each command's examples (its help
epilog) live here with it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .errors import CaseInvalid, FactError, UsageError

EXAMPLES = {
    "diff": """examples:
  briefgen diff editions/3 facts/my-case               what changed since the copy of edition 3
  briefgen diff HEAD~1:facts/my-case facts/my-case     what changed since the last commit
  briefgen diff v3:facts/my-case HEAD:facts/my-case --json
  briefgen diff old new --all-fields                   also show re-check dates and checkers""",
    "watch": """examples:
  briefgen watch                                   rebuild every case under facts/ on each save
  briefgen watch facts/my-case --format html       HTML only (fastest)
  briefgen watch facts/my-case --audience analyst --previous editions/3""",
    "serve": """examples:
  briefgen serve facts/my-case                     open http://127.0.0.1:8000/ ; pages reload on save
  briefgen serve facts/my-case --port 8123 --format html
  briefgen serve --host 0.0.0.0                    share on the network (anyone who can reach it can read)""",
}


def cmd_diff(args: argparse.Namespace, con: Any) -> int:
    from .diff import diff_cases, render_json, render_text
    from .revisions import load_spec, parse_spec

    specs = [parse_spec(args.old), parse_spec(args.new)]
    cases = []
    errors: list[FactError] = []
    for spec in specs:
        try:
            cases.append(load_spec(spec))
        except CaseInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise CaseInvalid(errors)
    diff = diff_cases(cases[0], cases[1], include_verification=args.all_fields)
    # The listing is the command's result: printed even with --quiet.
    if args.json:
        con.out.write(render_json(diff))
    else:
        for line in render_text(diff):
            print(line, file=con.out)
    con.out.flush()
    return 0


def _watcher(args: argparse.Namespace, con: Any) -> Any:
    from .cli import _cases
    from .commands import _options
    from .watch import Watcher

    if args.interval <= 0:
        raise UsageError("--interval must be more than 0 seconds")
    return Watcher(_cases(args.cases), _options(args), con, interval=args.interval)


def cmd_watch(args: argparse.Namespace, con: Any) -> int:
    watcher = _watcher(args, con)
    con.info(
        f"watching {len(watcher.case_dirs)} case folder{'s' if len(watcher.case_dirs) != 1 else ''}, "
        "the templates and the audience profiles (Ctrl-C to stop)"
    )
    try:
        watcher.run(max_iterations=args.max_polls)
    except KeyboardInterrupt:
        con.info("stopped watching")
        return 0
    # Only reached with --max-polls: say whether the last build left good outputs.
    return 0 if watcher.status()["ok"] else 1


def cmd_serve(args: argparse.Namespace, con: Any) -> int:
    from .serve import serve

    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535 (0: any free port)")
    watcher = _watcher(args, con)
    return serve(watcher, con, host=args.host, port=args.port, verbose=con.verbose)


def register(add: Callable[..., Any]) -> None:
    """Add diff, watch and serve to the parser (``add`` is cli.build_parser's helper)."""
    from .commands import add_build_options

    p = add("diff", cmd_diff, "list what changed between two versions of a case")
    p.epilog = EXAMPLES["diff"]
    p.add_argument("old", metavar="OLD", help="the older case: a folder, or REV:PATH for a folder at a git revision")
    p.add_argument("new", metavar="NEW", help="the newer case: a folder, or REV:PATH")
    p.add_argument("--json", action="store_true", help="print the changes as JSON (values in full)")
    p.add_argument(
        "--all-fields",
        action="store_true",
        help="also report verification bookkeeping (checked_on, checked_by) that changes at every re-check",
    )

    def loop_options(p: argparse.ArgumentParser) -> None:
        add_build_options(p)
        p.add_argument(
            "--interval",
            type=float,
            default=0.5,
            metavar="SECONDS",
            help="how often to look for saved files (default 0.5)",
        )

    p = add("watch", cmd_watch, "rebuild the briefings whenever facts, templates or profiles are saved")
    p.epilog = EXAMPLES["watch"]
    loop_options(p)
    p.add_argument(
        "--max-polls",
        type=int,
        default=None,
        metavar="N",
        help="stop after N scans (for scripts and tests); exit 1 if the last build failed",
    )

    p = add("serve", cmd_serve, "serve the briefings on localhost, rebuilt and reloaded in the browser on save")
    p.epilog = EXAMPLES["serve"]
    loop_options(p)
    p.add_argument(
        "--port", type=int, default=8000, metavar="N", help="port to listen on (default 8000; 0: any free port)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1, this machine only)",
    )
