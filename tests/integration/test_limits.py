"""Abuse limits in the packaged cloud template (infra/limits.py): the stage throttles every
method and the anonymous POST routes far more strictly, the figures are parameters with sane
defaults and bounds, the queue handlers have concurrency of their own, and the local gateway
uses the same figures."""
from pathlib import Path

import pytest

from infra import limits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(templates):
    return templates["global"]


def anonymous_posts_of_app() -> list[str]:
    import app

    return limits.anonymous_posts_of_app(app.app)


def settings(template) -> dict[tuple[str, str], dict]:
    found = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    return {(s["ResourcePath"], s["HttpMethod"]): s for s in found}


def test_the_anonymous_posts_are_the_visitors_routes_and_nothing_else():
    # A visitor's text code and complaint, the progress lookup by receipt, a document's check.
    assert anonymous_posts_of_app() == ["/lookup", "/public/documents/check", "/visits/codes",
                                        "/visits/complaints"]


def test_every_method_of_the_stage_is_throttled(template):
    stage = settings(template)[("/*", "*")]
    assert stage["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert stage["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}


def test_each_anonymous_post_route_has_the_strict_limit_under_its_escaped_path(template):
    found = settings(template)
    strict = {path: s for (path, method), s in found.items() if method == "POST"}
    assert set(strict) == {"/~1visits~1codes", "/~1visits~1complaints", "/~1lookup",
                           "/~1public~1documents~1check"}
    assert set(strict) == {limits.resource_path(p) for p in anonymous_posts_of_app()}
    # What makes the system act (texts, footage) at the strict figures; what only reads what
    # the visitor holds (a receipt, a file) at the lookups' own.
    figures = {path: (s["ThrottlingRateLimit"]["Ref"], s["ThrottlingBurstLimit"]["Ref"])
               for path, s in strict.items()}
    assert figures == {
        "/~1visits~1codes": ("AnonymousPostRateLimit", "AnonymousPostBurstLimit"),
        "/~1visits~1complaints": ("AnonymousPostRateLimit", "AnonymousPostBurstLimit"),
        "/~1lookup": ("LookupRateLimit", "LookupBurstLimit"),
        "/~1public~1documents~1check": ("LookupRateLimit", "LookupBurstLimit")}
    # Each names a resource of the API as deployed (the escaping undone), without security.
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for escaped in strict:
        path = escaped.replace("~1", "/")[1:]
        assert "post" in paths[path] and not paths[path]["post"].get("security"), path


def test_the_figures_are_parameters_with_defaults_and_bounds(template):
    parameters = template["Parameters"]
    expected = {"ApiRateLimit": limits.STAGE.rate, "ApiBurstLimit": limits.STAGE.burst,
                "AnonymousPostRateLimit": limits.ANONYMOUS_POST.rate,
                "AnonymousPostBurstLimit": limits.ANONYMOUS_POST.burst,
                "LookupRateLimit": limits.LOOKUP.rate, "LookupBurstLimit": limits.LOOKUP.burst,
                "ApiConcurrency": limits.API_CONCURRENCY,
                "WorkflowConcurrency": limits.WORKFLOW_CONCURRENCY,
                "UploadsConcurrency": limits.UPLOADS_CONCURRENCY}
    for name, default in expected.items():
        parameter = parameters[name]
        assert parameter["Type"] == "Number" and parameter["Default"] == default, name
        assert 0 < parameter["MinValue"] <= default <= parameter["MaxValue"], name
        assert parameter["Description"] and parameter["ConstraintDescription"], name
    # API Gateway's account default is 10,000 requests/s with bursts of 5,000.
    assert parameters["ApiRateLimit"]["MaxValue"] <= 10000
    assert parameters["ApiBurstLimit"]["MaxValue"] <= 5000
    # Public POSTs are far stricter than the stage: at most a hundredth of it.
    assert limits.ANONYMOUS_POST.rate * 100 <= limits.STAGE.rate
    assert limits.ANONYMOUS_POST.burst * 100 <= limits.STAGE.burst
    assert limits.ANONYMOUS_POST.rate < limits.LOOKUP.rate <= limits.STAGE.rate / 10


def test_the_queue_handlers_have_concurrency_the_public_api_cannot_take(template):
    resources = template["Resources"]
    reserved = {name: resources[name]["Properties"].get("ReservedConcurrentExecutions")
                for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert reserved["APIHandler"] == {"Ref": "ApiConcurrency"}
    assert reserved["WorkflowMessage"] == {"Ref": "WorkflowConcurrency"}
    assert reserved["MaterialUploaded"] == {"Ref": "UploadsConcurrency"}
    for handler, parameter in (("WorkflowMessage", "WorkflowConcurrency"),
                               ("MaterialUploaded", "UploadsConcurrency")):
        [event] = resources[handler]["Properties"]["Events"].values()
        assert event["Type"] == "SQS"
        # The poller never invokes beyond the reservation (no throttling, no dead letters).
        assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": parameter}}
    # The account's default 1,000 keeps at least 100 unreserved for the scheduled functions.
    assert sum(default for _parameter, default in limits.RESERVED.values()) <= 900
    assert limits.API_CONCURRENCY >= limits.STAGE.rate * 0.3     # 0.3 s per request


def test_the_local_gateway_is_never_more_permissive_than_the_template(template):
    import app
    from local.throttle import Throttle

    parameters = template["Parameters"]
    throttle = Throttle.of_app(app.app)
    cloud = settings(template)
    for path in anonymous_posts_of_app():
        local = throttle.limit(path, "POST")
        setting = cloud[(limits.resource_path(path), "POST")]
        assert local.rate <= parameters[setting["ThrottlingRateLimit"]["Ref"]]["Default"], path
        assert local.burst <= parameters[setting["ThrottlingBurstLimit"]["Ref"]]["Default"], path
    for path, methods in app.app.routes.items():
        for method in methods:
            local = throttle.limit(path, method)
            assert local.rate <= parameters["ApiRateLimit"]["Default"]
            assert local.burst <= parameters["ApiBurstLimit"]["Default"]


def test_the_verifications_table_forgets_codes_by_itself(template):
    from chalicelib.adapters.dynamodb import VerificationModel

    table = template["Resources"]["VerificationsTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert "expires" in VerificationModel.get_attributes()
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["VERIFICATIONS_TABLE"] == {"Ref": "VerificationsTable"}
