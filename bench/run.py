"""briefgen's benchmark: how fast and how lean each command is, against targets.

Run from the checkout::

    .venv/bin/python bench/run.py [--quick] [--json PATH] [--only SECTIONS] [--keep]

It prints one table per part and writes every figure as JSON (default
``bench/results.json``; do not commit it). The parts:

``machine``   CPU, cores, memory, load, Python/WeasyPrint/pydantic/PyYAML versions.
``default``   The default case (``facts/iran-pakistan-2024`` when it validates, else
              ``tests/data/minimal``, and the run says why):

              * ``briefgen check`` as a child process (interpreter start-up included),
                median of N, and its imports (``-X importtime``: WeasyPrint must not load);
              * per audience, *cold*: ``briefgen build --format html`` and ``--format pdf``
                as child processes, interleaved with a child that runs WeasyPrint alone on
                the same HTML with the same font stylesheet (the floor);
              * per audience, *warm*, in one worker process: the whole PDF pipeline (load,
                validate, view, HTML, self-check, PDF) against WeasyPrint alone on that HTML
                with the same stylesheet object and font configuration, interleaved in
                alternating order, median of N; and how often fonts were configured.
``synth``     The default case repeated 1x, 10x, 100x, 1000x by ``bench/synth.py``: check,
              HTML build and PDF build (analyst audience, the fullest; PDF up to 100x
              only), wall and CPU time, peak memory, pages, and the growth exponent
              ``log(t2/t1) / log(n2/n1)`` between sizes.
``rebuild``   A full ``briefgen build`` of a copy of the default case, then a no-op rebuild
              and a rebuild after one fact changed.
``distribute`` ``briefgen distribute`` to 100 recipients of one audience against one PDF
              build of that audience (when the command exists).

Peak memory is each child's own maximum resident set (``os.wait4``), so it includes
the interpreter and every library the command loads. Times are wall-clock seconds;
CPU (user+system) is shown beside them because other work on the machine inflates
wall time but hardly CPU time (the ``load`` line of the machine table says how busy
it was). ``--quick`` (about two minutes) uses fewer repeats, sizes up to 100x and a PDF
at 1x only.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASE = ROOT / "facts" / "iran-pakistan-2024"
FALLBACK_CASE = ROOT / "tests" / "data" / "minimal"
SYNTH_AUDIENCE = "analyst"
DIST_RECIPIENTS = 100
GRID_DIAGNOSIS_CSS = ".columns { display: block !important; }"
"""The built-in templates' one grid whose cells can run over many pages (rationales per party)."""
GIB = 1024**3
MIN_FLOOR_CPU_S = 40.0
MAX_WARM_ROUNDS = 60

# Targets (issue 8).
T_CHECK_S = 0.3
T_PDF_RATIO = 1.10
T_PRE_PDF_SHARE = 0.10
T_CHECK_1000_S = 5.0
T_HTML_1000_S = 10.0
T_MEM_1000_B = 1 * GIB
T_NOOP_S = 0.5
T_DIST_RATIO = 3.0


# ---------------------------------------------------------------- child processes


@dataclass
class Run:
    """One child process: wall and CPU seconds, peak resident memory, exit code, output."""

    wall: float
    cpu: float
    rss: int
    rc: int
    out: str
    err: str
    timed_out: bool = False


