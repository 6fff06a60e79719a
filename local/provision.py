"""Creates the local stack's resources from infra/resources.json, the template the cloud uses,
through the real AWS APIs (here answered by moto) with the operator's key, creates each
function's and each workflow's role as the packaged template defines it (infra/roles.py and the
workflow roles of infra/resources.json, their references resolved to the local resources), the
staff sign-in (local/staff.py), and the systems' SigV4 keys."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from .sigv4 import Key

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "resources.json"
STACK = "approval"
ACCOUNT = "123456789012"
# The long-lived keys: systems only, each a named system account (IAM users under
# /approval/system/). People sign in as themselves (local/staff.py).
HOTLINES = {"BZ-12345": "亳州市12345政务服务便民热线"}
DEPARTMENT_SYSTEMS = {"SW-JSXT": ("SW", "税务部门业务系统（只读对接）")}


@dataclass
class Provisioned:
    region: str
    endpoint: str
    names: dict[str, str] = field(default_factory=dict)      # logical id → physical name
    refs: dict[str, str] = field(default_factory=dict)       # logical id → what Ref returns
    environment: dict[str, str] = field(default_factory=dict)
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    keys: dict[str, Key] = field(default_factory=dict)          # access key id → key
    roles: dict[str, str] = field(default_factory=dict)         # function / workflow → role ARN
    callers: dict[str, dict] = field(default_factory=dict)      # "hotline:BZ-12345" → key pair
    staff: object = None                                        # local/staff.py's StaffSignIn


def template() -> dict:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))


def named(value) -> str:
    """A name the template derives from the stack's name, for the local stack."""
    return resolve(value, {}, {}, "us-east-1")


def physical_name(logical_id: str, resource: dict) -> str:
    kind = resource.get("Type")
    if kind == "AWS::SQS::Queue":
        return named(resource["Properties"]["QueueName"])   # handlers subscribe by this name
    if kind == "AWS::S3::Bucket":
        return f"{STACK}-{logical_id}".lower()
    return f"{STACK}-{logical_id}"


