"""The API walkthrough (docs/api.md) is runnable documentation: its Python examples, run in order
as one session against the running stack, must work as written."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "docs" / "api.md"


def api_examples() -> list[str]:
    text = WALKTHROUGH.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_walkthrough_covers_every_kind_of_caller():
    examples = "\n".join(api_examples())
    assert len(api_examples()) >= 10
    for caller in ("as_citizen(", 'Staff("SCJG-', 'Staff("BZQC-WLC-', 'Staff("BZ-JJJC-',
                   'Signed("hotline:'):
        assert caller in examples, caller


def test_every_python_example_of_the_walkthrough_runs(stack, capsys):
    examples = api_examples()
    described = str(Path(stack["state_dir"]) / "stack.json")
    session: dict = {"__name__": "walkthrough"}
    for number, code in enumerate(examples, start=1):
        code = code.replace('".local/stack.json"', repr(described))
        try:
            exec(compile(code, f"docs/api.md example {number}", "exec"), session)
        except Exception as error:  # noqa: BLE001 - name the example that broke
            raise AssertionError(f"docs/api.md example {number} failed: {error!r}\n{code}")
    printed = capsys.readouterr().out
    assert "submitted" in printed and "intact" in printed