def run_child(
    cmd: list[str],
    cwd: Path | None = None,
    mem_cap: int | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    tree: bool = False,
) -> Run:
    """Run ``cmd`` and measure it alone (its own rusage, reaped with ``wait4``).
    ``mem_cap`` bytes of address space, if given, make a runaway child fail instead of
    exhausting the machine; past ``timeout`` seconds it is killed (``timed_out``).
    ``tree``: the peak memory is the larger of the child's own peak and the largest sum
    of resident memory over it and all its descendants (the page helper, parse workers),
    sampled every 20 ms (pages they share count in each: an upper bound)."""

    def cap() -> None:
        if mem_cap:
            resource.setrlimit(resource.RLIMIT_AS, (mem_cap, mem_cap))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=err,
            cwd=cwd or ROOT,
            stdin=subprocess.DEVNULL,
            preexec_fn=cap if mem_cap else None,
            env=None if env is None else {**os.environ, **env},
        )
        timed_out = False
        peaks = [0]
        done = threading.Event()
        sampler = None
        if tree:  # (a thread samples; this one waits, so the wall time is exact)

            def sample() -> None:
                while not done.wait(0.02):
                    peaks.append(max(peaks.pop(), tree_rss(p.pid)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        if timeout is None:
            _, status, ru = os.wait4(p.pid, 0)
        else:
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - t0 > timeout:
                    timed_out = True
                    os.kill(p.pid, signal.SIGKILL)
                    _, status, ru = os.wait4(p.pid, 0)
                    break
                time.sleep(0.2)
        wall = time.perf_counter() - t0
        done.set()
        if sampler is not None:
            sampler.join()
        tree_peak = peaks[0]
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall,
            ru.ru_utime + ru.ru_stime,
            max(ru.ru_maxrss * 1024, tree_peak),
            p.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            timed_out,
        )


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants now (0 for any that are gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def own_peak_rss() -> int:
    """This process's own resident peak. Linux carries it into every child's rusage (the
    child starts as a copy of it), so it is the floor of the peaks reported: keep it small
    (the heavy work, even generating synthetic cases, runs in children)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def must(run: Run, what: str) -> Run:
    if run.rc != 0:
        raise SystemExit(f"bench: {what} failed (exit {run.rc}):\n{run.out[-2000:]}\n{run.err[-4000:]}")
    return run


def briefgen_cmd() -> list[str]:
    """The installed console script (what users run), else ``python -m briefgen``."""
    script = Path(sys.executable).parent / "briefgen"
    return [str(script)] if script.exists() else [sys.executable, "-m", "briefgen"]


def worker_cmd(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", *args]


@dataclass
class Stat:
    """Median and spread of repeated child runs."""

    n: int
    wall: float
    wall_min: float
    wall_max: float
    cpu: float
    rss: int

    @classmethod
    def of(cls, runs: list[Run]) -> Stat:
        walls = [r.wall for r in runs]
        return cls(
            len(runs),
            statistics.median(walls),
            min(walls),
            max(walls),
            statistics.median(r.cpu for r in runs),
            max(r.rss for r in runs),
        )


# ---------------------------------------------------------------- formatting


def mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def secs(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [f"\n== {title} ==", "  ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)), line]
    for r in cells[1:]:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(out)


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "weasyprint": version("weasyprint"),
        "pydantic": version("pydantic"),
        "pyyaml": version("PyYAML"),
        "libyaml": importlib.util.find_spec("yaml._yaml") is not None,
        "yamlfast": importlib.util.find_spec("briefgen._yamlfast") is not None,
        "htmlscan": importlib.util.find_spec("briefgen._htmlscan") is not None,
        "launcher_peak_rss": own_peak_rss(),
        "jinja2": version("jinja2"),
        "briefgen": version("briefgen"),
    }


# ---------------------------------------------------------------- workers (child side)


def worker_warm(case_dir: str, audiences: str, repeats: int, out_dir: str) -> None:
    """In one process: the PDF pipeline against WeasyPrint alone, interleaved; prints JSON."""
    import weasyprint.text.fonts as wfonts

    configured = [0]
    original_init = wfonts.FontConfiguration.__init__

    def counting_init(self: Any, *a: Any, **k: Any) -> None:
        configured[0] += 1
        original_init(self, *a, **k)

    wfonts.FontConfiguration.__init__ = counting_init

    from weasyprint import HTML

    from briefgen import pdf as bpdf
    from briefgen import richtext
    from briefgen.briefing.audiences import load_audiences
    from briefgen.briefing.render import render_html
    from briefgen.briefing.view import build_view
    from briefgen.facts.loader import gc_paused, load_case
    from briefgen.output.build import _check_html
    from briefgen.paths import builtin_templates_dir

    out = Path(out_dir)
    names = audiences.split(",")
    profiles = load_audiences([])

    def pipeline(name: str) -> tuple[dict[str, float], str, bytes, int]:
        aud = profiles[name]
        user_dirs = (aud.templates_dir,) if aud.templates_dir else ()
        allowed = (aud.logo_path,) if aud.logo_path else ()
        # A fresh build converts every Markdown text once: do not let runs share the cache.
        richtext.md_block.cache_clear()
        richtext.md_inline.cache_clear()
        c0 = time.process_time()
        t = [time.perf_counter()]
        case = load_case(case_dir)
        t.append(time.perf_counter())
        with gc_paused():  # as briefgen build runs view and render (else a collection
            # pass over WeasyPrint's leftovers lands in one of them now and then)
            view = build_view(case, aud)
            t.append(time.perf_counter())
            html = render_html(view, user_dirs)
            t.append(time.perf_counter())
            _check_html(html, out / f"{name}.html")
            t.append(time.perf_counter())
        c1 = time.process_time()
        data, pages = bpdf.render_pdf_counted(html, user_dirs=user_dirs, allowed_files=allowed)
        t.append(time.perf_counter())
        c2 = time.process_time()
        stages = dict(
            zip(
                ("load", "view", "html", "selfcheck", "pdf"),
                (b - a for a, b in zip(t, t[1:], strict=False)),
                strict=True,
            )
        )
        stages["total"] = t[-1] - t[0]
        stages["cpu_pre_pdf"] = c1 - c0
        stages["cpu_total"] = c2 - c0
        return stages, html, data, pages

    def floor(html: str, collector: bool = False) -> dict[str, float]:
        """WeasyPrint alone; with ``collector``, under briefgen's setting of Python's cycle
        collector for layouts (bpdf._layout_collector), else Python's default."""
        c0, t0 = time.process_time(), time.perf_counter()
        with bpdf._layout_collector() if collector else contextlib.nullcontext():
            doc = HTML(string=html, base_url=builtin_templates_dir().as_uri() + "/")
            rendered = doc.render(stylesheets=[bpdf._font_stylesheet()], font_config=bpdf.font_config(), pdf_tags=True)
            rendered.write_pdf(pdf_identifier=b"0" * 32, pdf_tags=True, attachments=[])
        return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}

    steps = ("pipeline", "floor", "floor_gc")

    def turn(k: int) -> tuple[str, ...]:
        """The three measurements, each first in turn from round to round."""
        return steps[k % 3 :] + steps[: k % 3]

    result: dict[str, Any] = {n: {"pipeline": [], "floor": [], "floor_gc": []} for n in names}
    # Warm-up (not counted): imports, template compilation, font set-up, first layout.
    stages, html, data, pages = pipeline(names[0])
    result["warmup_s"] = stages["total"]
    htmls: dict[str, str] = {}
    for r in range(repeats):
        order = names if r % 2 == 0 else list(reversed(names))
        for i, name in enumerate(order):
            for step in turn(r + i):
                if step == "pipeline":
                    stages, html, data, pages = pipeline(name)
                    result[name]["pipeline"].append(stages)
                    result[name]["pages"] = pages
                    result[name]["pdf_bytes"] = len(data)
                    result[name]["html_bytes"] = len(html.encode("utf-8"))
                    htmls[name] = html
                else:
                    if name not in htmls:
                        htmls[name] = pipeline(name)[1]
                    result[name][step].append(floor(htmls[name], collector=step == "floor_gc"))
    # A short document (the 2-page executive one takes under a second) is measured in more
    # rounds, until its floor has run for MIN_FLOOR_CPU_S in all: one noisy round among
    # five moves a median of such short runs a long way.
    for name in names:
        rounds = len(result[name]["floor"])
        while sum(f["cpu"] for f in result[name]["floor"]) < MIN_FLOOR_CPU_S and rounds < MAX_WARM_ROUNDS:
            for step in turn(rounds):
                if step == "pipeline":
                    result[name]["pipeline"].append(pipeline(name)[0])
                else:
                    result[name][step].append(floor(htmls[name], collector=step == "floor_gc"))
            rounds += 1
    for name, html in htmls.items():
        (out / f"{name}.html").write_text(html, encoding="utf-8")
    (out / "fonts.css").write_text(bpdf.font_face_css(), encoding="utf-8")
    (out / "base_url").write_text(builtin_templates_dir().as_uri() + "/", encoding="utf-8")
    result["font_configurations"] = configured[0]
    result["font_stylesheet_builds"] = bpdf._font_stylesheet.cache_info().misses
    print(json.dumps(result))


def worker_floor(html_path: str, css_path: str, base_url_path: str, pdf_out: str) -> None:
    """WeasyPrint alone, cold: import, font configuration, the same @font-face stylesheet, render."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fc = FontConfiguration()
    css = CSS(string=Path(css_path).read_text(encoding="utf-8"), font_config=fc)
    html = Path(html_path).read_text(encoding="utf-8")
    doc = HTML(string=html, base_url=Path(base_url_path).read_text(encoding="utf-8"))
    rendered = doc.render(stylesheets=[css], font_config=fc, pdf_tags=True)
    Path(pdf_out).write_bytes(rendered.write_pdf(pdf_identifier=b"0" * 32, pdf_tags=True, attachments=[]))
    print(len(rendered.pages))


def worker_stages(case_dir: str, audience: str) -> None:
    """Where an HTML build's time goes, stage by stage, as ``briefgen build`` runs them; prints JSON."""
    from briefgen.briefing.audiences import load_audiences
    from briefgen.briefing.render import render_html
    from briefgen.briefing.selfcheck import html_problems
    from briefgen.briefing.view import build_view
    from briefgen.facts.loader import gc_paused, load_case

    aud = load_audiences([])[audience]
    out: dict[str, float] = {}

    def stage(name: str, fn: Any) -> Any:
        c, t = time.process_time(), time.perf_counter()
        value = fn()
        out[name] = time.perf_counter() - t
        out[name + "_cpu"] = time.process_time() - c
        return value

    case = stage("load", lambda: load_case(case_dir))
    with gc_paused():
        view = stage("view", lambda: build_view(case, aud))
        html = stage("render", lambda: render_html(view))
        stage("selfcheck", lambda: html_problems(html))
    out["html_bytes"] = len(html.encode("utf-8"))
    print(json.dumps(out))


def worker_override(html_path: str, css: str) -> None:
    """The PDF of an HTML file with ``css`` added to its styles; prints pages and CPU seconds."""
    from briefgen.output.pdf import render_pdf_counted

    html = Path(html_path).read_text(encoding="utf-8").replace("</style>", f"@media print {{ {css} }}</style>", 1)
    c = time.process_time()
    _, pages = render_pdf_counted(html)
    print(pages, time.process_time() - c)


def worker_pages(pdf_path: str) -> None:
    from pypdf import PdfReader

    from briefgen.output.stamp import _own_pdf

    # (pypdf 7 refuses the large arrays of a briefing of thousands of items unless its
    # guards are lifted, as briefgen does for its own output when it stamps copies.)
    with _own_pdf():
        print(len(PdfReader(pdf_path).pages))


# ---------------------------------------------------------------- parts (parent side)


def pick_case(results: dict[str, Any]) -> Path:
    r = run_child([*briefgen_cmd(), "check", str(DEFAULT_CASE)])
    if r.rc == 0:
        results["case"] = {"path": str(DEFAULT_CASE.relative_to(ROOT)), "note": "default case validates"}
        return DEFAULT_CASE
    reason = r.err.strip().splitlines() or [f"exit {r.rc}"]
    note = f"{DEFAULT_CASE.relative_to(ROOT)} does not validate ({len(reason)} line(s) of problems, first: {reason[0]}); using {FALLBACK_CASE.relative_to(ROOT)}"
    results["case"] = {"path": str(FALLBACK_CASE.relative_to(ROOT)), "note": note}
    say(f"NOTE: {note}")
    return FALLBACK_CASE


def audience_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "templates" / "audiences").glob("*.yaml"))


