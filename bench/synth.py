"""Synthetic cases for the benchmark: a real case repeated N times, still valid.

``synthesize(seed, factor, out)`` writes a case folder holding ``factor`` copies of
every item of ``seed`` (sources, actors, events, motives, rationales, judgments,
assessments, reactions, claims, indicators). Copy 0 keeps the original ids; copy
``k`` renames every item id to ``<id>-x<k>`` and points its references (citations'
sources, actors, shared motive groups, rests_on, analysts, ...) at its own copies, so
the result validates exactly as the seed does and every reference still resolves. Parties and
``case.yaml`` are shared (copied verbatim), so the key figures and narrative keep
pointing at copy 0.

A kind that would exceed ``part_bytes`` is split over ``<kind>-pNNNN.yaml`` files,
keeping every file well under the 8 MiB per-file limit of the reader.

Run alone: ``python bench/synth.py SEED_DIR FACTOR OUT_DIR``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from briefgen.facts.models import ITEM_KINDS  # noqa: E402
from briefgen.facts.models.files import kind_of  # noqa: E402
from briefgen.facts.yamlread import load_file  # noqa: E402

LIST_KINDS = tuple(ITEM_KINDS)
REF_KEYS = {
    "id",
    "source",
    "resolved_from_source",
    "resolved_against",
    "actors",
    "shared",
    "rests_on",
    "analyst",
    "actor",
}
"""Keys whose values are (or list) item ids or shared motive groups (renamed per copy like ids:
a group holds one motive per party); `party`/`parties` name parties, which are shared."""
PART_BYTES = 6 * 1024 * 1024
_PLACEHOLDER = re.compile(r"zzqid(\d+)qzz")


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Never emit anchors/aliases (the reader caps them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _new_id(original: str, k: int) -> str:
    if k == 0:
        return original
    suffix = f"-x{k}"
    if len(original) + len(suffix) <= 80:
        return original + suffix
    digest = hashlib.sha1(original.encode()).hexdigest()[:8]
    return f"{original[:60]}-{digest}{suffix}"


def _quoted_id(quoted: list[str], m: re.Match[str]) -> str:
    return quoted[int(m.group(1))]


def _replace_refs(obj: Any, slot: dict[str, int], key: str | None = None) -> Any:
    """Copy ``obj`` with every id and reference to an item replaced by its placeholder."""
    if isinstance(obj, dict):
        return {k: _replace_refs(v, slot, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_refs(v, slot, key) for v in obj]
    if key in REF_KEYS and isinstance(obj, str) and obj in slot:
        return f"zzqid{slot[obj]}qzz"
    return obj


def read_seed(seed: Path) -> tuple[bytes, dict[str, list[Any]]]:
    """case.yaml's bytes and every item of the seed by kind (split files merged, name order)."""
    items: dict[str, list[Any]] = {k: [] for k in LIST_KINDS}
    case_bytes = b""
    for f in sorted(seed.glob("*.yaml")):
        kind = kind_of(f.stem)
        if kind == "case":
            case_bytes = f.read_bytes()
        elif kind in items:
            data = load_file(f).data
            items[kind].extend(copy.deepcopy(data.get(kind) or []))
    if not case_bytes:
        raise SystemExit(f"{seed}: no case.yaml")
    return case_bytes, items


def synthesize(
    seed: Path,
    factor: int,
    out: Path,
    part_bytes: int = PART_BYTES,
    edit: Callable[[dict[str, list[Any]]], None] | None = None,
) -> dict[str, Any]:
    """Write the ``factor``× case into folder ``out`` (created; must not hold YAML yet).
    ``edit``, if given, changes the seed's items (by kind) in place before they are copied
    (the bench uses it to plant pathological text in one event).

    Returns counts of items per kind, the number of files and the total bytes written.
    """
    case_bytes, items = read_seed(seed)
    if edit is not None:
        edit(items)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.yaml")):
        raise SystemExit(f"{out}: already holds YAML files")
    (out / "case.yaml").write_bytes(case_bytes)
    ids = [item["id"] for kind in LIST_KINDS for item in items[kind]]
    groups = {m["shared"] for m in items.get("motives", []) if isinstance(m.get("shared"), str)}
    ids += sorted(groups - set(ids))
    slot = {id_: i for i, id_ in enumerate(ids)}
    names = [[_new_id(id_, k) for id_ in ids] for k in range(factor)]

    counts: dict[str, int] = {}
    n_files, total = 1, len(case_bytes)
    for kind in LIST_KINDS:
        if not items[kind]:
            continue
        template = yaml.dump(
            _replace_refs(items[kind], slot),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=100_000,
            default_flow_style=False,
        )
        parts: list[list[str]] = [[]]
        size = 0
        for k in range(factor):
            # Quoted, so an id that looks like a number or a date stays text.
            quoted = [f'"{name}"' for name in names[k]]
            text = _PLACEHOLDER.sub(partial(_quoted_id, quoted), template)
            n = len(text.encode("utf-8"))
            if size and size + n > part_bytes:
                parts.append([])
                size = 0
            parts[-1].append(text)
            size += n
        for i, chunk in enumerate(parts):
            name = f"{kind}.yaml" if len(parts) == 1 else f"{kind}-p{i + 1:04d}.yaml"
            data = (f"{kind}:\n" + "".join(chunk)).encode("utf-8")
            (out / name).write_bytes(data)
            n_files += 1
            total += len(data)
        counts[kind] = len(items[kind]) * factor
    return {"factor": factor, "items": counts, "files": n_files, "bytes": total}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    info = synthesize(Path(argv[0]), int(argv[1]), Path(argv[2]))
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
