"""The service guide as published with this release (data/*.json), loaded once per process."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..domain.catalog import Catalog

DATA = Path(__file__).parent / "data"


def read(name: str):
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def published() -> Catalog:
    return Catalog(read("halls"), read("departments"), read("items"))
