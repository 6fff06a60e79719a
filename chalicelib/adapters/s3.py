"""Materials in S3. Uploads go straight from the applicant's browser to S3 through a presigned
PUT whose signature covers the content type, the length and the SHA-256 checksum, so S3 itself
refuses any other file."""
from __future__ import annotations

import base64

from . import aws


class S3Materials:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def upload_ticket(self, key, content_type, size, sha256_hex, expires_in):
        checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")
        url = aws.client("s3").generate_presigned_url(
            "put_object", ExpiresIn=expires_in,
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type,
                    "ContentLength": size, "ChecksumSHA256": checksum})
        return {"method": "PUT", "url": url, "expires_in": expires_in,
                "headers": {"Content-Type": content_type, "Content-Length": str(size),
                            "x-amz-checksum-sha256": checksum}}

    def viewing_link(self, key, filename, content_type, expires_in):
        from urllib.parse import quote

        url = aws.client("s3").generate_presigned_url(
            "get_object", ExpiresIn=expires_in,
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                    # RFC 6266: the applicant's Chinese file name survives as UTF-8
                    "ResponseContentDisposition":
                        f"inline; filename*=UTF-8''{quote(filename)}"})
        return {"url": url, "expires_in": expires_in}

    def inspect(self, key):
        from botocore.exceptions import ClientError

        try:
            head = aws.client("s3").head_object(Bucket=self.bucket, Key=key,
                                                ChecksumMode="ENABLED")
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        checksum = head.get("ChecksumSHA256")
        return {"size": head["ContentLength"], "content_type": head.get("ContentType"),
                "sha256": base64.b64decode(checksum).hex() if checksum else None}
