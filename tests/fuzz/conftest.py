"""The fuzzing stage runs against the session's local stack (tests/conftest.py `stack`), over
the OpenAPI document that stack serves; its figures per role are printed at the end of the
run (requests, 5xx, distinct failures), in `make test` as in `make fuzz`."""
import pytest
import requests

from . import harness


@pytest.fixture(scope="session")
def fuzz_document(stack):
    answer = requests.get(f"{stack['api_url']}/openapi.json", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="session")
def fuzz_schema(fuzz_document):
    return harness.load(fuzz_document)


@pytest.fixture(scope="session")
def fuzz_callers(stack):
    """Each role signed in once, on first use, with the things it may reach."""
    made = {}
    signed_in = {}

    def caller(role: str) -> harness.Caller:
        if not made:
            made.update(harness.resources(stack))
        if role not in signed_in:
            signed_in[role] = harness.sign_in(stack, harness.BY_NAME[role], made)
        return signed_in[role]
    return caller


def pytest_terminal_summary(terminalreporter):
    if not harness.TALLY:
        return
    terminalreporter.section(f"schema fuzzing ({harness.examples()} examples per operation "
                             "and role)")
    for line in harness.summary_lines():
        terminalreporter.write_line(line)
    for role, figures in harness.TALLY.items():
        for failure, curl in figures.failures.items():
            terminalreporter.write_line(f"[{role}] {failure}\n    {curl}")