def part_check(case: Path, repeats: int, results: dict[str, Any]) -> list[list[Any]]:
    cmd = [*briefgen_cmd(), "check", str(case)]
    must(run_child(cmd), "briefgen check")  # warm the file cache and the bytecode
    st = Stat.of([must(run_child(cmd), "briefgen check") for _ in range(repeats)])
    bare = Stat.of([run_child([sys.executable, "-c", "pass"]) for _ in range(repeats)])
    # Which modules does `check` import?
    code = f"import sys; from briefgen.cli import main; sys.exit(main(['check', {str(case)!r}]))"
    imp = must(run_child([sys.executable, "-X", "importtime", "-c", code]), "importtime")
    mods: list[tuple[int, int, str]] = []  # cumulative µs, depth, name
    for line in imp.err.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            _, cum_us, name = line.split(":", 1)[1].split("|", 2)
            mods.append((int(cum_us), len(name) - len(name.lstrip()), name.strip()))
    names = {n for _, _, n in mods}
    heavy = {
        m: any(n == m or n.startswith(m + ".") for n in names)
        for m in ("weasyprint", "markdown", "jinja2", "nh3", "pydantic", "yaml")
    }
    top = [(n, us) for us, depth, n in sorted(mods, reverse=True) if depth == 1][:8]
    results["check"] = {
        **asdict(st),
        "python_startup_s": bare.wall,
        "imports": heavy,
        "top_level_imports_us": top,
        "n_modules": len(mods),
    }
    ok = st.wall < T_CHECK_S
    results.setdefault("targets", {})["check_default_lt_0.3s"] = ok
    results["targets"]["check_no_weasyprint_import"] = not heavy["weasyprint"]
    return [
        [
            "briefgen check (child, median)",
            secs(st.wall),
            f"{secs(st.wall_min)}–{secs(st.wall_max)}",
            secs(st.cpu),
            mib(st.rss),
            f"< {T_CHECK_S}s",
            verdict(ok),
        ],
        ["  python -c pass (start-up alone)", secs(bare.wall), "", secs(bare.cpu), mib(bare.rss), "", ""],
        [
            "  imports WeasyPrint?",
            "yes" if heavy["weasyprint"] else "no",
            "",
            "",
            "",
            "no",
            verdict(not heavy["weasyprint"]),
        ],
        [
            "  also imports",
            ", ".join(m for m, v in heavy.items() if v and m != "weasyprint") or "—",
            f"{len(mods)} modules",
            "",
            "",
            "",
            "",
        ],
    ]


