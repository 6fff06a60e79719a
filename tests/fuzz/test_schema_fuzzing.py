"""Every operation of the served OpenAPI document, fuzzed by every role that calls it, with the
role's real authentication (tests/fuzz/harness.py): no 5xx, every response as its status is
documented, no status the document does not list, invalid data refused, and every refusal
naming the field and the reason in bounded size. FUZZ_EXAMPLES sets the examples per operation
and role (a few here; thousands per role in `make fuzz`)."""
import copy
import json

import pytest

from chalicelib import openapi

from . import harness

PAIRS = harness.pairs(json.loads(openapi.PATH.read_text(encoding="utf-8")))


@pytest.mark.parametrize("role,label", PAIRS, ids=[f"{r}: {op}" for r, op in PAIRS])
def test_operation_holds_to_its_description(stack, fuzz_schema, fuzz_callers, role, label):
    harness.fuzz(fuzz_schema, label, fuzz_callers(role), stack["api_url"], harness.examples())
    found = harness.failures_of(role, label)
    assert not found, f"{role}, {label}:\n" + "\n".join(
        f"- {failure}\n    {curl}" for failure, curl in found.items())


def test_the_fuzzing_notices_a_status_the_document_does_not_list(stack, fuzz_document):
    """The same run over a document that leaves 404 out of an item's guide fails for the 404
    an unknown code gets: the stage is not blind to an undocumented status."""
    document = copy.deepcopy(fuzz_document)
    del document["paths"]["/guide/items/{code}"]["get"]["responses"]["404"]
    probe = harness.Caller(harness.Role("probe", None, frozenset(), None), None, {})
    harness.fuzz(harness.load(document), "GET /guide/items/{code}", probe, stack["api_url"], 4)
    try:
        found = harness.failures_of("probe", "GET /guide/items/{code}")
    finally:
        harness.TALLY.pop("probe", None)
    assert any("Undocumented status code" in failure and "404" in failure
               for failure in found), found
