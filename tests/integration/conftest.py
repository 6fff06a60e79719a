"""Both templates as `make package` builds them (global and China), built once for the whole run,
side by side, and shared by every test that reads them."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"global": "cloud", "china": "cloud-cn"}


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """variant → the folder holding its template.json and deployment.zip."""
    out = tmp_path_factory.mktemp("built")
    runs = {variant: subprocess.Popen(
        [sys.executable, "-m", "infra.build", str(out / folder), "--variant", variant],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for variant, folder in FOLDERS.items()}
    for variant, run in runs.items():
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, f"{variant}: {err[-3000:]}"
    return {variant: out / folder for variant, folder in FOLDERS.items()}


@pytest.fixture(scope="session")
def templates(built) -> dict[str, dict]:
    return {variant: json.loads((folder / "template.json").read_text(encoding="utf-8"))
            for variant, folder in built.items()}
