"""Sealed documents in the certificates bucket: `documents/<id>.json` (what the document is: its
case, kind, number, SHA-256 and the key of its PDF) and `documents/<id>/<sha256>.pdf` (the sealed
PDF, named by its own hash, so a document produced again never overwrites the one the trail
recorded). Downloads are presigned GETs that live five minutes."""
from __future__ import annotations

import copy
import json

from . import aws


class S3Documents:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def put_pdf(self, key: str, data: bytes) -> None:
        import base64
        import hashlib

        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType="application/pdf",
            ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode())

    def get_pdf(self, key: str) -> bytes | None:
        return self._get(key)

    def put_record(self, document_id: str, record: dict) -> None:
        aws.client("s3").put_object(Bucket=self.bucket, Key=f"documents/{document_id}.json",
                                    Body=json.dumps(record, ensure_ascii=False).encode(),
                                    ContentType="application/json")

    def get_record(self, document_id: str) -> dict | None:
        body = self._get(f"documents/{document_id}.json")
        return json.loads(body) if body is not None else None

    def link(self, key: str, filename: str, expires_in: int) -> dict:
        from urllib.parse import quote

        url = aws.client("s3").generate_presigned_url(
            "get_object", ExpiresIn=expires_in,
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": "application/pdf",
                    "ResponseContentDisposition":
                        f"attachment; filename*=UTF-8''{quote(filename)}"})
        return {"url": url, "expires_in": expires_in}

    def _get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise


class InMemoryDocuments:
    """The same port in memory (unit tests)."""

    def __init__(self):
        self.pdfs: dict[str, bytes] = {}
        self.records: dict[str, dict] = {}

    def put_pdf(self, key, data):
        self.pdfs[key] = bytes(data)

    def get_pdf(self, key):
        return self.pdfs.get(key)

    def put_record(self, document_id, record):
        self.records[document_id] = copy.deepcopy(record)

    def get_record(self, document_id):
        return copy.deepcopy(self.records.get(document_id))

    def link(self, key, filename, expires_in):
        return {"url": f"memory://{key}", "expires_in": expires_in}
