"""Hypothesis strategies for the values the published contracts allow.

hypothesis-jsonschema 0.23 no longer works with current Hypothesis (its object strategy calls
`many.more()`, which Hypothesis removed), so this converts the OpenAPI 3.0 components itself:
`$ref` followed, `allOf` merged, `nullable` honoured, optional properties sometimes missing,
required ones always present. Values lean on the edges: null wherever allowed, empty lists,
integers and doubles at their limits, long and non-ASCII strings, formula-like text.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
Schema = dict[str, Any]

EDGE_TEXT = [
    *["", " ", "=SUM(A1)", "+1", "-1", "@cmd", "a,b", 'say "hi"', "line\nbreak", "\u2028", "名前", "Ünï ✓"],
    *["²⁰²⁴-01-01", "١٩٩٩"],  # digits to str.isdigit(), not all to int()
]
TEXT = (
    st.text(st.characters(codec="utf-8"), max_size=30)
    | st.sampled_from(EDGE_TEXT)
    | st.builds(lambda char, length: char * length, st.characters(codec="utf-8"), st.integers(500, 4_000))
)
INTEGERS = st.integers(-(2**63), 2**63) | st.sampled_from([0, -1, 2**31 - 1, -(2**31), 2**53 + 1])
NUMBERS = (
    st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324]) | INTEGERS
)
OFFSETS = st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(-dt.timedelta(hours=12))])
DATE_TIMES = st.datetimes(timezones=OFFSETS).map(lambda moment: moment.isoformat()) | TEXT


@cache
def catalog_components() -> Schema:
    document: Schema = json.loads((CONTRACTS / "catalog-api.swagger.json").read_text("utf-8"))
    return document["components"]["schemas"]  # type: ignore[no-any-return]


@cache
def spotify_components() -> Schema:
    with (CONTRACTS / "spotify-web-api.openapi.yml").open("rb") as stream:
        document: Schema = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return document["components"]["schemas"]  # type: ignore[no-any-return]


def catalog(name: str) -> st.SearchStrategy[Any]:
    return from_openapi({"$ref": f"#/components/schemas/{name}"}, catalog_components())


def spotify(name: str) -> st.SearchStrategy[Any]:
    return from_openapi({"$ref": f"#/components/schemas/{name}"}, spotify_components())


def from_openapi(node: Schema, components: Schema, max_list: int = 3) -> st.SearchStrategy[Any]:
    node = _resolved(node, components)
    strategy = _by_type(node, components, max_list)
    return st.none() | strategy if node.get("nullable") else strategy


def _resolved(node: Schema, components: Schema) -> Schema:
    while "$ref" in node:
        node = {**components[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    if "allOf" in node:
        merged: Schema = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = _resolved(part, components)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            for key in ("type", "nullable", "items", "enum"):
                if key in part:
                    merged.setdefault(key, part[key])
        node = merged
    return node


def _by_type(node: Schema, components: Schema, max_list: int) -> st.SearchStrategy[Any]:
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type") or ("object" if "properties" in node else None)
    if kind == "object":
        properties = node.get("properties", {})
        required = set(node.get("required", []))
        fields = {name: from_openapi(prop, components, max_list) for name, prop in properties.items()}
        return st.fixed_dictionaries(
            {name: fields[name] for name in properties if name in required},
            optional={name: fields[name] for name in properties if name not in required},
        )
    if kind == "array":
        return st.lists(from_openapi(node.get("items", {}), components, max_list), max_size=max_list)
    if kind == "integer":
        return INTEGERS
    if kind == "number":
        return NUMBERS
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return DATE_TIMES if node.get("format") == "date-time" else TEXT
    return st.none() | st.booleans() | INTEGERS | TEXT  # untyped: any JSON scalar