def provision(endpoint: str, region: str, department_codes: list[str],
              auditors: dict[str, str], operator: tuple[str, str],
              without: tuple[str, ...] = ()) -> Provisioned:
    """`without`: statements left out of the roles, as "Function:Sid" (to show that a missing
    permission fails here as it would in the cloud)."""
    session = boto3.Session(region_name=region, aws_access_key_id=operator[0],
                            aws_secret_access_key=operator[1])

    def client(service):
        return session.client(service, endpoint_url=endpoint)

    from . import staff

    out = Provisioned(region=region, endpoint=endpoint)
    defined = template()["Resources"]
    resources = {k: v for k, v in defined.items() if k not in staff.RESOURCES}   # local/staff.py
    for logical_id, resource in resources.items():
        if resource.get("Type"):
            out.names[logical_id] = physical_name(logical_id, resource)
    # Dead-letter queues before the queues that point at them, queues before the buckets that
    # notify them.
    order = {"AWS::SQS::Queue": 0, "AWS::S3::Bucket": 1}
    ranked = sorted(resources.items(), key=lambda r: (
        order.get(r[1].get("Type"), 2), "RedrivePolicy" in r[1].get("Properties", {})))
    for logical_id, resource in ranked:
        kind, props = resource.get("Type"), resource.get("Properties", {})
        name = out.names.get(logical_id)
        if kind == "AWS::DynamoDB::Table":
            _table(client("dynamodb"), name, props)
        elif kind == "AWS::S3::Bucket":
            _bucket(client("s3"), name, props, region)
        elif kind == "AWS::SQS::Queue":
            out.refs[logical_id] = _queue(client("sqs"), name, props, out.names, region)
        elif kind == "AWS::Cognito::UserPool":
            out.user_pool_id = _user_pool(client("cognito-idp"), props)
        elif kind == "AWS::IAM::Group":
            client("iam").create_group(GroupName=name, Path=props["Path"])
        elif kind == "AWS::SNS::Topic":
            out.refs[logical_id] = client("sns").create_topic(
                Name=named(props["TopicName"]))["TopicArn"]
        elif kind == "AWS::SecretsManager::Secret":
            out.refs[logical_id] = _secret(client("secretsmanager"), name, props)
        elif kind == "AWS::KMS::Key":       # the hall's seal: moto signs with it as KMS does
            out.refs[logical_id] = client("kms").create_key(
                Description=props.get("Description", ""), KeySpec=props["KeySpec"],
                KeyUsage=props["KeyUsage"])["KeyMetadata"]["KeyId"]
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Cognito::UserPoolClient":
            props = resource["Properties"]
            out.user_pool_client_id = client("cognito-idp").create_user_pool_client(
                UserPoolId=out.user_pool_id, ClientName=props["ClientName"],
                GenerateSecret=False, ExplicitAuthFlows=props["ExplicitAuthFlows"],
                ReadAttributes=props.get("ReadAttributes", []),
                **({"WriteAttributes": props["WriteAttributes"]}
                   if "WriteAttributes" in props else {}),
            )["UserPoolClient"]["ClientId"]
    pool_arn = f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{out.user_pool_id}"
    arns = _arns(resources, out, region, pool_arn)
    iam = client("iam")
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::IAM::Role":        # the workflows' roles
            props = resource["Properties"]
            arns[logical_id] = _role(iam, out.names[logical_id], props["AssumeRolePolicyDocument"],
                                     props.get("Policies", []), out, arns, region)
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::StepFunctions::StateMachine":
            props = resource["Properties"]
            out.refs[logical_id] = _state_machine(
                client("stepfunctions"), props, {**out.names, **out.refs}, region,
                arns[props["RoleArn"]["Fn::GetAtt"][0]])
            out.roles[logical_id] = arns[props["RoleArn"]["Fn::GetAtt"][0]]
    from infra import roles
    for function in roles.POLICIES:
        document = roles.role(function)["Properties"]
        for policy in document["Policies"]:
            policy["PolicyDocument"]["Statement"] = [
                statement for statement in policy["PolicyDocument"]["Statement"]
                if f"{function}:{statement.get('Sid')}" not in without]
        out.roles[function] = _role(iam, f"{STACK}-{roles.role_name(function)}",
                                    document["AssumeRolePolicyDocument"], document["Policies"],
                                    out, arns, region)
    out.staff = staff.provision(client, defined, region, {**out.names, **out.refs}, arns,
                                out.names["StaffAccountsTable"])
    out.refs.update({"StaffIdentityPool": out.staff.identity_pool_id,
                     "StaffWebClient": out.staff.client_id,
                     "StaffUserPool": out.staff.user_pool_id})
    refs = {**out.names, **out.refs, "CitizenUserPool": out.user_pool_id,
            "CitizenWebClient": out.user_pool_client_id}
    for name, value in resources["APIHandler"]["Properties"]["Environment"]["Variables"].items():
        if "Ref" in value:
            out.environment[name] = refs[value["Ref"]]
        elif value.get("Fn::GetAtt") == ["CitizenUserPool", "Arn"]:
            out.environment[name] = pool_arn
        elif value.get("Fn::GetAtt") == ["StaffUserPool", "ProviderName"]:
            out.environment[name] = out.staff.provider
    callers = [("hotline", code, "system/hotline", "HotlineCallers") for code in HOTLINES]
    callers += [("system", code, f"system/department/{department}", "DepartmentSystemCallers")
                for code, (department, _label) in DEPARTMENT_SYSTEMS.items()]
    for label, code, path, group in callers:
        user = iam.create_user(UserName=code, Path=f"/{STACK}/{path}/")["User"]
        iam.add_user_to_group(GroupName=out.names[group], UserName=code)
        pair = iam.create_access_key(UserName=code)["AccessKey"]
        key = Key(pair["AccessKeyId"], pair["SecretAccessKey"], user["Arn"])
        out.keys[key.access_key_id] = key
        out.callers[f"{label}:{code}"] = {"access_key_id": key.access_key_id,
                                          "secret_access_key": key.secret_access_key,
                                          "arn": key.arn}
    return out


