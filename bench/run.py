"""briefgen's benchmark: the figures users feel, against their targets, in one run.

    .venv/bin/python bench/run.py [--quick] [--json PATH] [--only PARTS] [--keep]

Prints a machine line, one table per part and a PASS/FAIL summary, and writes every
figure as JSON (default ``bench/results.json``: one machine at one moment, not committed).
What each part measures and how: bench/README.md. Every part fails soft: an error is
reported in its row (its targets count as ERROR) and the run goes on.

Child processes are measured alone with ``os.wait4``: wall time, CPU time (user + system,
reaped descendants included) and peak memory (the largest resident set of the child or of
any of its descendants). bench/workers.py holds the measurements made inside one process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CASE = ROOT / "facts" / "iran-pakistan-2024"
REFERENCE_PAGE = BENCH / "reference-page.html"
BRIEFINGS = ("executive", "analyst", "public")
"""The briefing editions rebuilt after one fact edit (not the evidence record)."""
PARTS = ("check", "pdf", "rebuild", "distribute", "scale", "patho")
RECIPIENTS = 100
GIB = 1024**3

TARGETS = {  # name: (limit, what, part); a figure at or under its limit passes
    "check_s": (0.3, "briefgen check, default case (wall s)", "check"),
    "check_10x_s": (0.6, "briefgen check, 10x case (wall s)", "check"),
    "pdf_ratio": (1.10, "PDF pipeline / WeasyPrint alone (CPU)", "pdf"),
    "noop_rebuild_s": (0.5, "no-op rebuild of all outputs (wall s)", "rebuild"),
    "one_fact_ratio": (0.4, "one-fact rebuild of 3 editions / reference page (wall)", "rebuild"),
    "distribute_ratio": (3.0, f"distribute to {RECIPIENTS} / one render (wall)", "distribute"),
    "html_10x_s": (1.5, "analyst HTML build, 10x case (wall s)", "scale"),
}


@dataclass
class Run:
    wall: float
    cpu: float
    rss: int
    rc: int
    out: str
    err: str  # its last ``err_tail`` characters
    problem_lines: int  # lines of stderr located as file:line:col
    timed_out: bool

    def last(self) -> str:
        """The last line it printed; if it failed, the last error line (stderr first)."""
        for text in (self.err, self.out) if self.rc else (self.out, self.err):
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            errors = [ln for ln in lines if "error" in ln] if self.rc else []
            if lines:
                return (errors or lines)[-1][:90]
        return ""


LOCATED = re.compile(rb"^\S.*:\d+:\d+: ")


def run_child(
    cmd: list[str], timeout: float = 900, mem_cap: int | None = None, env: dict[str, str] | None = None,
    err_tail: int = 20_000,
) -> Run:  # fmt: skip
    """Run ``cmd`` in a session of its own, whose process group is killed past ``timeout`` s;
    ``mem_cap`` bytes of address space per process make a runaway fail, not the machine."""

    def cap() -> None:
        import resource

        assert mem_cap is not None
        resource.setrlimit(resource.RLIMIT_AS, (mem_cap, mem_cap))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
            preexec_fn=cap if mem_cap else None, env={**os.environ, **(env or {})},
        )  # fmt: skip
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        err.seek(0)
        located = sum(1 for line in err if LOCATED.match(line))
        err.seek(max(0, err.tell() - err_tail))
        tail = err.read().decode("utf-8", "replace")
    cpu = ru.ru_utime + ru.ru_stime
    return Run(wall, cpu, ru.ru_maxrss * 1024, p.returncode, text, tail, located, killed.is_set())


def briefgen(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("briefgen")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "briefgen", *args]


def worker(*args: str) -> list[str]:
    return [sys.executable, str(BENCH / "workers.py"), *args]


def ok(run: Run, what: str) -> Run:
    if run.rc != 0 or run.timed_out:
        raise RuntimeError(f"{what}: {'timed out' if run.timed_out else f'exit {run.rc}'}: {run.last()}")
    return run


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def med(runs: list[Run]) -> dict[str, float]:
    """Median wall and CPU, largest peak memory, of repeated runs."""
    wall, cpu = median([r.wall for r in runs]), median([r.cpu for r in runs])
    return {"wall": wall, "cpu": cpu, "rss": max(r.rss for r in runs), "n": len(runs)}


def secs(s: float | None) -> str:
    return "-" if s is None else f"{s:.3f}" if s < 10 else f"{s:.1f}"


def mib(b: float | None) -> str:
    return "-" if not b else f"{b / 2**20:,.0f} MiB"


def cols(m: dict[str, Any]) -> list[str]:
    """Wall, CPU and peak memory of a :func:`med`, as table cells."""
    return [secs(m.get("wall")), secs(m.get("cpu")), mib(m.get("rss"))]


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    """Rows as wide as the header are aligned; shorter ones (errors) only by their first cell."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    full = [r for r in cells if len(r) == len(header)]
    width = [max(len(r[i]) for r in full + [r[:1] for r in cells] if i < len(r)) for i in range(len(header))]
    print(f"\n{title}")
    for k, r in enumerate(cells):
        aligned = r if len(r) == len(header) else r[:1]
        print(
            "  " + "  ".join([*(c.ljust(w) for c, w in zip(aligned, width, strict=False)), *r[len(aligned) :]]).rstrip()
        )
        if k == 0:
            print("  " + "  ".join("-" * w for w in width))
    sys.stdout.flush()


