"""Evidence (camera clips) in S3, written once: the bucket's Object Lock keeps every version
in compliance mode, so no role, not even the account's root, can change or delete a clip
before its retention ends. The SHA-256 recorded in the trail is also S3's own checksum, and so
is the version S3 gave the clip: a link opens that version, whatever is put on the key later."""
from __future__ import annotations

import base64

from . import aws


class S3Evidence:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def put_once(self, key: str, body: bytes, content_type: str, sha256_hex: str) -> str | None:
        """The version S3 gave the clip (None only where a bucket keeps no versions)."""
        written = aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
            ChecksumAlgorithm="SHA256",   # Object Lock accepts no write without a checksum
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256_hex)).decode())
        return written.get("VersionId")

    def link(self, key: str, seconds: int, version_id: str | None = None) -> str:
        """A presigned GET of exactly that version of the clip (GetObjectVersion)."""
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        return aws.client("s3").generate_presigned_url("get_object", Params=params,
                                                       ExpiresIn=seconds)


class InMemoryEvidence:
    def __init__(self):
        self.objects: dict[str, dict] = {}

    def put_once(self, key, body, content_type, sha256_hex):
        if key in self.objects:
            raise PermissionError(f"evidence {key} is written once")
        version_id = f"v{len(self.objects) + 1}"
        self.objects[key] = {"body": body, "content_type": content_type, "sha256": sha256_hex,
                             "version_id": version_id}
        return version_id

    def link(self, key, seconds, version_id=None):
        version = f"&versionId={version_id}" if version_id else ""
        return f"memory://evidence/{key}?expires={seconds}{version}"


class S3Reports:
    """Exported report documents (CSV, HTML) for the supervision office."""

    def __init__(self, bucket: str):
        self.bucket = bucket

    def put(self, key: str, body: str, content_type: str) -> None:
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body.encode("utf-8"),
                                    ContentType=content_type)

    def get(self, key: str):
        from botocore.exceptions import ClientError

        try:
            found = aws.client("s3").get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return found["Body"].read().decode("utf-8"), found["ContentType"]
