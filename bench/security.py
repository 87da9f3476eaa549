"""What hostile fact files cost (issue 21): pathological Markdown, one enormous word, a
flood of errors. Each row is one ``briefgen`` command in a child process, with its exit
code, wall and CPU time and peak memory.

Run from the checkout::

    .venv/bin/python bench/security.py [--only NAMES] [--json PATH] [--keep]

Rows (``--only`` takes a comma-separated list of these names):

``plain``          the minimal test case, ``build --audience analyst --format pdf``: the floor
``star-a``         an event summary of ``*a`` x 4,000 (8 KB): ``check``, then ``build``
``nested-strong``  800 nested ``**...**`` (6 KB): ``check``, then ``build``
``long-word``      an event summary of one 49,900-character word: ``build`` as shipped,
                   then with a copy of the built-in CSS whose ``body`` has
                   ``overflow-wrap: anywhere`` (through ``--templates``)
``long-word-text`` the same word in a plain-text field (a judgment's statement)
``flood``          an 8 MB ``events-flood.yaml`` of ``- x`` lines: ``check``

Peak memory is the child's own maximum resident set (``os.wait4``). These are
measurements, not tests: the tests check the behaviour (exit codes, located errors),
never the time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "tests" / "data" / "minimal"
SUMMARY = "summary: North fired **missiles** across the border."
STATEMENT = "statement: North will not strike again"


@dataclass
class Row:
    name: str
    command: str
    exit: int
    wall: float
    cpu: float
    peak_mb: float
    stderr_lines: int
    note: str = ""


def run_child(name: str, args: list[str], cwd: Path, note: str = "") -> Row:
    cmd = [sys.executable, "-m", "briefgen", *args]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").splitlines()
    code = os.waitstatus_to_exitcode(status)
    shown = " ".join(a if len(a) < 40 else a[:37] + "..." for a in args)
    return Row(name, f"briefgen {shown}", code, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, len(lines), note)


def make_case(folder: Path, old: str, new: str, file: str = "events.yaml") -> Path:
    case = folder / "demo"
    shutil.copytree(MINIMAL, case)
    path = case / file
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, file)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return case


def wide_css(folder: Path) -> Path:
    """A template folder holding a copy of the built-in CSS with ``overflow-wrap: anywhere`` on the body."""
    from briefgen.paths import builtin_templates_dir

    css = (builtin_templates_dir() / "briefing.css.j2").read_text(encoding="utf-8")
    body = re.search(r"\nbody \{[^}]*\}", css)
    assert body is not None
    rule = body.group(0)
    if "overflow-wrap" in rule:
        new_rule = re.sub(r"overflow-wrap:[^;]*;", "overflow-wrap: anywhere;", rule)
    else:
        new_rule = rule[:-1] + "  overflow-wrap: anywhere;\n}"
    tpl = folder / "tpl"
    tpl.mkdir()
    (tpl / "briefing.css.j2").write_text(css.replace(rule, new_rule), encoding="utf-8")
    return tpl


def rows_for(name: str, work: Path) -> list[Row]:
    folder = work / name
    folder.mkdir()
    pdf = ["--audience", "analyst", "--format", "pdf", "--force", "--out", str(folder / "out")]
    if name == "plain":
        case = folder / "demo"
        shutil.copytree(MINIMAL, case)
        return [run_child(name, ["build", str(case), *pdf], folder)]
    if name == "star-a":
        case = make_case(folder, SUMMARY, "summary: " + json.dumps("*a" * 4000))
        return [run_child(name, ["check", str(case)], folder), run_child(name, ["build", str(case), *pdf], folder)]
    if name == "nested-strong":
        case = make_case(folder, SUMMARY, "summary: " + json.dumps("**" * 800 + "a" + "**" * 800))
        return [run_child(name, ["check", str(case)], folder), run_child(name, ["build", str(case), *pdf], folder)]
    if name == "long-word":
        case = make_case(folder, SUMMARY, "summary: " + "a" * 49_900)
        return [
            run_child(name, ["build", str(case), *pdf], folder, "built-in CSS"),
            run_child(
                name,
                ["build", str(case), *pdf, "--templates", str(wide_css(folder))],
                folder,
                "body { overflow-wrap: anywhere }",
            ),
        ]
    if name == "long-word-text":
        case = make_case(folder, STATEMENT, "statement: " + "a" * 19_990, "judgments.yaml")
        return [run_child(name, ["build", str(case), *pdf], folder, "19,990 characters (Text's limit is 20,000)")]
    if name == "flood":
        case = folder / "demo"
        shutil.copytree(MINIMAL, case)
        with (case / "events-flood.yaml").open("w", encoding="utf-8") as f:
            f.write("events:\n")
            f.write("- x\n" * (8 * 1024 * 1024 // 4 - 10))
        size = (case / "events-flood.yaml").stat().st_size
        return [run_child(name, ["check", str(case)], folder, f"{size:,} bytes")]
    raise SystemExit(f"unknown row {name}")


NAMES = ["plain", "star-a", "nested-strong", "long-word", "long-word-text", "flood"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated rows: " + ", ".join(NAMES))
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else NAMES
    work = Path(tempfile.mkdtemp(prefix="briefgen-security-bench-"))
    rows: list[Row] = []
    try:
        print(f"{'row':<15} {'exit':>4} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'stderr':>7}  command / note")
        for name in names:
            for row in rows_for(name, work):
                rows.append(row)
                print(
                    f"{row.name:<15} {row.exit:>4} {row.wall:>8.2f} {row.cpu:>8.2f} {row.peak_mb:>8.0f} "
                    f"{row.stderr_lines:>7}  {row.command}" + (f"  [{row.note}]" if row.note else ""),
                    flush=True,
                )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