def _table(dynamodb, name: str, props: dict) -> None:
    args = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode") if k in props}
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(TableName=name, **args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def _secret(secretsmanager, name: str, props: dict) -> str:
    """A secret whose value the template has Secrets Manager generate: generated here as
    GenerateSecretString asks (length, letters and digits), new at every start."""
    import secrets
    import string

    spec = props["GenerateSecretString"]
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    value = "".join(secrets.choice(alphabet) for _ in range(spec.get("PasswordLength", 32)))
    return secretsmanager.create_secret(Name=name, Description=props.get("Description", ""),
                                        SecretString=value)["ARN"]


def _arn(kind: str, name: str, region: str) -> str:
    return {"AWS::SQS::Queue": f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"}[kind]


def _queue(sqs, name: str, props: dict, names: dict, region: str) -> str:
    attributes = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
    redrive = props.get("RedrivePolicy")
    if redrive:
        target = names[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]
        attributes["RedrivePolicy"] = json.dumps({
            "deadLetterTargetArn": _arn("AWS::SQS::Queue", target, region),
            "maxReceiveCount": redrive["maxReceiveCount"]})
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def _bucket(s3, name: str, props: dict, region: str) -> None:
    extra = {} if region == "us-east-1" else \
        {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=bool(
        props.get("ObjectLockEnabled")), **extra)
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "BucketEncryption" in props:
        # CloudFormation and the S3 API name the default-encryption block differently.
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
    if "ObjectLockConfiguration" in props:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=props[
            "ObjectLockConfiguration"])
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props[
            "VersioningConfiguration"])
    if "CorsConfiguration" in props:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
            {k: v for k, v in rule.items() if k != "MaxAge"} | {"MaxAgeSeconds": rule["MaxAge"]}
            for rule in props["CorsConfiguration"]["CorsRules"]]})
    notifications = props.get("NotificationConfiguration", {}).get("QueueConfigurations", [])
    if notifications:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
            "QueueConfigurations": [{
                "QueueArn": _arn("AWS::SQS::Queue", _queue_name(n["Queue"]), region),
                "Events": [n["Event"]],
                "Filter": {"Key": {"FilterRules": n["Filter"]["S3Key"]["Rules"]}}}
                for n in notifications]})


def _arns(resources: dict, out: Provisioned, region: str, pool_arn: str) -> dict[str, str]:
    """What Fn::GetAtt [X, Arn] names for each local resource."""
    arns = {}
    for logical_id, resource in resources.items():
        name, kind = out.names.get(logical_id), resource.get("Type")
        arns[logical_id] = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{ACCOUNT}:{name}",
            "AWS::SNS::Topic": out.refs.get(logical_id),
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Cognito::UserPool": pool_arn,
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{ACCOUNT}:key/{out.refs.get(logical_id)}",
            "AWS::StepFunctions::StateMachine":
                f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:"
                f"{named(resource.get('Properties', {}).get('StateMachineName', ''))}",
        }.get(kind)
    return arns


def resolve(value, refs: dict, arns: dict, region: str):
    """The template's intrinsic functions (Ref, Fn::GetAtt, Fn::Sub), resolved to the local
    stack's resources."""
    import re

    pseudo = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": ACCOUNT,
              "AWS::StackName": STACK, "AWS::URLSuffix": "amazonaws.com"}
    if isinstance(value, list):
        return [resolve(v, refs, arns, region) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        return pseudo.get(name) or refs.get(name) or arns[name]
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute != "Arn":
            raise ValueError(f"Fn::GetAtt {logical_id}.{attribute} is not resolved locally")
        return arns[logical_id]
    if set(value) == {"Fn::Sub"}:
        def one(match):
            name = match.group(1)
            if name.endswith(".Arn"):
                return arns[name[:-4]]
            return pseudo.get(name) or refs.get(name) or arns[name]
        return re.sub(r"\$\{([^}]+)\}", one, value["Fn::Sub"])
    return {k: resolve(v, refs, arns, region) for k, v in value.items()}


def _role(iam, name: str, trust: dict, policies: list, out: Provisioned, arns: dict,
          region: str) -> str:
    refs = {**out.names, **out.refs}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
                          )["Role"]["Arn"]
    for policy in policies:
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                            PolicyDocument=json.dumps(resolve(policy["PolicyDocument"], refs,
                                                              arns, region)))
    return arn


def _state_machine(sfn, props: dict, refs: dict, region: str, role_arn: str) -> str:
    """Created through the API from the same ASL file and substitutions as the cloud's (moto
    executes only state machines created this way)."""
    definition = (TEMPLATE.parent.parent / props["DefinitionS3Location"]).read_text(encoding="utf-8")
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + name + "}", refs[value["Ref"]])
    return sfn.create_state_machine(name=named(props["StateMachineName"]), definition=definition,
                                    roleArn=role_arn,
                                    type=props.get("StateMachineType", "STANDARD")
                                    )["stateMachineArn"]


def _queue_name(reference: dict) -> str:
    logical_id = reference["Fn::GetAtt"][0]
    return named(template()["Resources"][logical_id]["Properties"]["QueueName"])


def _user_pool(cognito, props: dict) -> str:
    schema = []
    for attribute in props.get("Schema", []):
        entry = {k: v for k, v in attribute.items() if k != "StringAttributeConstraints"}
        if "StringAttributeConstraints" in attribute:
            entry["StringAttributeConstraints"] = attribute["StringAttributeConstraints"]
        schema.append(entry)
    return cognito.create_user_pool(
        PoolName=named(props["UserPoolName"]), Policies=props["Policies"], Schema=schema,
        AutoVerifiedAttributes=props.get("AutoVerifiedAttributes", []),
    )["UserPool"]["Id"]
