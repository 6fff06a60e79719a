"""Each Lambda function's own role: exactly the actions and resources its code uses.

One definition for the cloud and the local stack: `infra/build.py` turns it into one
AWS::IAM::Role per function in the packaged template (SAM ignores a function's `Policies` when it
also names a `Role`, so the template carries roles, not policies), and `local/provision.py`
creates the same roles in the local stack, whose functions run with credentials of their own role
while moto checks every call (local/iam.py).

The trail and the supervision records are written once: no role may update or delete them, and
every write is a conditional put (attribute_not_exists) in the code. Evidence is written once to
the Object Lock bucket and can be neither overwritten nor deleted within its retention.
"""
from __future__ import annotations

import copy

# The functions as `chalice package` names them (app.py's handlers, CamelCased).
API = "APIHandler"
MATERIAL_UPLOADED = "MaterialUploaded"
WORKFLOW_MESSAGE = "WorkflowMessage"
DEFAULT_RATINGS = "DefaultRatings"
EXPORT_REPORTS = "ExportReports"
ANCHOR_TRAILS = "AnchorTrails"
HAND_OVER_CASES = "HandOverCases"
RATE_BY_DEFAULT = "RateByDefault"
EXPORT_SHARE = "ExportShare"
COUNT_AGAIN = "CountAgain"

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}

READ = ("dynamodb:GetItem", "dynamodb:Query")
APPEND = ("dynamodb:PutItem",)            # conditional puts only: never update or delete


def table(logical_id: str, *actions: str, indexes: bool = False) -> dict:
    resources = [{"Fn::GetAtt": [logical_id, "Arn"]}]
    if indexes:
        resources.append({"Fn::Sub": f"${{{logical_id}.Arn}}/index/*"})
    return {"Sid": logical_id, "Effect": "Allow", "Action": sorted(set(actions)),
            "Resource": resources}


def objects(logical_id: str, *actions: str, prefix: str = "") -> dict:
    return {"Sid": logical_id, "Effect": "Allow", "Action": sorted(set(actions)),
            "Resource": {"Fn::Sub": f"${{{logical_id}.Arn}}/{prefix}*"}}


def workflows(*logical_ids: str) -> dict:
    return {"Sid": "StartWorkflows", "Effect": "Allow", "Action": ["states:StartExecution"],
            "Resource": [{"Ref": name} for name in logical_ids]}


# Task tokens name no resource: IAM knows SendTask* only on "*" (the token itself is the
# capability, and only the system ever holds one).
ANSWER_WAITS = {"Sid": "AnswerWorkflowWaits", "Effect": "Allow",
                "Action": ["states:SendTaskFailure", "states:SendTaskSuccess"], "Resource": "*"}
# Text messages to a phone number name no resource either ("*" is the only form IAM has);
# publishing to a topic would name the topic.
TEXT_MESSAGES = {"Sid": "TextMessages", "Effect": "Allow", "Action": ["sns:Publish"],
                 "Resource": "*"}
CAMERAS = {"Sid": "WindowCameras", "Effect": "Allow",
           "Action": ["kinesisvideo:GetClip", "kinesisvideo:GetDataEndpoint",
                      "kinesisvideo:ListFragments"],
           "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kinesisvideo:${AWS::Region}:"
                                   "${AWS::AccountId}:stream/*"}}


