"""JSON Schema for each kind of fact file, generated from the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..briefing.audiences import Profile
from ..facts.models.files import FILE_KINDS
from ..output.distribute import DistributionList

SCHEMA_MODELS: dict[str, type[BaseModel]] = {**FILE_KINDS, "audience": Profile, "distribution": DistributionList}
"""Every kind of YAML file briefgen reads: fact files, audience profiles, distribution lists."""

SCHEMA_DIR = Path(__file__).parent.parent / "schemas"
"""Where the package ships its schemas (so editors can point at them)."""


def schema_for(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of YAML file (a fact file kind, `audience` or `distribution`)."""
    model = SCHEMA_MODELS[kind]
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://briefgen.invalid/schemas/{kind}.schema.json"
    return schema


def schema_text(kind: str) -> str:
    return json.dumps(schema_for(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(out: Path) -> list[Path]:
    """Write ``<kind>.schema.json`` for every kind into ``out``; returns the paths."""
    from ..output.atomic import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCHEMA_MODELS:
        p = out / f"{kind}.schema.json"
        write_atomic(p, schema_text(kind).encode())
        written.append(p)
    return written
