"""`python -m local.anchor [--at INSTANT]`: runs the hourly anchoring job (app.anchor_trails)
once on the running local stack, now rather than at a quarter past the next hour, and allowed no
more than the AnchorTrails function's role allows: the role's trust admits only Lambda, so this
runs with the key of a local user whose one policy is that role's policy document as the stack
provisioned it (moto checks every call against it; logs/iam.jsonl names the user
`AnchorTrails-run`). `--at` sets the job's clock, e.g. a quarter past the next hour to anchor the
current one in a demo or a test. Prints the periods it anchored."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = "AnchorTrails"


def _as_the_function(state_dir: Path) -> None:
    """The environment the function has, and a key allowed exactly what its role allows."""
    import boto3

    described = json.loads((state_dir / "stack.json").read_text(encoding="utf-8"))
    aws = described["aws"]
    iam = boto3.client("iam", endpoint_url=aws["endpoint"], region_name=aws["region"],
                       aws_access_key_id=aws["access_key_id"],
                       aws_secret_access_key=aws["secret_access_key"])
    role = described["roles"][FUNCTION].rsplit("/", 1)[-1]
    policy = iam.get_role_policy(RoleName=role, PolicyName=f"{FUNCTION}-least-privilege")
    user = f"{FUNCTION}-run"
    try:
        iam.create_user(UserName=user, Path="/approval/local-run/")
    except iam.exceptions.EntityAlreadyExistsException:
        for old in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=user, AccessKeyId=old["AccessKeyId"])
    document = policy["PolicyDocument"]
    iam.put_user_policy(UserName=user, PolicyName=policy["PolicyName"],
                        PolicyDocument=document if isinstance(document, str)
                        else json.dumps(document))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(described["environment"])      # the functions' settings
    os.environ.update({"AWS_ENDPOINT_URL": aws["endpoint"],
                       "AWS_DEFAULT_REGION": aws["region"], "AWS_REGION": aws["region"],
                       "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                       "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None,
                        help="the job's clock (ISO instant; now by default)")
    args = parser.parse_args(argv)
    _as_the_function(args.state_dir)
    from chalicelib import bootstrap
    from chalicelib.adapters.anchors import S3Anchors
    from chalicelib.adapters.dynamodb import DynamoTrails
    from chalicelib.service.trails import Anchoring

    at = args.at or datetime.now(timezone.utc)
    settings = bootstrap.settings()         # binds the tables
    written = Anchoring(DynamoTrails(), S3Anchors(settings.evidence_bucket), lambda: at).run()
    print(json.dumps({"anchored": written}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