def queue(logical_id: str) -> dict:
    """What Lambda's event source mapping does with the function's role: poll and delete."""
    return {"Sid": f"Poll{logical_id}", "Effect": "Allow",
            "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
                       "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            "Resource": {"Fn::GetAtt": [logical_id, "Arn"]}}


def send(logical_id: str) -> dict:
    """Hands messages to one queue (SendMessageBatch is authorised as sqs:SendMessage)."""
    return {"Sid": f"SendTo{logical_id}", "Effect": "Allow", "Action": ["sqs:SendMessage"],
            "Resource": {"Fn::GetAtt": [logical_id, "Arn"]}}


def logs(function: str) -> dict:
    """Its own log group only (created by the template, so no logs:CreateLogGroup)."""
    return {"Sid": "OwnLogGroup", "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                                    f":log-group:{log_group(function)}:*"}}


def log_group(function: str) -> str:
    """A function's log group, named from its stack-derived function name (so the role can name
    it without referring to the function, which refers to the role)."""
    return f"/aws/lambda/${{AWS::StackName}}-{function}"


IDEMPOTENCY = table("IdempotencyTable", "dynamodb:DeleteItem", "dynamodb:GetItem",
                    "dynamodb:PutItem", "dynamodb:UpdateItem")
# A case change is one transaction: the case (put on the trail head it read), its trail record
# and its branches (each put on the version it read).
CASE_CHANGES = [table("CasesTable", *READ, "dynamodb:PutItem", indexes=True),
                table("TrailTable", "dynamodb:Query", *APPEND),
                table("BranchesTable", *READ, "dynamodb:PutItem", indexes=True)]
# Which anchors there are and their first versions (ListObjectVersions names the bucket; a
# condition on s3:prefix would narrow it to anchors/, but the local stack's IAM cannot evaluate
# it and the roles must be the same in both).
ANCHOR_VERSIONS = {"Sid": "ListAnchorVersions", "Effect": "Allow",
                   "Action": ["s3:ListBucketVersions"],
                   "Resource": {"Fn::GetAtt": ["EvidenceBucket", "Arn"]}}
SUPERVISION_RECORDS = table("SupervisionTable", "dynamodb:Query", *APPEND, indexes=True)
# The hall's electronic seal: documents are signed in KMS (the private key never leaves it);
# GetPublicKey and one Sign make the seal's certificate (chalicelib/adapters/seal.py).
SEAL = {"Sid": "SealDocuments", "Effect": "Allow", "Action": ["kms:GetPublicKey", "kms:Sign"],
        "Resource": {"Fn::GetAtt": ["SealKey", "Arn"]}}
COUNTING = table("ScoresTable", "dynamodb:Query", "dynamodb:UpdateItem", indexes=True)
# A submission is counted once however often its hand-over is carried out: the ADDs and a
# conditional put of the event's marker in one transaction.
COUNTING_ONCE = table("ScoresTable", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
                      indexes=True)

POLICIES: dict[str, list[dict]] = {
    # The API: citizens, departments, agent points, the hotline and supervision offices.
    API: [
        *CASE_CHANGES,
        table("CountersTable", "dynamodb:UpdateItem"),        # running case numbers
        IDEMPOTENCY,
        SUPERVISION_RECORDS,
        table("TasksTable", *READ, "dynamodb:PutItem", indexes=True),
        table("FaqsTable", "dynamodb:PutItem", "dynamodb:Query"),
        table("VerificationsTable", "dynamodb:GetItem", "dynamodb:PutItem"),   # visitors' codes
        table("StaffAccountsTable", "dynamodb:GetItem"),   # which staff member a sign-in is
        # The real-name step: an identity number bound once to one account (two conditional
        # puts in one transaction, never updated or deleted), then set as the account's
        # verified attributes, which the citizens' app client may not write.
        table("IdentityBindingsTable", "dynamodb:GetItem", "dynamodb:PutItem"),
        {"Sid": "SetVerifiedIdentity", "Effect": "Allow",
         "Action": ["cognito-idp:AdminUpdateUserAttributes"],
         "Resource": {"Fn::GetAtt": ["CitizenUserPool", "Arn"]}},
        COUNTING_ONCE,
        send("CountingQueue"),      # counting that failed, counted again
        # Presigned uploads and views of materials; HEAD needs GetObject.
        objects("MaterialsBucket", "s3:GetObject", "s3:PutObject", prefix="cases/"),
        # Licences and sealed documents: issued, downloaded, checked (documents/, certificates/).
        objects("CertificatesBucket", "s3:GetObject", "s3:PutObject"),
        SEAL,
        # Evidence is written once; PutObjectRetention only lengthens a COMPLIANCE lock. Clips
        # are linked by the version the trail recorded (GetObjectVersion). No PutObject on
        # anchors/: the role that writes trails cannot write their anchors.
        objects("EvidenceBucket", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
                "s3:PutObjectRetention", prefix="evidence/"),
        # The trail verdict reads each anchor in its first version, the one Object Lock keeps.
        ANCHOR_VERSIONS,
        {**objects("EvidenceBucket", "s3:GetObjectVersion", prefix="anchors/"),
         "Sid": "ReadAnchors"},
        objects("ReportsBucket", "s3:GetObject"),
        workflows("CaseWorkflow", "TaskWorkflow"),
        ANSWER_WAITS,
        TEXT_MESSAGES,
        CAMERAS,
        # The key that signs the lists' cursors, read once per process.
        {"Sid": "CursorKey", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": {"Ref": "CursorKey"}},
    ],
    # S3 tells that a material arrived: the case records it as received or rejected.
    MATERIAL_UPLOADED: [
        queue("MaterialUploadsQueue"),
        table("CasesTable", "dynamodb:GetItem", "dynamodb:PutItem"),
        table("TrailTable", *APPEND),
        objects("MaterialsBucket", "s3:GetObject", prefix="cases/"),
    ],
    # What the workflows report: waits, limits run out, stages decided, tasks awaiting.
    WORKFLOW_MESSAGE: [
        queue("WorkflowQueue"),
        *CASE_CHANGES,
        SUPERVISION_RECORDS,
        table("TasksTable", *READ, "dynamodb:PutItem", indexes=True),
        COUNTING_ONCE,         # completions and cards are counted once however redelivered
        send("CountingQueue"),
        # The e-licence, then the documents a stage calls for, sealed (acceptance, decision).
        objects("CertificatesBucket", "s3:GetObject", "s3:PutObject"),
        SEAL,
        ANSWER_WAITS,
        TEXT_MESSAGES,
    ],
    # Daily: one message per hall to the default ratings' queue, and nothing else.
    DEFAULT_RATINGS: [
        send("DefaultRatingsQueue"),
    ],
    # A hall's share: its candidates (the sparse index of unrated cases) sent back to the same
    # queue as batches; a batch: each case rated by default (a case change), counted once.
    RATE_BY_DEFAULT: [
        queue("DefaultRatingsQueue"),
        send("DefaultRatingsQueue"),
        *CASE_CHANGES,
        COUNTING_ONCE,
        send("CountingQueue"),
    ],
    # Hourly: one message per period to export and one for the board's figures.
    EXPORT_REPORTS: [
        send("ReportExportsQueue"),
    ],
    # A period's reports, or the board's figures, from the counters (the sharded index); the
    # figures are put as one item of the scores table, which the API reads.
    EXPORT_SHARE: [
        queue("ReportExportsQueue"),
        {"Sid": "PeriodCounters", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": {"Fn::Sub": "${ScoresTable.Arn}/index/ByPeriodShard"}},
        # The board's recent completions: the completed cases' index only, never a case item.
        {"Sid": "RecentCompletions", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": {"Fn::Sub": "${CasesTable.Arn}/index/CompletedByDayShard"}},
        table("ScoresTable", "dynamodb:PutItem"),   # the board; a report's delivery claimed
        objects("ReportsBucket", "s3:PutObject"),
        TEXT_MESSAGES,         # a hall's weekly and monthly report, texted to its subscribers
    ],
    # Counting that failed where it happened: the counter items and the message's marker in
    # one transaction (a conditional put and ADDs), nothing else.
    COUNT_AGAIN: [
        queue("CountingQueue"),
        table("ScoresTable", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    ],
    # Hourly: the heads of the chains that changed in the hour before, anchored outside the
    # trail table. It reads only the index of changed chains (no trail record, no case) and
    # writes only under anchors/ in the Object Lock bucket; it can neither write a trail nor
    # change or delete an anchor (the bucket's default COMPLIANCE retention locks each one, so
    # no PutObjectRetention is needed). GetObjectVersion: the previous hour's manifest, chained.
    ANCHOR_TRAILS: [
        {"Sid": "ChangedChains", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": {"Fn::Sub": "${TrailTable.Arn}/index/ByAnchorPeriod"}},
        ANCHOR_VERSIONS,
        {**objects("EvidenceBucket", "s3:GetObjectVersion", "s3:PutObject", prefix="anchors/"),
         "Sid": "WriteAnchors"},
    ],
    # Every minute: the hand-overs to the case workflow that a fault left pending (the
    # outbox's sweeper). It reads the sparse index of pending hand-overs, starts a submitted
    # case's workflow (its first branches and trail record, the execution, the submission
    # counted once) and tells a waiting task its answer; then forgets the hand-over. The same
    # for supervised work: a task's pending workflow start (sparse index StartsDue).
    HAND_OVER_CASES: [
        table("CasesTable", "dynamodb:GetItem", "dynamodb:PutItem"),
        {"Sid": "PendingHandOvers", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": {"Fn::Sub": "${CasesTable.Arn}/index/HandOversDue"}},
        table("TrailTable", *APPEND),
        table("BranchesTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"),
        COUNTING_ONCE,
        workflows("CaseWorkflow", "TaskWorkflow"),
        ANSWER_WAITS,
        TEXT_MESSAGES,         # a case it starts texts the applicant its number and query code
        # Supervised work's own outbox: a task's workflow start left pending, then forgotten.
        table("TasksTable", "dynamodb:GetItem", "dynamodb:PutItem"),
        {"Sid": "PendingTaskStarts", "Effect": "Allow", "Action": ["dynamodb:Query"],
         "Resource": {"Fn::Sub": "${TasksTable.Arn}/index/StartsDue"}},
        # A correction notice whose seal failed as the window decided: sealed and stored now.
        objects("CertificatesBucket", "s3:GetObject", "s3:PutObject"),
        SEAL,
    ],
}


def role_name(function: str) -> str:
    return f"{function}Role"


def role(function: str) -> dict:
    statements = [logs(function)] + copy.deepcopy(POLICIES[function])
    return {"Type": "AWS::IAM::Role", "Properties": {
        "Description": f"The {function} function's own role (infra/roles.py)",
        "AssumeRolePolicyDocument": LAMBDA_TRUST,
        "Policies": [{"PolicyName": f"{function}-least-privilege", "PolicyDocument": {
            "Version": "2012-10-17", "Statement": statements}}]}}


def apply(resources: dict) -> None:
    """Every function gets its own role and a stack-derived name; chalice's shared DefaultRole
    and the policies it would ignore are removed."""
    functions = sorted(name for name, r in resources.items()
                       if r["Type"] == "AWS::Serverless::Function")
    unknown = set(functions) - set(POLICIES)
    if unknown:
        raise SystemExit(f"infra/roles.py defines no role for the function(s) {sorted(unknown)}")
    for name in functions:
        props = resources[name]["Properties"]
        props.pop("Policies", None)
        props["FunctionName"] = {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
        props["Role"] = {"Fn::GetAtt": [role_name(name), "Arn"]}
        resources[role_name(name)] = role(name)
    if resources.get("DefaultRole", {}).get("Type") == "AWS::IAM::Role":
        del resources["DefaultRole"]
