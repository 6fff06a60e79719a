"""The hall's seal key kept across restarts of the local stack.

In the cloud the seal's key (SealKey, an asymmetric KMS key) lives as long as the stack, so a
document sealed last year still verifies as the hall's. moto makes a new key pair for every
CreateKey, and the local stack creates its resources again at every start: the documents
sealed before a restart would then verify as signed by another certificate. Here, in the
process that runs moto, the seal key's private half is kept beside the saved state
(`saved/seal-key.pem`, the owner's eyes only), written at the stack's first start and put back
into moto's new key at every later one; the seal's certificate is made from the public key
(chalicelib/adapters/seal.py), so it comes back the same. `make reset` deletes it with the rest
of `saved/`, and the next start makes a new one."""
from __future__ import annotations

import os
from pathlib import Path

FILE = "seal-key.pem"


def keep(saved: Path, key_id: str, region: str) -> bool:
    """Puts the kept key pair into moto's key `key_id`, or keeps its new one; True when an
    earlier key was put back."""
    from cryptography.hazmat.primitives import serialization
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.kms.models import kms_backends

    # moto's key holds its pair in a wrapper of its own (moto/kms/utils.py), the pair itself
    # under `private_key`.
    pair = kms_backends[DEFAULT_ACCOUNT_ID][region].keys[key_id].private_key
    path = saved / FILE
    if path.exists():
        pair.private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        return True
    saved.mkdir(parents=True, exist_ok=True)
    pem = pair.private_key.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    partial = path.with_suffix(".partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        out.write(pem)
    partial.replace(path)
    return False
