"""Where the trails' anchors go to and are read from: the evidence bucket (S3, Object Lock in
compliance mode). The chains they anchor are read from the trail table (DynamoTrails in
adapters/dynamodb/trail.py).

An anchor is written with `If-None-Match: *`, so a second run of the job for the same hour writes
nothing; and it is always read in its first version: Object Lock keeps that version for the
retention period whatever is put on the same key later, so a later version (which only a holder
of the anchoring job's role could put) is never believed."""
from __future__ import annotations

import base64
import hashlib

from ..domain import anchors
from ..domain.trail import TrailRecord
from . import aws


class S3Anchors:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def put_once(self, key: str, body: bytes) -> bool:
        """False when the key holds an object already (nothing is written then)."""
        from botocore.exceptions import ClientError

        try:
            aws.client("s3").put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/json",
                IfNoneMatch="*", ChecksumAlgorithm="SHA256",   # Object Lock needs a checksum
                ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode())
            return True
        except ClientError as error:
            if error.response["Error"]["Code"] in ("PreconditionFailed", "412",
                                                   "ConditionalRequestConflict"):
                return False
            raise

    def first_version(self, key: str) -> bytes | None:
        """The key's first version, the one Object Lock keeps unchanged; None if there is
        none."""
        versions = self._versions(key)
        if not versions:
            return None
        found = aws.client("s3").get_object(Bucket=self.bucket, Key=key,
                                            VersionId=versions[-1]["VersionId"])
        return found["Body"].read()

    def _versions(self, key: str) -> list[dict]:
        """The key's versions, newest first (as S3 lists them)."""
        pages = aws.client("s3").get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=key)
        return [v for page in pages for v in page.get("Versions", []) if v["Key"] == key]

    def manifests(self, prefix: str) -> list[str]:
        """The periods of the manifests whose key starts with `prefix` (`anchors/2026-11-21`
        for a day), oldest first; the shards' folders are left out by the delimiter."""
        pages = aws.client("s3").get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        periods = {anchors.period_of_manifest_key(v["Key"]) for page in pages
                   for v in page.get("Versions", [])}
        return sorted(p for p in periods if p)


class InMemoryAnchors:
    """The same, kept in a dict of versions (tests)."""

    def __init__(self):
        self.objects: dict[str, list[bytes]] = {}     # key → versions, oldest first

    def put_once(self, key, body):
        if key in self.objects:
            return False
        self.objects[key] = [body]
        return True

    def overwrite(self, key, body):
        """What a holder of the job's role could do: put a later version on a key."""
        self.objects.setdefault(key, []).append(body)

    def first_version(self, key):
        versions = self.objects.get(key)
        return versions[0] if versions else None

    def manifests(self, prefix):
        return sorted(p for p in (anchors.period_of_manifest_key(k) for k in self.objects
                                  if k.startswith(prefix)) if p)


class InMemoryTrails:
    """Trail records with the period each was written in (tests)."""

    def __init__(self):
        self.items: dict[tuple[str, int], tuple[TrailRecord, str]] = {}

    def add(self, record: TrailRecord, period: str):
        self.items[(record.case_id, record.seq)] = (record, period)

    def records(self, chain_id):
        found = sorted((seq, record, period) for (chain, seq), (record, period)
                       in self.items.items() if chain == chain_id)
        return [record for _, record, _ in found], {period for _, _, period in found}

    def hash_at(self, chain_id, seq):
        found = self.items.get((chain_id, seq))
        return found[0].hash if found else None

    def written_in(self, period):
        for (chain, seq), (record, written) in sorted(self.items.items()):
            if written == period:
                yield chain, seq, record.hash
