"""The README's API section is runnable documentation: its Python examples, run in order as one
session against the running stack, must work as written."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def api_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## API\n"):readme.index("\n## Known limits")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_every_python_example_of_the_api_section_runs(stack, capsys):
    examples = api_examples()
    assert len(examples) >= 10
    described = str(Path(stack["state_dir"]) / "stack.json")
    session: dict = {"__name__": "readme"}
    for number, code in enumerate(examples, start=1):
        code = code.replace('".local/stack.json"', repr(described))
        try:
            exec(compile(code, f"README API example {number}", "exec"), session)
        except Exception as error:  # noqa: BLE001 - name the example that broke
            raise AssertionError(f"README API example {number} failed: {error!r}\n{code}")
    printed = capsys.readouterr().out
    assert "submitted" in printed and "intact" in printed