def part_default(
    case: Path, names: list[str], repeats_cold: int, repeats_warm: int, work: Path, results: dict[str, Any]
) -> None:
    say(f"\n-- default case: {case.relative_to(ROOT)}")
    rows = part_check(case, 3 * repeats_cold + 5, results)
    say(table("briefgen check on the default case", ["what", "median", "range", "cpu", "peak mem", "target", ""], rows))

    warm_dir = work / "warm"
    warm_dir.mkdir()
    say(
        f"-- warm pipeline vs WeasyPrint alone, in one process ({repeats_warm} interleaved rounds x {len(names)} audiences)"
    )
    w = must(run_child(worker_cmd("warm", str(case), ",".join(names), str(repeats_warm), str(warm_dir))), "warm worker")
    warm = json.loads(w.out.strip().splitlines()[-1])
    warm["worker_peak_rss"] = w.rss

    # Cold: each build as its own process, interleaved with the floor in alternating order.
    out = work / "cold-out"
    cold: dict[str, dict[str, list[Run]]] = {n: {"html": [], "pdf": [], "floor": []} for n in names}
    say(f"-- cold builds vs WeasyPrint alone, child processes ({repeats_cold} interleaved rounds)")
    for r in range(repeats_cold):
        order = names if r % 2 == 0 else list(reversed(names))
        for i, name in enumerate(order):
            steps = ["html", "pdf", "floor"] if (r + i) % 2 == 0 else ["floor", "pdf", "html"]
            for step in steps:
                if step == "floor":
                    run = run_child(
                        worker_cmd(
                            "floor",
                            str(warm_dir / f"{name}.html"),
                            str(warm_dir / "fonts.css"),
                            str(warm_dir / "base_url"),
                            str(work / f"floor-{name}.pdf"),
                        )
                    )
                else:
                    run = run_child(
                        [
                            *briefgen_cmd(),
                            "build",
                            str(case),
                            "--audience",
                            name,
                            "--format",
                            step,
                            "--out",
                            str(out),
                            "--force",
                            "-q",
                        ]
                    )
                cold[name][step].append(must(run, f"{step} of {name}"))

    rows = []
    res: dict[str, Any] = {}
    ratios_ok = []
    share_ok = []
    for name in names:
        pipe = warm[name]["pipeline"]
        flo = warm[name]["floor"]
        med = {k: statistics.median(p[k] for p in pipe) for k in pipe[0]}
        floor_med = statistics.median(f["wall"] for f in flo)
        floor_cpu = statistics.median(f["cpu"] for f in flo)
        pre = med["load"] + med["view"] + med["html"] + med["selfcheck"]
        wall_ratio = med["total"] / floor_med
        # Judged on CPU time (other work on the machine moves wall time far more), as the
        # ratio of the two medians: the runs are interleaved, alternating which goes first,
        # so a machine that speeds up or slows down over the run moves both medians alike,
        # and a burst on the shared cores that lands on a few runs moves neither. (The
        # median of each round's own ratio, also reported, does not resist bursts: on this
        # machine one run's per-round ratios of the 0.8 s executive edition ranged from
        # 0.58 to 2.84, and their median moved with them.)
        paired = [p["cpu_total"] / f["cpu"] for p, f in zip(pipe, flo, strict=True)]
        ratio = med["cpu_total"] / floor_cpu
        ratio_per_round = statistics.median(paired)
        share = med["cpu_pre_pdf"] / floor_cpu
        # The same floor under briefgen's collector setting for layouts: what briefgen adds
        # to WeasyPrint run the way briefgen runs it.
        floor_gc_cpu = statistics.median(f["cpu"] for f in warm[name]["floor_gc"])
        ratio_same_gc = med["cpu_total"] / floor_gc_cpu
        c_html, c_pdf, c_floor = (Stat.of(cold[name][k]) for k in ("html", "pdf", "floor"))
        cold_ratio = c_pdf.wall / c_floor.wall
        ratios_ok.append(ratio <= T_PDF_RATIO)
        share_ok.append(share < T_PRE_PDF_SHARE)
        pages = warm[name].get("pages")
        res[name] = {
            "pages": pages,
            "html_bytes": warm[name].get("html_bytes"),
            "warm_stages_median_s": med,
            "warm_floor_median_s": floor_med,
            "warm_floor_cpu_median_s": floor_cpu,
            "warm_ratio_cpu": ratio,
            "warm_ratio_cpu_per_round": paired,
            "warm_ratio_cpu_per_round_median": ratio_per_round,
            "warm_rounds": len(paired),
            "warm_ratio_wall": wall_ratio,
            "warm_floor_same_collector_cpu_median_s": floor_gc_cpu,
            "warm_ratio_cpu_same_collector": ratio_same_gc,
            "pre_pdf_share_of_floor": share,
            "cold_html": asdict(c_html),
            "cold_pdf": asdict(c_pdf),
            "cold_floor": asdict(c_floor),
            "cold_ratio": cold_ratio,
        }
        rows.append(
            [
                name,
                pages,
                secs(c_html.wall),
                mib(c_html.rss),
                secs(c_pdf.wall),
                mib(c_pdf.rss),
                secs(c_floor.wall),
                mib(c_floor.rss),
                f"{cold_ratio:.2f}",
                f"{secs(med['total'])} / {secs(med['cpu_total'])}",
                f"{secs(floor_med)} / {secs(floor_cpu)}",
                f"{wall_ratio:.3f} / {ratio:.3f} ({ratio_per_round:.3f})",
                f"{secs(floor_gc_cpu)}: {ratio_same_gc:.3f}",
                f"{secs(pre)} ({share:.1%})",
                verdict(ratio <= T_PDF_RATIO and share < T_PRE_PDF_SHARE),
            ]
        )
    say(
        table(
            f"per audience: cold = own process, median of {repeats_cold}; warm = in one process, {repeats_warm} rounds "
            f"or more (a short document until its floor has run {MIN_FLOOR_CPU_S:.0f} s); "
            "target judged on the warm CPU ratio (median pipeline / median floor; in brackets the median of each round's own ratio)",
            [
                "audience",
                "pages",
                "cold HTML",
                "mem",
                "cold PDF",
                "mem",
                "floor",
                "mem",
                "ratio",
                "warm PDF wall/cpu",
                "warm floor wall/cpu",
                "ratio wall/cpu",
                "floor cpu, briefgen's gc: ratio",
                "load+view+HTML",
                f"≤{T_PDF_RATIO}, <{T_PRE_PDF_SHARE:.0%}",
            ],
            rows,
        )
    )
    stage_rows = []
    for name in names:
        m = res[name]["warm_stages_median_s"]
        stage_rows.append([name, *(secs(m[k]) for k in ("load", "view", "html", "selfcheck", "pdf", "total"))])
    say(
        table(
            "warm pipeline stages (median)",
            ["audience", "load+validate", "view", "HTML render", "self-check", "PDF", "total"],
            stage_rows,
        )
    )
    fonts_ok = warm["font_configurations"] == 1 and warm["font_stylesheet_builds"] == 1
    n_renders = 1 + repeats_warm * len(names)
    say(
        f"fonts: {warm['font_configurations']} FontConfiguration and {warm['font_stylesheet_builds']} font stylesheet "
        f"for {n_renders} briefgen renders + {2 * repeats_warm * len(names)} floor renders in one process -> {verdict(fonts_ok)}"
    )
    results["default"] = {
        "audiences": res,
        "warm_worker_peak_rss": warm["worker_peak_rss"],
        "font_configurations": warm["font_configurations"],
        "font_stylesheet_builds": warm["font_stylesheet_builds"],
        "renders_in_worker": n_renders,
    }
    t = results.setdefault("targets", {})
    t["pdf_le_1.10x_floor_all_audiences"] = all(ratios_ok)
    t["pre_pdf_lt_10pct_floor_all_audiences"] = all(share_ok)
    t["fonts_configured_once_per_process"] = fonts_ok