class Ctx:
    """What the parts share: settings, the audiences, the figures (``data``), the 10x case."""

    def __init__(self, quick: bool, work: Path):
        self.quick, self.work = quick, work
        self.data: dict[str, Any] = {"quick": quick, "parts": {}, "targets": {}}
        self.audiences: list[str] = list(BRIEFINGS)
        self.x10_info: dict[str, Any] = {}
        self._x10: Path | None = None

    def n(self, quick: int, full: int) -> int:
        return quick if self.quick else full

    def x10(self) -> Path:
        """The 10x case, made by bench/synth.py on first use."""
        if self._x10 is None:
            out = self.work / "x10" / f"{CASE.name}-x10"
            run = ok(run_child([sys.executable, str(BENCH / "synth.py"), str(CASE), "10", str(out)]), "synth.py")
            self.x10_info = json.loads(run.out.splitlines()[-1])
            self._x10 = out
        return self._x10

    def target(self, key: str, value: Any, label: str = "", error: str = "", shown: Any = None) -> str:
        """Record a figure against its target (``key``: a TARGETS name, or ``name:label``),
        or a yes/no criterion (any other key, ``value`` a bool, ``label`` says what it is).
        Returns PASS, FAIL or ERROR (no figure)."""
        limit, what, _ = TARGETS.get(key.split(":")[0], (None, "", ""))
        passed = None if value is None or value != value else value if limit is None else value <= limit
        verdict = "ERROR" if passed is None else "PASS" if passed else "FAIL"
        entry = {"what": f"{what} [{label}]" if what and label else what or label, "limit": limit}
        shown = value if shown is None and limit is not None else shown
        self.data["targets"][key] = {**entry, "value": shown, "verdict": verdict, **({"error": error} if error else {})}
        return verdict


