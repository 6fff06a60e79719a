"""The hall's electronic seal (电子印章): a PAdES signature (pyHanko) over each document, and its
verification.

The seal's key is an asymmetric KMS key (RSA_2048, SIGN_VERIFY): `KmsSealKey` asks KMS to sign
(RSASSA_PKCS1_V1_5_SHA_256 over the signed attributes, MessageType RAW), so the private key
never leaves KMS. The local stack uses the same KMS calls against its own KMS; the unit tests a
key in memory (`LocalSealKey`), behind the same two methods.

The seal's certificate is made from the key itself: a self-signed X.509 certificate whose
fields (subject = the seal's name, serial = from the public key, validity 2026-2046) are fixed,
signed by the key; PKCS#1 v1.5 signatures are deterministic, so every process makes the very
same certificate from GetPublicKey and one Sign, and nothing is stored. Verification trusts
that certificate and nothing else: a signature made with any other key is "not the hall's
seal"."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO

SEAL_NAME = "网上审批及电子监察系统 电子印章"
SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"
FIELD = "HallSeal"


class KmsSealKey:
    """The seal's key in KMS; only Sign and GetPublicKey are ever called."""

    def __init__(self, key_id: str):
        self.key_id = key_id
        self._public: bytes | None = None

    def public_key_der(self) -> bytes:
        if self._public is None:
            from . import aws

            self._public = aws.client("kms").get_public_key(KeyId=self.key_id)["PublicKey"]
        return self._public

    def sign(self, data: bytes) -> bytes:
        from . import aws

        return aws.client("kms").sign(KeyId=self.key_id, Message=data, MessageType="RAW",
                                      SigningAlgorithm=SIGNING_ALGORITHM)["Signature"]


class LocalSealKey:
    """A key in memory (tests), or read from a PEM file."""

    def __init__(self, private_key=None):
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537,
                                                                   key_size=2048)

    def public_key_der(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def seal_certificate(key, name: str = SEAL_NAME):
    """The seal's self-signed certificate, the same every time for the same key."""
    from asn1crypto import keys, x509

    public = keys.PublicKeyInfo.load(key.public_key_der())
    serial = int.from_bytes(hashlib.sha256(public.dump()).digest()[:16], "big") >> 1
    subject = x509.Name.build({"country_name": "CN", "organization_name": name,
                               "common_name": name})
    tbs = x509.TbsCertificate({
        "version": "v3", "serial_number": serial,
        "signature": {"algorithm": "sha256_rsa"}, "issuer": subject,
        "validity": {"not_before": x509.Time({"utc_time": datetime(2026, 1, 1,
                                                                   tzinfo=timezone.utc)}),
                     "not_after": x509.Time({"general_time": datetime(2046, 1, 1,
                                                                      tzinfo=timezone.utc)})},
        "subject": subject, "subject_public_key_info": public,
        "extensions": [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": False}},
            {"extn_id": "key_usage", "critical": True,
             "extn_value": {"digital_signature", "non_repudiation"}},
            {"extn_id": "key_identifier",
             "extn_value": hashlib.sha1(public["public_key"].contents).digest()}]})
    return x509.Certificate({"tbs_certificate": tbs,
                             "signature_algorithm": {"algorithm": "sha256_rsa"},
                             "signature_value": key.sign(tbs.dump())})


def _signer_class():
    from asn1crypto import algos
    from pyhanko.sign import signers

    class KeySigner(signers.Signer):
        """pyHanko's signer over a key that signs elsewhere (KMS): only the raw signature of
        the signed attributes is asked of the key."""

        def __init__(self, key, certificate):
            from pyhanko_certvalidator.registry import SimpleCertificateStore

            super().__init__(signing_cert=certificate,
                             cert_registry=SimpleCertificateStore.from_certs([certificate]),
                             signature_mechanism=algos.SignedDigestAlgorithm(
                                 {"algorithm": "sha256_rsa"}))
            self.key = key

        async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                                 dry_run: bool = False) -> bytes:
            if digest_algorithm != "sha256":
                raise ValueError(f"the seal signs with sha256, not {digest_algorithm}")
            if dry_run:
                return bytes(256)
            return self.key.sign(data)

    return KeySigner


@dataclass
class Verdict:
    valid: bool
    reason: str                 # 中文, for the page
    code: str                   # intact, modified, not_hall_seal, unsigned, unreadable
    signed_at: str | None = None
    signer: str | None = None

    def to_dict(self) -> dict:
        return {"valid": self.valid, "code": self.code, "reason": self.reason,
                "signed_at": self.signed_at, "signer": self.signer}


class Seal:
    def __init__(self, key, name: str = SEAL_NAME):
        self.key = key
        self.name = name
        self._certificate = None

    @property
    def certificate(self):
        if self._certificate is None:
            self._certificate = seal_certificate(self.key, self.name)
        return self._certificate

    def sign(self, pdf: bytes, reason: str, location: str) -> bytes:
        """The PDF with the seal's PAdES signature (B-B level) over the whole file."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        signer = _signer_class()(self.key, self.certificate)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, location=location, name=self.name)
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        out = _outside_any_event_loop(lambda: signers.sign_pdf(writer, meta, signer=signer))
        return out.getvalue()

    def verify(self, pdf: bytes) -> Verdict:
        """Intact, whole and sealed with the hall's seal, or why not."""
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext

        try:
            reader = PdfFileReader(BytesIO(pdf), strict=False)
            signatures = reader.embedded_signatures
        except Exception as error:  # noqa: BLE001 - any malformed file is a verdict, not a 500
            return Verdict(False, f"无法读取该PDF文件（{type(error).__name__}）", "unreadable")
        if not signatures:
            return Verdict(False, "该文件没有电子印章（未签章）", "unsigned")
        signature = signatures[0]
        signer = signature.signer_cert
        if signer is None or signer.dump() != self.certificate.dump():
            return Verdict(False, "签章所用证书不是本大厅的电子印章证书", "not_hall_seal",
                           signer=signer.subject.human_friendly if signer else None)
        try:
            status = _outside_any_event_loop(lambda: validate_pdf_signature(
                signature, ValidationContext(trust_roots=[self.certificate],
                                             allow_fetching=False)))
        except Exception as error:  # noqa: BLE001 - a broken structure is a failed check
            return Verdict(False, f"签章结构无法校验（{type(error).__name__}）", "modified")
        signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else None
        if not status.intact or not status.valid:
            return Verdict(False, "签章后文书内容被修改，签名值与文书摘要不符", "modified",
                           signed_at, self.name)
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE \
                or len(signatures) > 1:
            return Verdict(False, "签章后文书被追加修改（签章未覆盖整个文件）", "modified",
                           signed_at, self.name)
        return Verdict(True, "电子印章有效：文书自签章后未被修改，签章证书为本大厅电子印章证书",
                       "intact", signed_at, self.name)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _outside_any_event_loop(call):
    """pyHanko's synchronous calls run their own event loop (asyncio.run), which cannot start
    in a thread whose loop is already running (a caller inside async code): there the call
    runs in a thread of its own."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
