"""E-mail of the halls' weekly and monthly reports, in the global template.

The report export (`ExportShare`) sends each hall's finished week's and month's report to the
hall's subscribers (the catalog's `report_subscribers`): by Amazon SES from the deployment's
sender address, a verified SES identity, and by text message. The sender is a deploy parameter;
left empty, no e-mail is sent (text messages only). The function may send from that one
identity and no other (ses:SendEmail on the identity's ARN; left empty, an ARN naming none). The China variant has no SES: its subscribers are texted through the SMS
gateway (infra/china.py)."""
from __future__ import annotations

from infra import roles

PARAMETERS = {
    "ReportSenderAddress": {
        "Type": "String",
        "Default": "",
        "Description": "The verified SES identity (an e-mail address) the halls' weekly and "
                       "monthly reports are sent from; empty: reports are texted, not e-mailed",
        "AllowedPattern": r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        "ConstraintDescription": "an e-mail address verified in SES, or empty"},
}
ENVIRONMENT = {"REPORT_SENDER": {"Ref": "ReportSenderAddress"}}
# Sending from the one identity named (left empty, the ARN names no identity: nothing is sent).
SEND_MAIL = {"Sid": "ReportMail", "Effect": "Allow", "Action": ["ses:SendEmail"],
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:"
                                     "${AWS::AccountId}:identity/${ReportSenderAddress}"}}


def apply(template: dict) -> None:
    """Adds the parameter, the export function's sender and its grant to send from it."""
    resources = template["Resources"]
    template.setdefault("Parameters", {}).update(PARAMETERS)
    function = resources[roles.EXPORT_SHARE]["Properties"]
    function.setdefault("Environment", {}).setdefault("Variables", {}).update(ENVIRONMENT)
    role = resources[roles.role_name(roles.EXPORT_SHARE)]["Properties"]
    role["Policies"][0]["PolicyDocument"]["Statement"].append(dict(SEND_MAIL))
