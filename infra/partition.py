"""Partition-aware templates: the same template deploys in `aws` and in `aws-cn` (AWS's China
regions), so it names no partition and no domain of its own.

- ARNs take the partition from `${AWS::Partition}`; the state machines' service integrations
  (`arn:aws:states:::sqs:...` in statemachines/*.asl.json, kept literal for the local stack)
  get it through a `Partition` definition substitution.
- Addresses take the domain from `${AWS::URLSuffix}` (amazonaws.com or amazonaws.com.cn).
- Service principals are not addresses: the principals this template trusts (PRINCIPALS:
  lambda, apigateway, states, s3, ...) are `<service>.amazonaws.com` in China as elsewhere, and
  `lambda.amazonaws.com.cn` is refused there as an invalid principal; the federated principal
  of identity pools' roles (`cognito-identity.amazonaws.com`, the staff sign-in) is named the
  same way in every partition. They are the only
  `amazonaws.com` the template may carry, and only where a principal is named.

`apply` makes the substitutions and then refuses a template with any other literal."""
from __future__ import annotations

import re

STATES_INTEGRATION = "arn:aws:states:::"
# The service principals the template may name, identical in every partition.
PRINCIPALS = frozenset({"lambda.amazonaws.com", "apigateway.amazonaws.com",
                        "states.amazonaws.com", "s3.amazonaws.com", "cognito-idp.amazonaws.com",
                        "cloudwatch.amazonaws.com", "events.amazonaws.com",
                        # the federated principal of identity pools' roles (the staff sign-in)
                        "cognito-identity.amazonaws.com"})


PRINCIPAL_KINDS = ("Service", "Federated")


class PartitionLiteral(SystemExit):
    pass


def apply(template: dict) -> None:
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        definition = props.get("DefinitionString")
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and \
                isinstance(definition, str) and STATES_INTEGRATION in definition:
            props["DefinitionString"] = definition.replace(STATES_INTEGRATION,
                                                           "arn:${Partition}:states:::")
            props.setdefault("DefinitionSubstitutions", {})["Partition"] = {
                "Ref": "AWS::Partition"}
    found = literals(template)
    if found:
        raise PartitionLiteral("partition or domain literals in the template:\n  "
                               + "\n  ".join(found))


def literals(node, path: str = "", principal: bool = False) -> list[str]:
    """Where a string names the `aws` partition or the amazonaws.com domain, other than a
    service principal in a principal's place."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            inside = principal or key in PRINCIPAL_KINDS and path.endswith(".Principal") \
                or key == "Principal" and _is_permission(path)
            found += literals(value, f"{path}.{key}", inside)
        return found
    if isinstance(node, list):
        return [hit for i, value in enumerate(node)
                for hit in literals(value, f"{path}[{i}]", principal)]
    if isinstance(node, str):
        if re.search(r"arn:aws:", node):
            return [f"{path.lstrip('.')}: {node[:80]!r}"]
        if "amazonaws.com" in node and not (principal and node in PRINCIPALS):
            return [f"{path.lstrip('.')}: {node[:80]!r}"]
    return []


def _is_permission(path: str) -> bool:
    # AWS::Lambda::Permission names its principal in Properties.Principal
    return path.endswith(".Properties")
