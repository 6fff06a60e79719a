"""Abuse limits of the cloud deployment: API Gateway throttling per method and the Lambda
functions' reserved concurrency, as template parameters with their defaults.

The same figures bound the local gateway (local/throttle.py reads them here), so the local stack
is never more permissive than the cloud.

How the figures are sized
-------------------------
A city hall handles about 5,000 cases a day. One case costs about 40 API requests end to end
(guide reads, the application, five materials announced, submission, the applicant's status
reads, the departments' decisions, the supervisors' reads), nearly all within the hall's seven
opening hours (25,200 s): 5,000 × 40 / 25,200 ≈ 8 requests/s on average, ≈ 25/s in the peak hour
(3×). A province is about 100 cities: ≈ 800/s on average, ≈ 2,500/s at its peak.

- Every method ("/*/*", one bucket per method, as API Gateway applies stage settings) gets
  250 requests/s with a burst of 500: ten times a city's peak. A province deployment sets
  ApiRateLimit 3000 and ApiBurstLimit 5000 (the regional account default is 10,000/s, burst
  5,000; a province asks AWS for more).
- The anonymous POST routes that make the system act (app.py's routes with no authorizer: the
  visitor's text-message code and the visitor's complaint) get 1 request/s with a burst of 5
  each. A city receives a few dozen
  visitor complaints a day and a province a few thousand (≈ 0.1/s at its peak hour), so 1/s is
  tenfold headroom for a province; it also bounds what anyone can make the system spend on text
  messages (each code request texts) and on camera footage, whatever the number of phones used.
  Each phone number is further limited by the service itself (one code a minute, five a day).
- The anonymous POST routes that only read what the visitor already holds (the progress lookup
  by receipt number and query code, a document's check) get 10 requests/s with a burst of 20
  each (LookupRateLimit, LookupBurstLimit). A city's 5,000 cases a day, each looked up a few
  times, mostly in the evening hours (≈ 4 hours): 5,000 × 3 / 14,400 ≈ 1/s, ≈ 3/s at its peak;
  10/s is threefold headroom for a city, and a province raises it. Guessing is bounded by the
  service itself (five wrong codes per case a day, twenty lookups per address), not by this.
- Lambda concurrency is requests/s × duration. The API function answers in ≈ 0.3 s: 250/s need
  ≈ 75 concurrent executions, so the API function is capped at 100 (ApiConcurrency; a province
  ≈ 750 with a raised account quota). The queue handlers get concurrency of their own, reserved
  so that no flood of public requests can take it: the workflow's messages (≈ 25 per case:
  waits, lights, stages, tasks) come at ≈ 5/s for a city, ≈ 2 executions, reserved 20
  (WorkflowConcurrency); material notifications (five per case) at ≈ 1/s, reserved 10
  (UploadsConcurrency); the scheduled jobs' shares: a day's default ratings in batches of 50
  cases, ≈ 1,000 batches for 50,000 cases, reserved 10 (RatingsConcurrency), the hourly
  exports' few shares 2 (ExportsConcurrency), counting that failed 5 (CountingConcurrency).
  Their SQS event sources are capped at the same figure (MaximumConcurrency)
  so the poller never invokes beyond the reservation, which would throttle and, after the
  queue's maxReceiveCount, send messages to the dead-letter queue. The account keeps at least
  100 unreserved executions (AWS requires it) for the scheduled functions.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    rate: float      # requests per second, steady
    burst: int       # requests at once (the bucket's size)


STAGE = Limit(rate=250, burst=500)
ANONYMOUS_POST = Limit(rate=1, burst=5)
LOOKUP = Limit(rate=10, burst=20)
# The anonymous POSTs that only read what the visitor holds (a receipt, a file): LOOKUP's figures.
LOOKUP_ROUTES = frozenset({"/lookup", "/public/documents/check"})
API_CONCURRENCY = 100
WORKFLOW_CONCURRENCY = 20
UPLOADS_CONCURRENCY = 10
RATINGS_CONCURRENCY = 10      # default ratings' batches: 50,000 cases in ≈ 1,000 batches a day
EXPORTS_CONCURRENCY = 2       # a few shares an hour
COUNTING_CONCURRENCY = 5      # only counting that failed where it happened

# Function → (parameter, default) for the reserved concurrency of each function that has one.
RESERVED = {"APIHandler": ("ApiConcurrency", API_CONCURRENCY),
            "WorkflowMessage": ("WorkflowConcurrency", WORKFLOW_CONCURRENCY),
            "MaterialUploaded": ("UploadsConcurrency", UPLOADS_CONCURRENCY),
            "RateByDefault": ("RatingsConcurrency", RATINGS_CONCURRENCY),
            "ExportShare": ("ExportsConcurrency", EXPORTS_CONCURRENCY),
            "CountAgain": ("CountingConcurrency", COUNTING_CONCURRENCY)}

PARAMETERS = {
    "ApiRateLimit": {
        "Type": "Number", "Default": STAGE.rate, "MinValue": 1, "MaxValue": 10000,
        "Description": "Requests per second each API method accepts (steady)",
        "ConstraintDescription": "1 to 10000 requests per second"},
    "ApiBurstLimit": {
        "Type": "Number", "Default": STAGE.burst, "MinValue": 1, "MaxValue": 5000,
        "Description": "Requests each API method accepts at once (burst)",
        "ConstraintDescription": "1 to 5000 requests"},
    "AnonymousPostRateLimit": {
        "Type": "Number", "Default": ANONYMOUS_POST.rate, "MinValue": 0.1, "MaxValue": 50,
        "Description": "Requests per second each anonymous POST route accepts (visitor codes "
                       "and complaints)",
        "ConstraintDescription": "0.1 to 50 requests per second"},
    "AnonymousPostBurstLimit": {
        "Type": "Number", "Default": ANONYMOUS_POST.burst, "MinValue": 1, "MaxValue": 100,
        "Description": "Requests each anonymous POST route accepts at once",
        "ConstraintDescription": "1 to 100 requests"},
    "LookupRateLimit": {
        "Type": "Number", "Default": LOOKUP.rate, "MinValue": 0.1, "MaxValue": 1000,
        "Description": "Requests per second each anonymous lookup route accepts (progress "
                       "lookup, document check)",
        "ConstraintDescription": "0.1 to 1000 requests per second"},
    "LookupBurstLimit": {
        "Type": "Number", "Default": LOOKUP.burst, "MinValue": 1, "MaxValue": 2000,
        "Description": "Requests each anonymous lookup route accepts at once",
        "ConstraintDescription": "1 to 2000 requests"},
    "ApiConcurrency": {
        "Type": "Number", "Default": API_CONCURRENCY, "MinValue": 10, "MaxValue": 3000,
        "Description": "Concurrent executions reserved for (and capping) the API function",
        "ConstraintDescription": "10 to 3000 executions"},
    "WorkflowConcurrency": {
        "Type": "Number", "Default": WORKFLOW_CONCURRENCY, "MinValue": 2, "MaxValue": 1000,
        "Description": "Concurrent executions reserved for the workflow messages' handler",
        "ConstraintDescription": "2 to 1000 executions (SQS maximum concurrency bounds)"},
    "UploadsConcurrency": {
        "Type": "Number", "Default": UPLOADS_CONCURRENCY, "MinValue": 2, "MaxValue": 1000,
        "Description": "Concurrent executions reserved for the material notifications' handler",
        "ConstraintDescription": "2 to 1000 executions (SQS maximum concurrency bounds)"},
    "RatingsConcurrency": {
        "Type": "Number", "Default": RATINGS_CONCURRENCY, "MinValue": 2, "MaxValue": 1000,
        "Description": "Concurrent executions reserved for the default ratings' batches",
        "ConstraintDescription": "2 to 1000 executions (SQS maximum concurrency bounds)"},
    "ExportsConcurrency": {
        "Type": "Number", "Default": EXPORTS_CONCURRENCY, "MinValue": 2, "MaxValue": 1000,
        "Description": "Concurrent executions reserved for the report exports' shares",
        "ConstraintDescription": "2 to 1000 executions (SQS maximum concurrency bounds)"},
    "CountingConcurrency": {
        "Type": "Number", "Default": COUNTING_CONCURRENCY, "MinValue": 2, "MaxValue": 1000,
        "Description": "Concurrent executions reserved for counting again what failed",
        "ConstraintDescription": "2 to 1000 executions (SQS maximum concurrency bounds)"},
}


def is_anonymous_post(method: str, authorizer) -> bool:
    """A route anyone may call that makes the system do something: no authorizer, POST."""
    return method.upper() == "POST" and authorizer is None


def anonymous_posts_of_app(app) -> list[str]:
    """The anonymous POST routes of a Chalice app (app.py), by path."""
    return sorted(path for path, methods in app.routes.items()
                  for method, entry in methods.items()
                  if is_anonymous_post(method, entry.authorizer))


def anonymous_posts_of_api(definition: dict) -> list[str]:
    """The same, read from the API definition chalice generates (swagger): no security."""
    return sorted(path for path, item in definition.get("paths", {}).items()
                  if "post" in item and not item["post"].get("security"))


def resource_path(path: str) -> str:
    """A method setting's key: the resource path with each "/" written "~1" ("/visits/codes"
    → "/~1visits~1codes"), as API Gateway's stage settings name it."""
    return "/" + path.replace("/", "~1")


def method_settings() -> list[dict]:
    return [{"ResourcePath": "/*", "HttpMethod": "*",
             "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
             "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"}}]


def apply(template: dict) -> None:
    """Adds the parameters, the stage's method settings and the functions' concurrency."""
    template.setdefault("Parameters", {}).update(PARAMETERS)
    resources = template["Resources"]
    api = resources["RestAPI"]["Properties"]
    settings = method_settings()
    for path in anonymous_posts_of_api(api["DefinitionBody"]):
        figures = "Lookup" if path in LOOKUP_ROUTES else "AnonymousPost"
        settings.append({"ResourcePath": resource_path(path), "HttpMethod": "POST",
                         "ThrottlingRateLimit": {"Ref": f"{figures}RateLimit"},
                         "ThrottlingBurstLimit": {"Ref": f"{figures}BurstLimit"}})
    api["MethodSettings"] = settings
    for function, (parameter, _default) in RESERVED.items():
        props = resources[function]["Properties"]
        props["ReservedConcurrentExecutions"] = {"Ref": parameter}
        for event in props.get("Events", {}).values():
            if event["Type"] == "SQS":
                event["Properties"]["ScalingConfig"] = {"MaximumConcurrency": {"Ref": parameter}}
