"""The service guide as published with this release (data/*.json), loaded once per process."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from ..domain.catalog import Catalog

DATA = Path(__file__).parent / "data"


def read(name: str, missing=None):
    # CATALOG_DIR points at another published set (a hall's own, or a benchmark's).
    folder = Path(os.environ.get("CATALOG_DIR") or DATA)
    path = folder / f"{name}.json"
    if missing is not None and not path.exists():
        return missing
    return json.loads(path.read_text(encoding="utf-8"))


def synonyms() -> dict:
    """The guide search's everyday words (data/synonyms.json): a published set's own if it
    has them, else this release's."""
    folder = Path(os.environ.get("CATALOG_DIR") or DATA)
    path = folder / "synonyms.json"
    return json.loads((path if path.exists() else DATA / "synonyms.json")
                      .read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def published() -> Catalog:
    return Catalog(read("halls"), read("departments"), read("items"), read("powers", []),
                   synonyms=synonyms())