def count_pages(pdf: Path) -> int | None:
    """Pages of a PDF: pypdf, else poppler's pdfinfo (a run once lost the 100x count)."""
    r = run_child(worker_cmd("pages", str(pdf)))
    last = r.out.strip().splitlines()[-1] if r.out.strip() else ""
    if r.rc == 0 and last.isdigit():
        return int(last)
    say(f"   pypdf could not count the pages of {pdf.name} (exit {r.rc}): {r.err.strip()[-300:]}")
    info = run_child(["pdfinfo", str(pdf)]) if shutil.which("pdfinfo") else None
    if info is not None and info.rc == 0:
        for line in info.out.splitlines():
            if line.startswith("Pages:"):
                return int(line.split()[1])
    return None


def poppler_opens(pdf: Path, pages: int | None) -> bool:
    """Whether poppler's pdfinfo reads the PDF and finds the pages counted."""
    if not shutil.which("pdfinfo"):
        return pages is not None
    info = run_child(["pdfinfo", str(pdf)])
    found = [line.split()[1] for line in info.out.splitlines() if line.startswith("Pages:")]
    return info.rc == 0 and bool(found) and (pages is None or int(found[0]) == pages)


def worker_yamlfloor(case_dir: str) -> None:
    """briefgen's YAML reader alone reading every fact file, in one process: nothing
    validated, no cache (the share of a cold check that is reading)."""
    from briefgen.facts.yamlread import parse_bytes

    for f in sorted(Path(case_dir).glob("*.yaml")):
        parse_bytes(f.read_bytes(), str(f))


