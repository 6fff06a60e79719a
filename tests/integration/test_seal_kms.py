"""The hall's seal with its key in KMS (moto's KMS, which signs with asymmetric keys as KMS
does): a document sealed through KMS Sign verifies, the seal's certificate is the same from
every process, its signature verifies with KMS itself, and a tampered file fails."""
import hashlib

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters import aws
from chalicelib.adapters.seal import KmsSealKey, LocalSealKey, Seal, seal_certificate


@pytest.fixture
def kms(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        client = boto3.client("kms")
        key = client.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY",
                                Description="seal")["KeyMetadata"]
        yield client, key
        aws.reset()


def minimal_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(40, 10, "BZ-20261130-00001")
    return bytes(pdf.output())


def test_a_document_sealed_with_the_kms_key_verifies_and_a_tampered_one_fails(kms):
    client, key = kms
    seal = Seal(KmsSealKey(key["KeyId"]))
    signed = seal.sign(minimal_pdf(), reason="受理通知书", location="亳州市政务服务中心")
    verdict = seal.verify(signed)
    assert verdict.valid and verdict.code == "intact"
    # The same certificate from another process (a new signer over the same key): nothing
    # stored, the certificate is made again bit for bit.
    again = Seal(KmsSealKey(key["Arn"]))
    assert again.certificate.dump() == seal.certificate.dump()
    assert again.verify(signed).valid
    # The certificate's key is the KMS key's public key.
    public = client.get_public_key(KeyId=key["KeyId"])["PublicKey"]
    assert seal.certificate.public_key.dump() == public
    at = signed.index(b"/Producer")           # a byte of the signed revision changed
    tampered = signed[:at] + b"/Producex" + signed[at + 9:]
    failed = seal.verify(tampered)
    assert not failed.valid and failed.code == "modified" and "修改" in failed.reason
    # A seal made with any other key is not the hall's.
    assert seal.verify(Seal(LocalSealKey()).sign(minimal_pdf(), "x", "y")).code == \
        "not_hall_seal"


def test_the_signature_is_made_by_kms_over_the_signed_attributes(kms):
    client, key = kms
    calls = []
    original = KmsSealKey.sign

    def counted(self, data):
        calls.append(hashlib.sha256(data).hexdigest())
        return original(self, data)

    KmsSealKey.sign = counted
    try:
        seal = Seal(KmsSealKey(key["KeyId"]))
        seal.certificate                      # one Sign for the certificate
        seal.sign(minimal_pdf(), "x", "y")    # one for the document
    finally:
        KmsSealKey.sign = original
    assert len(calls) == 2 and calls[0] != calls[1]
    # The certificate's signature verifies with KMS itself.
    certificate = seal_certificate(KmsSealKey(key["KeyId"]))
    assert client.verify(KeyId=key["KeyId"], Message=certificate["tbs_certificate"].dump(),
                         MessageType="RAW", Signature=certificate["signature_value"].native,
                         SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["SignatureValid"]
