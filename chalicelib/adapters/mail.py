"""E-mail to a hall's report subscribers (the Mailer port: send(to, subject, html, text)).

`SesMailer` sends through Amazon SES (API v2 SendEmail) from the deployment's verified sender
address (REPORT_SENDER, the template's ReportSenderAddress); without one (the local stack, the
China template, where SES is not offered) there is no mailer and subscribers are reached by text
message only (chalicelib/service/performance.py). `from_environment` chooses."""
from __future__ import annotations

import os

from . import aws


class SesMailer:
    def __init__(self, sender: str):
        self.sender = sender

    def send(self, to: str, subject: str, html: str, text: str) -> None:
        aws.client("sesv2").send_email(
            FromEmailAddress=self.sender, Destination={"ToAddresses": [to]},
            Content={"Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Html": {"Data": html, "Charset": "UTF-8"},
                         "Text": {"Data": text, "Charset": "UTF-8"}}}})


def from_environment(environ=None) -> SesMailer | None:
    sender = (environ if environ is not None else os.environ).get("REPORT_SENDER") or ""
    return SesMailer(sender) if sender.strip() else None