class Table:
    """One part: its table rows and its figures (``data``, in the JSON)."""

    def __init__(self, ctx: Ctx, part: str, title: str, header: list[str]):
        self.ctx, self.title, self.header = ctx, title, header
        self.rows: list[list[Any]] = []
        self.data: dict[str, Any] = ctx.data["parts"].setdefault(part, {})

    def add(self, *cells: Any) -> None:
        self.rows.append(list(cells))

    @contextlib.contextmanager
    def row(self, label: str, *targets: tuple[str, str]) -> Iterator[None]:
        """Fail soft: an exception in the block becomes an ERROR row, and ERROR for each
        ``(target key, label)``."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - reported, and the run goes on
            msg = f"{type(exc).__name__}: {exc}"
            for key, sub in targets:
                self.ctx.target(key, None, sub, error=msg)
            self.data[label] = {"error": msg}
            self.add(label, "ERROR", msg[:110])

    def show(self) -> None:
        print_table(self.title, self.header, self.rows)


def part_check(ctx: Ctx) -> None:
    """`briefgen check` of the default and the 10x case as child processes; their imports."""
    n = ctx.n(5, 15)
    header = ["case", "wall s", "cpu s", "peak mem", "modules", "weasyprint?", "target", "", "no weasyprint"]
    t = Table(ctx, "check", f"1. briefgen check (child process, start-up included, median of {n})", header)
    for label, key in (("default", "check_s"), ("10x", "check_10x_s")):
        with t.row(label, (key, label)):
            case = str(CASE if label == "default" else ctx.x10())
            m = med([ok(run_child(briefgen("check", case)), f"check {label}") for _ in range(n)])
            env = {"PYTHONPROFILEIMPORTTIME": "1"}
            prof = ok(run_child(briefgen("check", case), env=env, err_tail=2**24), "check -X importtime")
            names = [ln.split("|")[-1].strip() for ln in prof.err.splitlines() if ln.startswith("import time:")][1:]
            heavy = any(name.split(".")[0] == "weasyprint" for name in names)
            t.data[label] = {**m, "modules": len(names), "imports_weasyprint": heavy}
            v = ctx.target(key, m["wall"], label)
            what = f"check does not import WeasyPrint [{label}]"
            w = ctx.target(f"check_no_weasyprint:{label}", not heavy, what, shown=f"{len(names)} modules")
            t.add(label, *cols(m), len(names), "yes" if heavy else "no", f"<= {TARGETS[key][0]}", v, w)
    t.show()


def part_pdf(ctx: Ctx) -> None:
    """The whole PDF pipeline vs WeasyPrint alone on the same HTML, warm, in one worker."""
    title = (
        "2. PDF pipeline (load, view, render, self-check, lay_out) vs WeasyPrint alone on the same HTML "
        "(one warm worker, interleaved rounds; medians)"
    )
    header = ["audience", "pages", "rounds", "pipeline cpu", "weasyprint cpu", "ratio cpu", "ratio wall", "", ""]
    t = Table(ctx, "pdf", title, header)
    with t.row("worker", *((f"pdf_ratio:{a}", a) for a in ctx.audiences)):
        args = ("warm", str(CASE), ",".join(ctx.audiences), str(ctx.n(3, 7)), str(ctx.n(4, 30)))
        got = json.loads(ok(run_child(worker(*args), timeout=7200), "warm worker").out.splitlines()[-1])
        t.data.update(got)
        for name in ctx.audiences:
            with t.row(name, (f"pdf_ratio:{name}", name)):
                r = got[name]
                if "error" in r:
                    raise RuntimeError(r["error"])
                pipe, floor = median(r["pipeline_cpu"]), median(r["floor_cpu"])
                r["ratio_cpu"], r["ratio_wall"] = pipe / floor, median(r["pipeline_wall"]) / median(r["floor_wall"])
                v = ctx.target(f"pdf_ratio:{name}", r["ratio_cpu"], name)
                ratios = f"{r['ratio_cpu']:.3f}", f"{r['ratio_wall']:.3f}"
                t.add(name, r["pages"], len(r["floor_cpu"]), secs(pipe), secs(floor), *ratios, "<= 1.10", v)
    t.show()


def change_title(case_dir: Path, n: int) -> str:
    """Append ' (rev n)' to the first event title written on one line; returns file:line."""
    title = re.compile(r"^(\s*(?:- )?title:\s*)(.+?)\s*$")
    for f in sorted(case_dir.glob("events*.yaml")):
        lines = f.read_text(encoding="utf-8").split("\n")
        for i, text in enumerate(lines):
            m = title.match(text)
            if not m or m.group(2)[0] in "|>&*!":
                continue
            value, q = m.group(2), m.group(2)[0]
            if q in "'\"":
                if len(value) < 2 or not value.endswith(q):
                    continue
                lines[i] = f"{m.group(1)}{value[:-1]} (rev {n}){q}"
            else:
                lines[i] = f"{m.group(1)}{value} (rev {n})"
            f.write_text("\n".join(lines), encoding="utf-8")
            return f"{f.name}:{i + 1}"
    raise RuntimeError(f"{case_dir}: no one-line event title to edit")


def part_rebuild(ctx: Ctx) -> None:
    """No-op rebuild of every output; rebuild of the three briefings after one fact edit."""
    t = Table(
        ctx, "rebuild", "3-4. rebuilds of a copy of the default case (child processes; medians)",
        ["what", "wall s", "cpu s", "peak mem", "briefgen said", "target", ""],
    )  # fmt: skip
    copy, out = ctx.work / "rebuild" / CASE.name, ctx.work / "rebuild-out"
    shutil.copytree(CASE, copy)
    build = briefgen("build", str(copy), "--out", str(out))
    with t.row("no-op rebuild", ("noop_rebuild_s", "")):
        full = ok(run_child(build), "first full build")
        noops = [ok(run_child(build), "no-op rebuild") for _ in range(ctx.n(3, 9))]
        idle = all("nothing to do" in r.out for r in noops)  # else it rebuilt something: FAIL
        m = t.data["noop"] = med(noops)
        t.data.update(full=med([full]), noop_said=noops[-1].last(), nothing_to_do=idle)
        v = ctx.target("noop_rebuild_s", m["wall"] if idle else float("inf"))
        t.add("first full build (all outputs)", *cols(med([full])), full.last(), "", "")
        t.add(f"no-op rebuild (median of {m['n']})", *cols(m), noops[-1].last(), "<= 0.5 s", v)
    with t.row("one-fact rebuild", ("one_fact_ratio", "")):
        editions = [a for a in BRIEFINGS if a in ctx.audiences]
        cmd = [*build, *(x for a in editions for x in ("--audience", a))]
        rebuilds: list[Run] = []
        refs: list[Run] = []
        where = ""
        for i in range(ctx.n(2, 5)):  # interleaved, alternating which goes first
            for what in ("rebuild", "reference") if i % 2 == 0 else ("reference", "rebuild"):
                if what == "rebuild":
                    where = change_title(copy, i + 1)
                    rebuilds.append(ok(run_child(cmd), "one-fact rebuild"))
                else:
                    refs.append(ok(run_child(worker("weasyprint", str(REFERENCE_PAGE))), "reference page"))
        rb, ref = med(rebuilds), med(refs)
        ratio, ratio_cpu = rb["wall"] / ref["wall"], rb["cpu"] / ref["cpu"]
        t.data.update(one_fact=rb, reference=ref, ratio_wall=ratio, ratio_cpu=ratio_cpu, edited=where)
        t.data.update(editions=editions, said=rebuilds[-1].last())
        v = ctx.target("one_fact_ratio", ratio, "+".join(editions))
        missing = sorted(set(BRIEFINGS) - set(editions))
        note = f"missing editions: {', '.join(missing)}" if missing else rebuilds[-1].last()
        t.add(f"one fact edited ({where}), rebuild {'+'.join(editions)}", *cols(rb), note, "", "")
        pages = json.loads(refs[-1].out)["pages"]
        t.add("WeasyPrint alone: reference-page.html, own process", *cols(ref), f"{pages} pages", "", "")
        t.add(f"ratio (wall; cpu {ratio_cpu:.2f})", f"{ratio:.3f}", "", "", "", "<= 0.4", v)
    t.show()


def part_distribute(ctx: Ctx) -> None:
    """`briefgen distribute` to 100 recipients of one audience vs one PDF build of it."""
    n = ctx.n(1, 3)
    t = Table(
        ctx, "distribute",
        f"5. distribution to {RECIPIENTS} recipients vs one PDF build of the same audience (median of {n})",
        ["audience", "copies", "distribute s", "peak mem", "one render s", "peak mem", "ratio", "target", ""],
    )  # fmt: skip
    chosen = [a for a in (("executive",) if ctx.quick else BRIEFINGS) if a in ctx.audiences] or ctx.audiences[:1]
    for name in chosen:
        with t.row(name, (f"distribute_ratio:{name}", name)):
            people = "".join(
                f"  - {{name: Recipient {i:03d}, organisation: Org {i % 7}, audience: {name}}}\n"
                for i in range(1, RECIPIENTS + 1)
            )
            lst = ctx.work / f"list-{name}.yaml"
            lst.write_text(f"case: {CASE}\nrecipients:\n{people}", encoding="utf-8")
            dist: list[Run] = []
            one: list[Run] = []
            copies = 0
            for i in range(n):
                d_out, b_out = ctx.work / f"dist-{name}-{i}", ctx.work / f"one-{name}-{i}"
                render = ("build", str(CASE), "--audience", name, "--format", "pdf", "--force", "-q")
                for what in ("distribute", "render") if i % 2 == 0 else ("render", "distribute"):
                    if what == "distribute":
                        dist.append(ok(run_child(briefgen("distribute", str(lst), "--out", str(d_out), "-q")), what))
                    else:
                        one.append(ok(run_child(briefgen(*render, "--out", str(b_out))), what))
                copies = len(list(d_out.rglob("copy-*.pdf")))
                shutil.rmtree(d_out, ignore_errors=True)
                shutil.rmtree(b_out, ignore_errors=True)
            d, b = med(dist), med(one)
            ratio = d["wall"] / b["wall"]
            t.data[name] = {"distribute": d, "one_render": b, "ratio": ratio, "copies": copies}
            v = ctx.target(f"distribute_ratio:{name}", ratio if copies == RECIPIENTS else float("inf"), name)
            t.add(
                name, copies, secs(d["wall"]), mib(d["rss"]), secs(b["wall"]), mib(b["rss"]), f"{ratio:.2f}", "<= 3", v
            )
    t.show()


def part_scale(ctx: Ctx) -> None:
    """The 10x case: its check (from part 1) and the analyst HTML build."""
    t = Table(ctx, "scale", "6. 10x case", ["what", "wall s", "cpu s", "peak mem", "target", ""])
    with t.row("analyst HTML build", ("html_10x_s", "")):
        case = ctx.x10()
        info = t.data["case"] = ctx.x10_info
        t.title += f" (bench/synth.py: {sum(info['items'].values())} items, {info['bytes'] / 2**20:.1f} MiB of YAML)"
        check = ctx.data["parts"].get("check", {}).get("10x", {})
        verdict = ctx.data["targets"].get("check_10x_s", {}).get("verdict", "not run")
        t.add("briefgen check (part 1)", *cols(check), "<= 0.6 s", verdict)
        if "analyst" not in ctx.audiences:
            raise RuntimeError("no 'analyst' audience")
        # Ten times the items run ten times over the analyst budget: build it with the
        # built-in analyst profile minus its budget lines (a profile of the same name wins).
        unbudgeted = ctx.work / "x10-audiences"
        unbudgeted.mkdir(exist_ok=True)
        profile = (ROOT / "templates" / "audiences" / "analyst.yaml").read_text(encoding="utf-8")
        (unbudgeted / "analyst.yaml").write_text(
            "".join(ln for ln in profile.splitlines(keepends=True) if not ln.startswith(("max_pages:", "max_words:"))),
            encoding="utf-8",
        )
        cmd = briefgen(
            "build", str(case), "--audience", "analyst", "--audiences", str(unbudgeted), "--format", "html", "--force",
            "-q", "--out",
        )  # fmt: skip
        m = t.data["html"] = med([ok(run_child([*cmd, str(ctx.work / "x10-out")]), "HTML") for _ in range(ctx.n(2, 5))])
        t.add(f"analyst HTML build (median of {m['n']})", *cols(m), "<= 1.5 s", ctx.target("html_10x_s", m["wall"]))
    t.show()


def part_patho(ctx: Ctx) -> None:
    """Issue 21: hostile fact text. Time, peak memory and outcome of each child."""
    sys.path.insert(0, str(BENCH))
    from synth import synthesize

    timeout, cap = ctx.n(300, 900), 12 * GIB
    t = Table(
        ctx, "patho",
        f"7. pathological input (issue 21), each in its own process (killed after {timeout} s, {cap // GIB} GiB "
        "address space); build = every audience, --format pdf; handled = exit 0 or 1, <= 1000 located lines, "
        "build CPU <= 1.5 x the plain case's",
        ["input", "command", "wall s", "cpu s", "peak mem", "outcome", "located lines", "last line", "handled"],
    )  # fmt: skip

    def variant(name: str, summary: str | None = None) -> Path:
        """The default case (rewritten by synth.py), with ``summary`` in one event: a key one
        (shown in every edition) if any; for ``stars-max``, one only the evidence record shows,
        so that the briefings' word budgets do not refuse the 200 words it adds."""
        out = ctx.work / "patho" / name / CASE.name
        if out.exists():
            return out

        def plant(items: dict[str, list[Any]]) -> None:
            if summary is not None:
                key = name != "stars-max"
                event = next((e for e in items["events"] if (e.get("key") is True) == key), items["events"][0])
                event["summary"] = summary

        synthesize(CASE, 1, out, edit=plant)
        if name == "flood":
            (out / "events-flood.yaml").write_bytes(b"events:\n" + b"- x\n" * 2_000_000)
        return out

    inputs = [
        ("plain case (for comparison)", "plain", None, ("build",)),
        ("'*a' x 4000 (8 KB) in an event summary", "stars", "*a" * 4000, ("check", "build")),
        ("800 nested '**' in an event summary", "nested", "**" * 800 + "x" + "**" * 800, ("check", "build")),
        ("'*a ' x 200 in a dossier-only event summary (the most markup allowed)", "stars-max", "*a " * 200, ("build",)),
        ("one 49,900-character word in an event summary", "word", "w" * 49_900, ("check", "build")),
        ("one 300-character word (the longest allowed)", "word-max", "w" * 300, ("build",)),
        ("8 MB events file of '- x' lines, beside the case", "flood", None, ("check",)),
    ]
    plain_cpu: float | None = None
    for label, name, summary, commands in inputs:
        for command in commands:
            key = f"{label} / {command}"
            with t.row(key, (f"patho:{key}", f"issue 21 handled: {key}")):
                case = variant(name, summary)
                args = ["check", str(case)] if command == "check" else ["build", str(case), "--format", "pdf"]
                if command == "build":
                    args += ["--force", "--out", str(case.parent / "out")]
                r = run_child(briefgen(*args), timeout=timeout, mem_cap=cap)
                said = r.last().replace(f"{case.parent}/", "")
                outcome = "timed out" if r.timed_out else {0: "ok", 1: "refused (exit 1)"}.get(r.rc, f"exit {r.rc}")
                t.data[key] = {"wall": r.wall, "cpu": r.cpu, "rss": r.rss, "rc": r.rc, "timed_out": r.timed_out,
                               "problem_lines": r.problem_lines, "said": said}  # fmt: skip
                if name == "plain":
                    plain_cpu, verdict = (r.cpu if r.rc == 0 else None), "-"
                else:
                    # A located refusal or a build, never exit 3 or a stall; problems capped;
                    # layout time proportional to the length of the text.
                    handled = not r.timed_out and r.rc in (0, 1) and r.problem_lines <= 1000
                    if command == "build" and r.rc == 0:
                        handled = handled and plain_cpu is not None and r.cpu <= 1.5 * plain_cpu
                    shown = f"{outcome}, {r.cpu:.1f} s cpu, {r.problem_lines} located lines"
                    verdict = ctx.target(f"patho:{key}", handled, f"issue 21 handled: {key}", shown=shown)
                t.add(label, command, *cols(med([r])), outcome, r.problem_lines, said[:60], verdict)
    t.show()


