"""The key the local user pools sign their tokens with: one RSA key made for each stack.

moto signs every pool's ID and access tokens with one key it ships publicly
(moto/cognitoidp/resources/jwks-private.json), so anyone could sign a token the local gateway and
identity pool would take for a citizen's or a staff member's. Here, in the process that runs
moto, the pools sign with a key of this stack instead:

- made at the stack's first start (RSA 2048) and kept with the saved state, in
  `saved/user-pool-key.json` (the owner's eyes only), so that the ID tokens issued before a
  restart stay valid as the pools come back (local/persist.py); `make reset` deletes it with the
  rest of `saved/`, and the next start makes a new one;
- each token names it by its `kid` (the key's RFC 7638 thumbprint);
- every pool's JWKS (`{endpoint}/{pool id}/.well-known/jwks.json`) publishes its public half and
  nothing else, which the API gateway's Cognito authorizer reads (local/gateway.py), and the
  identity pool checks ID tokens against it (local/identity_pool.py).

A token signed with moto's published key, or any other, is refused everywhere.
`install` is idempotent per process; a later call (another stack in the same process) takes
that stack's key."""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

FILE = "user-pool-key.json"

_lock = threading.Lock()


@dataclass(frozen=True)
class StackKey:
    private_jwk: dict
    kid: str

    @functools.cached_property
    def private_key(self):
        import jwt
        return jwt.PyJWK(self.private_jwk, algorithm="RS256").key

    @property
    def public_key(self):
        return self.private_key.public_key()

    @property
    def public_jwk(self) -> dict:
        return {"alg": "RS256", "e": self.private_jwk["e"], "kid": self.kid, "kty": "RSA",
                "n": self.private_jwk["n"], "use": "sig"}

    def jwks(self) -> bytes:
        return json.dumps({"keys": [self.public_jwk]}).encode()

    def sign(self, claims: dict) -> str:
        import jwt
        return jwt.encode(claims, self.private_key, algorithm="RS256",
                          headers={"kid": self.kid, "typ": None})


_current: StackKey | None = None


def current() -> StackKey:
    if _current is None:
        raise RuntimeError("no user pool key: local.pool_key.install() runs when the stack "
                           "starts")
    return _current


def public_key():
    """The public half of the key the local pools sign with (what ID tokens verify against)."""
    return current().public_key


def load_or_make(folder: Path) -> StackKey:
    """The key kept in `folder` (the state folder's saved/), made and written there first when
    there is none."""
    path = folder / FILE
    if path.exists():
        return _stack_key(json.loads(path.read_text(encoding="utf-8")))
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private))
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (FILE + ".partial")
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
              encoding="utf-8") as out:       # a private key: the owner's eyes only
        json.dump(jwk, out)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    return _stack_key(jwk)


def _stack_key(jwk: dict) -> StackKey:
    members = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"),
                         sort_keys=True)
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest())
    return StackKey(jwk, thumbprint.rstrip(b"=").decode())


def install(folder: Path) -> StackKey:
    """Makes moto's user pools in this process sign with the stack's key (kept in `folder`) and
    publish it as their JWKS."""
    global _current
    key = load_or_make(folder)
    with _lock:
        _current = key
        _patch_moto()
    return key


def _patch_moto() -> None:
    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

    # What every pool's JWKS answers (moto's handler reads it at each request).
    CognitoIdpJsonWebKeyResponse.json_web_key = current().jwks()
    if getattr(CognitoIdpUserPool.create_jwt, "signs_with_stack_key", False):
        return
    create_jwt = CognitoIdpUserPool.create_jwt

    @functools.wraps(create_jwt)
    def create_jwt_with_stack_key(self, *args, **kwargs):
        token, expires_in = create_jwt(self, *args, **kwargs)
        # moto's claims, signed again with the stack's key under its kid.
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return current().sign(claims), expires_in

    create_jwt_with_stack_key.signs_with_stack_key = True
    CognitoIdpUserPool.create_jwt = create_jwt_with_stack_key