def exponent(t1: float, t2: float, n1: float, n2: float) -> float | None:
    if t1 <= 0 or t2 <= 0:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def part_synth(
    case: Path,
    sizes: list[int],
    pdf_sizes: list[int],
    work: Path,
    quick: bool,
    results: dict[str, Any],
    pdf_mem_cap: int,
    pdf_timeout: float,
) -> None:
    say(f"\n-- synthetic cases from {case.relative_to(ROOT)}: sizes {sizes}, PDF at {pdf_sizes}")
    rows = []
    data: list[dict[str, Any]] = []
    default_per_page = None
    for n in sizes:
        folder = work / f"synth-{n}" / case.name
        t0 = time.perf_counter()
        gen = must(
            run_child([sys.executable, str(ROOT / "bench" / "synth.py"), str(case), str(n), str(folder)]), "synth"
        )
        info = json.loads(gen.out.strip().splitlines()[-1])
        gen_s = time.perf_counter() - t0
        # An HTML build takes seconds even at 1000x: three runs at every size (one in a
        # quick run past 10x), so that the median stands against this machine's noise.
        reps = 3 if n <= 10 or not quick else 1
        # A check takes seconds even at 1000x: three runs of each kind at every size, so
        # that the median stands against this machine's noise.
        check_reps = 3
        check_cmd = [*briefgen_cmd(), "check", str(folder)]
        # Cold: nothing in the parse cache (a fresh cache folder per run): every file is
        # parsed. Warm: the files are unchanged since the last run, so large ones come
        # from the cache (and are still validated in full).
        cold_runs = []
        for k in range(check_reps):
            cold_cache = work / f"cache-cold-{n}-{k}"
            cold_runs.append(
                must(run_child(check_cmd, env={"BRIEFGEN_CACHE_DIR": str(cold_cache)}, tree=True), f"cold check {n}x")
            )
            shutil.rmtree(cold_cache, ignore_errors=True)
        check_cold = Stat.of(cold_runs)
        must(run_child(check_cmd), f"check {n}x")  # fills the cache
        check = Stat.of([must(run_child(check_cmd, tree=True), f"check {n}x") for _ in range(check_reps)])
        # One fact edited since the last check (the analyst's loop): its file is parsed
        # and validated again, the others' verdicts come from the cache.
        changed_runs = []
        for rep in range(check_reps):
            must(run_child(worker_cmd("change", str(folder), str(rep + 1))), "change a fact")
            changed_runs.append(must(run_child(check_cmd, tree=True), f"check {n}x after one change"))
        check_changed = Stat.of(changed_runs)
        # The reading share of a cold check: briefgen's YAML reader alone on every file
        # (data built, nothing validated), in one process.
        yaml_floor = None
        if not quick or n <= 100:
            yf = run_child(worker_cmd("yamlfloor", str(folder)))
            if yf.rc == 0:
                yaml_floor = asdict(Stat.of([yf]))
        out = work / f"synth-{n}-out"
        html_cmd = [
            *briefgen_cmd(),
            "build",
            str(folder),
            "--audience",
            SYNTH_AUDIENCE,
            "--format",
            "html",
            "--out",
            str(out),
            "--force",
            "-q",
        ]
        # The first build after the checks parses every large file and stores its data in
        # the parse cache (a check stores only indexes); the builds timed after it find
        # the files unchanged, as any build after the first does.
        html_first = Stat.of([must(run_child(html_cmd, tree=True), f"first HTML {n}x")])
        html = Stat.of([must(run_child(html_cmd, tree=True), f"HTML {n}x") for _ in range(reps)])
        html_bytes = (out / case.name / f"{SYNTH_AUDIENCE}.html").stat().st_size
        row: dict[str, Any] = {
            "factor": n,
            "items": info["items"],
            "events": info["items"].get("events", 0),
            "yaml_bytes": info["bytes"],
            "files": info["files"],
            "generate_s": gen_s,
            "check": asdict(check),
            "check_cold": asdict(check_cold),
            "check_changed": asdict(check_changed),
            "yaml_floor": yaml_floor,
            "html": asdict(html),
            "html_first": asdict(html_first),
            "html_bytes": html_bytes,
        }
        if not quick:
            st = run_child(worker_cmd("stages", str(folder), SYNTH_AUDIENCE))
            if st.rc == 0:
                row["html_stages"] = json.loads(st.out.strip().splitlines()[-1])
        if n in pdf_sizes:
            pdf_cmd = [
                *briefgen_cmd(),
                "build",
                str(folder),
                "--audience",
                SYNTH_AUDIENCE,
                "--format",
                "pdf",
                "--out",
                str(out),
                "--force",
                "-q",
            ]
            say(f"   {n}x: PDF ...")
            run = run_child(pdf_cmd, mem_cap=pdf_mem_cap, timeout=pdf_timeout)
            row["pdf"] = asdict(Stat.of([run])) | {
                "rc": run.rc,
                "error": run.err[-500:] if run.rc else "",
                "mem_cap_bytes": pdf_mem_cap,
                "timed_out": run.timed_out,
                "timeout_s": pdf_timeout,
            }
            if n == 10 and run.rc == 0:
                # Kept for the diagnosis below, should a larger PDF not finish.
                shutil.copy(out / case.name / f"{SYNTH_AUDIENCE}.html", work / "synth-10.html")
            pdf_path = out / case.name / f"{SYNTH_AUDIENCE}.pdf"
            pages = count_pages(pdf_path) if run.rc == 0 else None
            row["pages"] = pages
            row["pdf_bytes"] = pdf_path.stat().st_size if run.rc == 0 else None
            row["pdf_opens"] = poppler_opens(pdf_path, pages) if run.rc == 0 else False
            if pages:
                row["pdf_s_per_page"] = run.wall / pages
                if default_per_page is None:
                    default_per_page = run.wall / pages
        data.append(row)
        say(
            f"   {n}x: {info['items'].get('events', 0):,} events, {info['bytes'] / 2**20:.1f} MiB YAML; check {secs(check.wall)}, HTML {secs(html.wall)}"
        )
        shutil.rmtree(out, ignore_errors=True)
        if n >= 100:
            shutil.rmtree(folder.parent, ignore_errors=True)
    for prev, cur in zip(data, data[1:], strict=False):
        for part in ("check", "check_cold", "check_changed", "html", "pdf"):
            a, b = prev.get(part), cur.get(part)
            if a and b and a.get("rc", 0) == 0 and b.get("rc", 0) == 0:
                cur[f"{part}_exponent"] = exponent(a["wall"], b["wall"], prev["factor"], cur["factor"])
                cur[f"{part}_cpu_exponent"] = exponent(a["cpu"], b["cpu"], prev["factor"], cur["factor"])

    def exp(row: dict[str, Any], k: str) -> str:
        v = row.get(f"{k}_exponent")
        return "" if v is None else f" (^{v:.2f})"

    for row in data:
        pdf = row.get("pdf")
        if pdf is None:
            pdf_cell = "—"
        elif pdf.get("timed_out"):
            pdf_cell = f"unfinished at {secs(pdf['wall'])} (time cap)"
        elif pdf["rc"]:
            pdf_cell = f"FAILED (exit {pdf['rc']})"
        else:
            pdf_cell = secs(pdf["wall"]) + exp(row, "pdf")
            if not row.get("pdf_opens"):
                pdf_cell += " (poppler cannot read it)"
        per_page = row.get("pdf_s_per_page")
        rows.append(
            [
                f"{row['factor']}x",
                f"{row['events']:,}",
                f"{row['yaml_bytes'] / 2**20:.1f} MiB/{row['files']}",
                secs(row["check_cold"]["wall"]) + exp(row, "check_cold"),
                mib(row["check_cold"]["rss"]),
                "—" if row["yaml_floor"] is None else secs(row["yaml_floor"]["cpu"]),
                secs(row["check"]["wall"]) + exp(row, "check"),
                secs(row["check"]["cpu"]),
                mib(row["check"]["rss"]),
                secs(row["check_changed"]["wall"]) + exp(row, "check_changed"),
                secs(row["html"]["wall"]) + exp(row, "html"),
                secs(row["html"]["cpu"]),
                mib(row["html"]["rss"]),
                f"{row['html_bytes'] / 2**20:.1f} MiB",
                pdf_cell,
                "—" if pdf is None else mib(pdf["rss"]),
                row.get("pages") or "—",
                "—"
                if per_page is None
                else f"{per_page * 1000:.0f} ms"
                + ("" if default_per_page is None else f" ({per_page / default_per_page:.2f}x)"),
            ]
        )
    say(
        table(
            f"synthetic sizes ({SYNTH_AUDIENCE} audience; (^k) = growth exponent from the size above; PDF only up to 100x: 1000x PDF is out of scope)",
            [
                "size",
                "events",
                "YAML/files",
                "check cold",
                "mem",
                "reading alone (cpu)",
                "check warm",
                "cpu",
                "mem",
                "check, 1 file changed",
                "HTML build",
                "cpu",
                "mem",
                "HTML size",
                "PDF build",
                "mem",
                "pages",
                "per page (vs 1x)",
            ],
            rows,
        )
    )
    unfinished = [r for r in data if "pdf" in r and r["pdf"]["rc"] != 0]
    ten = next((r for r in data if r["factor"] == 10 and "pdf" in r and r["pdf"]["rc"] == 0), None)
    if unfinished and ten is not None and (work / "synth-10.html").is_file():
        # Why: lay the 10x HTML out again with the multi-page grid turned into blocks.
        d = run_child(worker_cmd("override", str(work / "synth-10.html"), GRID_DIAGNOSIS_CSS))
        if d.rc == 0:
            d_pages, d_cpu = d.out.split()
            diag = {
                "css": GRID_DIAGNOSIS_CSS,
                "pages": int(d_pages),
                "cpu_s": float(d_cpu),
                "as_built_cpu_s": ten["pdf"]["cpu"],
            }
            results["synth_pdf_diagnosis"] = diag
            say(
                f"diagnosis: the 10x PDF took {secs(ten['pdf']['cpu'])} CPU as built ({ten.get('pages')} pages); with "
                f"`{GRID_DIAGNOSIS_CSS}` added it takes {secs(float(d_cpu))} ({d_pages} pages): WeasyPrint re-sizes a CSS grid "
                "on every page it spans, so a grid whose cells run over many pages costs pages² (the 100x one runs for hours)."
            )
    staged = [r for r in data if "html_stages" in r]
    if staged:
        say(
            table(
                "where the HTML build's CPU time goes (in one process, as briefgen build runs it)",
                ["size", "load+validate", "view", "render (Jinja)", "self-check", "HTML"],
                [
                    [
                        f"{r['factor']}x",
                        *(secs(r["html_stages"][k + "_cpu"]) for k in ("load", "view", "render", "selfcheck")),
                        f"{r['html_stages']['html_bytes'] / 2**20:.1f} MiB",
                    ]
                    for r in staged
                ],
            )
        )
    results["synth"] = data
    t = results.setdefault("targets", {})
    big = next((r for r in data if r["factor"] == 1000), None)
    if big is None:
        t["check_1000x_lt_5s"] = t["check_1000x_cold_lt_5s"] = t["html_1000x_lt_10s"] = t["mem_1000x_lt_1GiB"] = None
        t["check_1000x_one_changed_lt_5s"] = None
    else:
        t["check_1000x_lt_5s"] = big["check"]["wall"] < T_CHECK_1000_S
        t["check_1000x_one_changed_lt_5s"] = big["check_changed"]["wall"] < T_CHECK_1000_S
        t["check_1000x_cold_lt_5s"] = big["check_cold"]["wall"] < T_CHECK_1000_S
        t["html_1000x_lt_10s"] = big["html"]["wall"] < T_HTML_1000_S
        t["mem_1000x_lt_1GiB"] = max(big["check"]["rss"], big["check_cold"]["rss"], big["html"]["rss"]) < T_MEM_1000_B
    hundred = next((r for r in data if r["factor"] == 100 and "pdf" in r), None)
    t["pdf_100x_renders"] = None if hundred is None else hundred["pdf"]["rc"] == 0 and bool(hundred.get("pdf_opens"))