def machine() -> dict[str, Any]:
    def version(dist: str) -> str:
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
        return "-"

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cpu": models[0] if models else platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "load": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        **{name: version(name) for name in ("briefgen", "weasyprint", "pydantic", "jinja2", "pyyaml")},
        "commit": commit.stdout.strip(),
    }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="briefgen's benchmark (see bench/README.md)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--json", type=Path, default=BENCH / "results.json", help="where to write the figures")
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts among {','.join(PARTS)}")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if unknown := set(parts) - set(PARTS):
        ap.error(f"unknown parts: {', '.join(sorted(unknown))}")

    ctx = Ctx(args.quick, Path(tempfile.mkdtemp(prefix="briefgen-bench-")))
    m = ctx.data["machine"] = machine()
    print(
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), load {m['load']}; "
        f"Python {m['python']}, briefgen {m['briefgen']} ({m['commit']}), WeasyPrint {m['weasyprint']}, "
        f"pydantic {m['pydantic']}, Jinja {m['jinja2']}, PyYAML {m['pyyaml']}"
    )
    t0 = time.perf_counter()
    try:
        try:  # the audiences as they are now: new ones may have been added
            listed = ok(run_child(briefgen("audiences")), "briefgen audiences").out.splitlines()
            ctx.audiences = [ln.split()[0] for ln in listed if ln.strip()]
        except Exception as exc:  # noqa: BLE001
            print(f"cannot list the audiences ({exc}); assuming {', '.join(BRIEFINGS)}")
        ctx.data["audiences"] = ctx.audiences
        print(f"case: {CASE}; audiences: {', '.join(ctx.audiences)}")
        runners = {"check": part_check, "pdf": part_pdf, "rebuild": part_rebuild}
        runners.update(distribute=part_distribute, scale=part_scale, patho=part_patho)
        for part in parts:
            try:
                runners[part](ctx)
            except Exception as exc:  # noqa: BLE001 - one part failing must not stop the others
                print(f"\npart {part} failed: {type(exc).__name__}: {exc}")
                ctx.data["parts"].setdefault(part, {})["error"] = traceback.format_exc()
            for key, (_, _, owner) in TARGETS.items():  # a target the part never reached
                if owner == part and not any(k.split(":")[0] == key for k in ctx.data["targets"]):
                    ctx.target(key, None, error="not measured")
    finally:
        if args.keep:
            print(f"\nkept {ctx.work}")
        else:
            shutil.rmtree(ctx.work, ignore_errors=True)

    m["load_after"] = [round(x, 2) for x in os.getloadavg()]
    ctx.data["seconds"] = time.perf_counter() - t0
    rows = []
    for target in ctx.data["targets"].values():
        value, limit = target["value"], target["limit"]
        shown = f"{value:.3f}" if isinstance(value, float) and abs(value) < float("inf") else value
        rows.append([target["what"], "-" if shown is None else shown, "" if limit is None else f"<= {limit}"])
        rows[-1].append(target["verdict"])
    title = f"summary ({ctx.data['seconds'] / 60:.1f} min; load average after {m['load_after']})"
    print_table(title, ["target", "value", "limit", ""], rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(ctx.data, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