def worker_change(case_dir: str, n: str) -> None:
    print(_change_one_fact(Path(case_dir), int(n)))


def _change_one_fact(case_dir: Path, n: int) -> str:
    """Edit the first event's title (else the case title) in place; returns what changed."""
    from briefgen.facts.loader import fact_files
    from briefgen.facts.models.files import kind_of
    from briefgen.facts.yamlread import load_file

    files = [f for f in fact_files(case_dir) if kind_of(f.stem) == "events"]
    target, loc = (files[0], ("events", 0, "title")) if files else (case_dir / "case.yaml", ("title",))
    doc = load_file(target)
    line, col = doc.locate(loc)
    lines = target.read_text(encoding="utf-8").split("\n")
    text = lines[line - 1]
    mark = f" (rev {n})"
    head, value = text[: col - 1], text[col - 1 :]
    if value[:1] in ("'", '"'):
        q = value[0]
        end = value.rindex(q)
        value = value[:end] + mark + value[end:]
    else:
        value = value.rstrip() + mark
    lines[line - 1] = head + value
    target.write_text("\n".join(lines), encoding="utf-8")
    return f"{target.name}:{line}"


def part_rebuild(case: Path, repeats: int, work: Path, results: dict[str, Any]) -> None:
    copy_dir = work / "rebuild" / case.name
    shutil.copytree(case, copy_dir)
    out = work / "rebuild-out"
    cmd = [*briefgen_cmd(), "build", str(copy_dir), "--out", str(out)]
    say("\n-- rebuilds of every default output (all audiences, HTML and PDF)")
    full = must(run_child(cmd), "full build")
    noops = [must(run_child(cmd), "no-op rebuild") for _ in range(repeats + 2)]
    noop = Stat.of(noops)
    noop_msg = noops[-1].out.strip().splitlines()[-1] if noops[-1].out.strip() else ""
    changed = []
    where = ""
    for i in range(max(1, repeats // 3)):
        where = must(run_child(worker_cmd("change", str(copy_dir), str(i + 1))), "change a fact").out.strip()
        changed.append(must(run_child(cmd), "one-fact rebuild"))
    ch = Stat.of(changed)
    ch_msg = changed[-1].out.strip().splitlines()[-1] if changed[-1].out.strip() else ""
    ok = noop.wall < T_NOOP_S
    rows = [
        [
            "full build (first)",
            secs(full.wall),
            secs(full.cpu),
            mib(full.rss),
            full.out.strip().splitlines()[-1] if full.out.strip() else "",
            "",
            "",
        ],
        [
            f"no-op rebuild (median of {noop.n})",
            secs(noop.wall),
            secs(noop.cpu),
            mib(noop.rss),
            noop_msg,
            f"< {T_NOOP_S}s",
            verdict(ok),
        ],
        [f"one fact changed ({where}; median of {ch.n})", secs(ch.wall), secs(ch.cpu), mib(ch.rss), ch_msg, "", ""],
    ]
    say(table("incremental build", ["what", "wall", "cpu", "peak mem", "briefgen said", "target", ""], rows))
    results["rebuild"] = {
        "full": asdict(Stat.of([full])),
        "noop": asdict(noop),
        "one_fact": asdict(ch),
        "changed": where,
        "noop_message": noop_msg,
        "one_fact_message": ch_msg,
    }
    results.setdefault("targets", {})["noop_rebuild_lt_0.5s"] = ok


def part_distribute(case: Path, audiences: list[str], repeats: int, work: Path, results: dict[str, Any]) -> None:
    say(f"\n-- distribution to {DIST_RECIPIENTS} recipients")
    probe = run_child([*briefgen_cmd(), "distribute", "--help"])
    t = results.setdefault("targets", {})
    if probe.rc != 0:
        reason = f"`briefgen distribute` is not available (exit {probe.rc}: {probe.err.strip().splitlines()[-1] if probe.err.strip() else ''})"
        say(
            table("distribution", ["what", "result"], [["distribute to 100 vs one render", f"not available: {reason}"]])
        )
        results["distribute"] = {"available": False, "reason": reason}
        t["distribute_100_le_3x_render"] = None
        return
    rows = []
    res: dict[str, Any] = {"available": True, "audiences": {}}
    oks = []
    for name in audiences:
        lst = work / f"list-{name}.yaml"
        people = "\n".join(
            f"  - {{name: Recipient {i:03d}, organisation: Org {i % 7}, audience: {name}}}"
            for i in range(1, DIST_RECIPIENTS + 1)
        )
        lst.write_text(f"case: {case}\nrecipients:\n{people}\n", encoding="utf-8")
        dist_runs: list[Run] = []
        one_runs: list[Run] = []
        for r in range(repeats):
            out_d, out_b = work / f"dist-{name}-{r}", work / f"one-{name}-{r}"
            d_cmd = [*briefgen_cmd(), "distribute", str(lst), "--case", str(case), "--out", str(out_d), "-q"]
            b_cmd = [
                *briefgen_cmd(),
                "build",
                str(case),
                "--audience",
                name,
                "--format",
                "pdf",
                "--out",
                str(out_b),
                "--force",
                "-q",
            ]
            pair = [(d_cmd, dist_runs, "distribute"), (b_cmd, one_runs, "one render")]
            for cmd, into, what in pair if r % 2 == 0 else reversed(pair):
                into.append(must(run_child(cmd), f"{what} ({name})"))
            copies = list((out_d / case.name / name).glob("*.pdf"))
            shutil.rmtree(out_d, ignore_errors=True)
            shutil.rmtree(out_b, ignore_errors=True)
        d, b = Stat.of(dist_runs), Stat.of(one_runs)
        ratio = d.wall / b.wall
        oks.append(ratio <= T_DIST_RATIO)
        res["audiences"][name] = {
            "distribute": asdict(d),
            "one_render": asdict(b),
            "ratio": ratio,
            "copies": len(copies),
        }
        rows.append(
            [
                name,
                len(copies),
                secs(d.wall),
                secs(d.cpu),
                mib(d.rss),
                secs(b.wall),
                mib(b.rss),
                f"{ratio:.2f}",
                f"≤ {T_DIST_RATIO}",
                verdict(ratio <= T_DIST_RATIO),
            ]
        )
    say(
        table(
            f"distribution: {DIST_RECIPIENTS} stamped copies vs one PDF build of the same audience (each its own process, median of {repeats})",
            ["audience", "copies", "distribute", "cpu", "mem", "one render", "mem", "ratio", "target", ""],
            rows,
        )
    )
    results["distribute"] = res
    t["distribute_100_le_3x_render"] = all(oks)


# ---------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        kind, wargs = argv[1], argv[2:]
        {
            "warm": lambda: worker_warm(wargs[0], wargs[1], int(wargs[2]), wargs[3]),
            "floor": lambda: worker_floor(*wargs),
            "pages": lambda: worker_pages(*wargs),
            "stages": lambda: worker_stages(*wargs),
            "override": lambda: worker_override(*wargs),
            "change": lambda: worker_change(*wargs),
            "yamlfloor": lambda: worker_yamlfloor(*wargs),
        }[kind]()
        return 0
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer repeats, sizes up to 100x, PDF at 1x only (~2 minutes)")
    ap.add_argument(
        "--json", default=str(ROOT / "bench" / "results.json"), metavar="PATH", help="where to write the figures"
    )
    ap.add_argument("--only", default="default,synth,rebuild,distribute", help="comma-separated parts to run")
    ap.add_argument("--sizes", help="synthetic sizes, comma-separated (default 1,10,100,1000; quick 1,10,100)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    ap.add_argument("--no-pdf-100", action="store_true", help="leave out the 100x PDF (the longest part of a full run)")
    ap.add_argument(
        "--pdf-mem-gib",
        type=float,
        default=20.0,
        help="address-space cap of a synthetic PDF build (default 20 GiB: the target is a 24 GiB machine)",
    )
    ap.add_argument(
        "--pdf-timeout-min",
        type=float,
        default=75.0,
        help="time cap of a synthetic PDF build (default 75 minutes; the 100x PDF takes about half an hour)",
    )
    args = ap.parse_args(argv)
    parts = set(args.only.split(","))
    quick = args.quick
    t_start = time.perf_counter()
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    m = machine()
    results["machine"] = m
    say(
        table(
            "machine",
            [
                "cpu",
                "cores",
                "memory",
                "load (1/5/15 min)",
                "python",
                "weasyprint",
                "pydantic",
                "pyyaml (libyaml)",
                "briefgen._yamlfast",
                "briefgen._htmlscan",
                "launcher peak (floor of child peaks)",
            ],
            [
                [
                    m["cpu"],
                    m["cores"],
                    mib(m["memory_bytes"]),
                    " ".join(f"{x:.1f}" for x in m["load_average"]),
                    m["python"],
                    m["weasyprint"],
                    m["pydantic"],
                    f"{m['pyyaml']} ({'yes' if m['libyaml'] else 'no'})",
                    "built" if m.get("yamlfast") else "not built (PyYAML's parser)",
                    "built" if m.get("htmlscan") else "not built (self-check in Python)",
                    mib(m["launcher_peak_rss"]),
                ]
            ],
        )
    )
    # Measure briefgen as a wheel installs it, with its bytecode written (pip compiles an
    # installed package; an editable install under PYTHONDONTWRITEBYTECODE=1 never does).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "briefgen")],
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
        stdout=subprocess.DEVNULL,
        check=False,
    )
    work = Path(tempfile.mkdtemp(prefix="briefgen-bench-"))
    # Every child's parse cache lives in the run's folder (not the user's), empty at the start.
    os.environ["BRIEFGEN_CACHE_DIR"] = str(work / "cache")
    try:
        case = pick_case(results)
        if "default" in parts:
            names = ["executive"] if quick else audience_names()
            part_default(case, names, 2 if quick else 3, 3 if quick else 5, work, results)
        if "synth" in parts:
            sizes = (
                [int(s) for s in args.sizes.split(",")]
                if args.sizes
                else ([1, 10, 100] if quick else [1, 10, 100, 1000])
            )
            pdf_sizes = [1] if quick else [s for s in sizes if s <= 100 and not (s == 100 and args.no_pdf_100)]
            part_synth(
                case, sizes, pdf_sizes, work, quick, results, int(args.pdf_mem_gib * GIB), args.pdf_timeout_min * 60
            )
        if "rebuild" in parts:
            part_rebuild(case, 3 if quick else 7, work, results)
        if "distribute" in parts:
            part_distribute(case, ["executive"] if quick else audience_names(), 1 if quick else 2, work, results)
    finally:
        if args.keep:
            say(f"temporary files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_average_end"] = os.getloadavg()
    results["machine"]["launcher_peak_rss_end"] = own_peak_rss()
    results["elapsed_s"] = time.perf_counter() - t_start
    labels = {
        "check_default_lt_0.3s": f"briefgen check, default case, < {T_CHECK_S}s wall incl. start-up",
        "check_no_weasyprint_import": "briefgen check does not import WeasyPrint",
        "pdf_le_1.10x_floor_all_audiences": f"PDF build ≤ {T_PDF_RATIO} x WeasyPrint alone (warm, every audience)",
        "pre_pdf_lt_10pct_floor_all_audiences": "load+validate+view+HTML < 10% of the floor (every audience)",
        "fonts_configured_once_per_process": "fonts configured once per process",
        "check_1000x_lt_5s": f"check at 1000x < {T_CHECK_1000_S:.0f}s (warm: files unchanged since the last check)",
        "check_1000x_one_changed_lt_5s": f"check at 1000x < {T_CHECK_1000_S:.0f}s after one fact changed",
        "check_1000x_cold_lt_5s": f"check at 1000x < {T_CHECK_1000_S:.0f}s (cold: every file parsed)",
        "html_1000x_lt_10s": f"HTML build at 1000x < {T_HTML_1000_S:.0f}s",
        "mem_1000x_lt_1GiB": "check and HTML at 1000x peak memory < 1 GiB",
        "pdf_100x_renders": "100x PDF renders (no out-of-memory) and poppler reads every page count",
        "noop_rebuild_lt_0.5s": f"no-op rebuild < {T_NOOP_S}s",
        "distribute_100_le_3x_render": f"distribution to {DIST_RECIPIENTS} ≤ {T_DIST_RATIO} x one render",
    }
    t = results.get("targets", {})
    say(
        table(
            "targets",
            ["target", "result"],
            [[labels[k], verdict(v) if k in t else "not run"] for k, v in ((k, t.get(k)) for k in labels)],
        )
    )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    say(f"launcher peak memory at the end: {mib(own_peak_rss())} (a floor under every child's peak above)")
    say(
        f"\nfigures written to {args.json} (took {results['elapsed_s']:.0f}s; load average now {' '.join(f'{x:.1f}' for x in results['machine']['load_average_end'])})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
