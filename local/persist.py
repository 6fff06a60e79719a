"""What the local stack keeps across restarts, in its state folder (`saved/` under `.local/`).

moto holds the AWS state in memory, so without this everything a person did on `make run` was
gone when it stopped. The stack now saves, in the process that runs moto:

- every DynamoDB table's items (cases, branches, trails, bindings, tasks, counters, ...);
- every S3 object of every bucket, each version with its version id, metadata, checksum and
  Object Lock retention (materials, evidence and its anchors, reports, certificates), the
  bodies in `saved/objects/` named by their SHA-256;
- both Cognito user pools as moto holds them: their ids and app clients' ids, each user with
  its `sub`, password, status and attributes, the tokens the pool issued, and the pending
  sign-up and password-reset codes (local/cognito.py); the key the pools sign their tokens
  with lies beside the state, in `saved/user-pool-key.json` (local/pool_key.py, written at the
  first start), so that the tokens issued before still verify;
- the staff identity pool's id and the identity of each person signed in through it
  (local/identity_pool.py);
- the text-message outbox (local/outbox.py);
- beside the state, the hall's seal key pair (`saved/seal-key.pem`, local/seal_key.py).

It is written whole to `saved/state.json.partial` and renamed over `saved/state.json` (a reader
or a crash never meets half a state): at the first quiet moment after a change (no change for
QUIET_SECONDS), at least every AT_MOST_SECONDS while changes go on, and when the stack stops
(Ctrl-C or SIGTERM). A start on a folder with a saved state creates every resource again as it
always does, the user pools, their clients and the identity pool under their saved ids and with
their saved users (before the staff directory is provisioned, so each staff member keeps their
`sub` and binding), then puts the items, objects, codes, identities and texts back before the
stack serves.

Not kept, made again at every start: IAM (roles, the operator's key, the systems' keys: new
keys in stack.json, the old ones refused), the functions' and the workflows' temporary
credentials, the credentials the identity pool issued (a staff member signs in again), queue
messages in flight, Step Functions executions, and the periods declared to the cameras. An
open case's or task's workflow is started again from what is stored (service/approval.py and
service/supervision/work.py `resume`): its current stage, each open branch on a new plan of the
instants not yet raised, so that a light that fell due while the stack was stopped is raised
at once.

`make reset` (`python -m local.stack --reset`) deletes the saved state and the logs; the next
start is clean. A running stack holds `stack.lock` in its folder: a second stack on the same
folder, or a reset under a running stack, is refused."""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

FOLDER = "saved"
STATE = "state.json"
OBJECTS = "objects"
LOCK = "stack.lock"
FORMAT = 1
ACCOUNT = "123456789012"
QUIET_SECONDS = 1.0          # saved once nothing changed for this long
AT_MOST_SECONDS = 10.0       # and at least this often while changes go on
OPEN_CASES = ("submitted", "accepted", "correction_requested")   # chalicelib/domain/cases.py
OPEN_TASKS = ("open",)                                              # chalicelib/domain/supervised.py

log = logging.getLogger("approval.local.persist")


class StateInUse(RuntimeError):
    """Another local stack runs on this state folder."""


class StateUnreadable(RuntimeError):
    """The saved state cannot be read back (`make reset` starts clean)."""


# -- the state folder's lock -----------------------------------------------------------------
def hold(state_dir: Path):
    """Locks the state folder for this process (released when the file is closed or the
    process ends); StateInUse if another process holds it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = open(state_dir / LOCK, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise StateInUse(f"a local stack is running on {state_dir} (pid {holder}); stop it "
                         "first") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def reset(state_dir: Path) -> list[str]:
    """Deletes the saved state and the logs of a stopped stack; returns what was deleted."""
    handle = hold(state_dir)
    try:
        gone = []
        for name in (FOLDER, "logs", "stack.json"):
            path = state_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            else:
                continue
            gone.append(str(path))
        return gone
    finally:
        handle.close()


# -- reading the saved state back ------------------------------------------------------------
def load(state_dir: Path) -> dict | None:
    """The saved state, or None when there is none."""
    path = state_dir / FOLDER / STATE
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise StateUnreadable(f"{path} is not a saved state ({error}); `make reset` deletes "
                              "it") from None
    if state.get("format") != FORMAT:
        raise StateUnreadable(f"{path} is in format {state.get('format')!r}, not {FORMAT}; "
                              "`make reset` deletes it")
    state["_folder"] = str(state_dir / FOLDER)
    return state


_expected: dict | None = None      # the state being restored, while resources are created


def expect(state: dict | None) -> None:
    """From now until `restore`, the user pools, their clients and the identity pool that
    provisioning creates come back under their saved ids, with their saved users."""
    global _expected
    _expected = state
    if state is not None:
        _recreate_cognito_as_saved()


@dataclass
class Restored:
    items: int = 0
    objects: int = 0
    users: int = 0
    texts: int = 0
    open_cases: list[str] = field(default_factory=list)
    open_tasks: list[str] = field(default_factory=list)


def restore(state: dict, region: str, names: dict[str, str]) -> Restored:
    """Puts the saved items, objects, codes, identities and texts back into the resources
    provisioning just created (`names`: logical id → table or bucket name). Returns the open
    cases and tasks, whose workflows are to be started again. StateUnreadable when the saved
    state no longer fits them (a table's keys changed since)."""
    global _expected
    from moto.core.exceptions import ServiceException
    from werkzeug.exceptions import HTTPException        # moto refusing a saved item or object

    _expected = None
    try:
        return _restore(state, region, names)
    except (KeyError, TypeError, ValueError, OSError, ServiceException,
            HTTPException) as error:
        raise StateUnreadable(f"the saved state does not fit this stack any more "
                              f"({type(error).__name__}: {error}); `make reset` deletes it") \
            from error


def _restore(state: dict, region: str, names: dict[str, str]) -> Restored:
    done = Restored(users=sum(len(p["users"]) for p in state["cognito"]["user_pools"]))
    from moto.dynamodb.models import dynamodb_backends

    dynamodb = dynamodb_backends[ACCOUNT][region]
    for table, items in state["dynamodb"].items():
        if table not in dynamodb.tables:
            log.warning("saved table %s is no longer provisioned: %d items left out", table,
                        len(items))
            continue
        for item in items:
            dynamodb.put_item(table, item)
        done.items += len(items)
    for table, wanted, found in ((names.get("CasesTable"), OPEN_CASES, done.open_cases),
                                 (names.get("TasksTable"), OPEN_TASKS, done.open_tasks)):
        if table not in dynamodb.tables:
            continue
        key = dynamodb.tables[table].hash_key_attr
        for item in state["dynamodb"].get(table, []):
            data = item.get("data", {}).get("S")
            if data and json.loads(data).get("status") in wanted:
                found.append(item[key]["S"])
    done.objects = _restore_objects(state["s3"], Path(state["_folder"]) / OBJECTS)
    from moto.sns.models import sns_backends

    for sms_region, texts in state["sms"].items():
        backend = sns_backends[ACCOUNT][sms_region]
        for message_id, phone, text in texts:
            backend.sms_messages[message_id] = (phone, text)
        done.texts += len(texts)
    from . import cognito, identity_pool

    with cognito._lock:
        for pool, username, purpose, code, at in state["cognito"]["codes"]:
            cognito._codes[(pool, username, purpose)] = (code, at)
    with identity_pool._state.lock:
        for pool, provider, subject, identity in state["identity"]["identities"]:
            identity_pool._state.identities[(pool, provider, subject)] = identity
            identity_pool._state.owners[identity] = (pool, provider, subject)
    return done


def _restore_objects(buckets: dict, objects: Path) -> int:
    from moto.s3.models import FakeDeleteMarker, s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    count = 0
    for bucket_name, entries in buckets.items():
        if bucket_name not in backend.buckets:
            log.warning("saved bucket %s is no longer provisioned: %d objects left out",
                        bucket_name, len(entries))
            continue
        bucket = backend.buckets[bucket_name]
        for entry in entries:
            if entry.get("delete_marker"):
                versions = bucket.keys.getlist(entry["key"], [])
                if versions:
                    marker = FakeDeleteMarker(key=versions[-1])
                    marker._version_id = entry["version_id"]
                    marker.last_modified = _instant(entry["last_modified"])
                    bucket.keys.setlist(entry["key"], versions + [marker])
                continue
            key = backend.put_object(
                bucket_name, entry["key"], (objects / entry["sha256"]).read_bytes(),
                storage=entry.get("storage"), lock_mode=entry.get("lock_mode"),
                lock_legal_status=entry.get("lock_legal_status"),
                lock_until=entry.get("lock_until"), checksum_value=entry.get("checksum_value"),
                disable_notification=True)       # restored, not uploaded: nothing to process
            key._version_id = entry["version_id"]
            key._metadata.clear()
            key._metadata.update(entry["metadata"])
            key.checksum_algorithm = entry.get("checksum_algorithm")
            key.checksum_type = entry.get("checksum_type")
            key.last_modified = _instant(entry["last_modified"])
            _digests[key] = entry["sha256"]
            count += 1
    return count


# -- the user pools and the identity pool, created again under their saved ids --------------
def _recreate_cognito_as_saved() -> None:
    from moto.cognitoidentity.models import CognitoIdentityBackend
    from moto.cognitoidp.models import CognitoIdpBackend

    if getattr(CognitoIdpBackend.create_user_pool, "as_saved", False):
        return
    create_pool = CognitoIdpBackend.create_user_pool
    create_client = CognitoIdpBackend.create_user_pool_client
    create_identity_pool = CognitoIdentityBackend.create_identity_pool

    def create_user_pool(self, name, extended_config):
        pool = create_pool(self, name, extended_config)
        saved = next((p for p in (_expected or {}).get("cognito", {}).get("user_pools", [])
                      if p["name"] == name), None)
        if saved is not None and saved["id"] not in self.user_pools:
            del self.user_pools[pool.id]
            pool.arn = pool.arn.rsplit("/", 1)[0] + "/" + saved["id"]
            pool.id = saved["id"]
            self.user_pools[pool.id] = pool
            _restore_pool(pool, saved)
        return pool

    def create_user_pool_client(self, user_pool_id, generate_secret, extended_config):
        client = create_client(self, user_pool_id, generate_secret, extended_config)
        saved = next((p for p in (_expected or {}).get("cognito", {}).get("user_pools", [])
                      if p["id"] == user_pool_id), None)
        wanted = (saved or {}).get("clients", {}).get((extended_config or {}).get("ClientName"))
        pool = self.user_pools[user_pool_id]
        if wanted and wanted not in pool.clients:
            del pool.clients[client.id]
            client.id = wanted
            pool.clients[wanted] = client
        return client

    def create_identity_pool_as_saved(self, identity_pool_name, *args, **kwargs):
        answer = create_identity_pool(self, identity_pool_name, *args, **kwargs)
        made = json.loads(answer)["IdentityPoolId"]
        wanted = (_expected or {}).get("identity", {}).get("pools", {}).get(identity_pool_name)
        if wanted and wanted not in self.identity_pools:
            pool = self.identity_pools.pop(made)
            pool.identity_pool_id = wanted
            self.identity_pools[wanted] = pool
            self.pools_identities[wanted] = {**self.pools_identities.pop(made),
                                             "IdentityPoolId": wanted}
            answer = pool.to_json()
        return answer

    create_user_pool.as_saved = True
    CognitoIdpBackend.create_user_pool = create_user_pool
    CognitoIdpBackend.create_user_pool_client = create_user_pool_client
    CognitoIdentityBackend.create_identity_pool = create_identity_pool_as_saved


def _restore_pool(pool, saved: dict) -> None:
    from moto.cognitoidp.models import CognitoIdpUser

    for key, fields in saved["users"].items():
        user = CognitoIdpUser(pool.id, fields["username"], fields.get("password"),
                              fields["status"], fields["attributes"])
        for name, value in fields.items():
            setattr(user, name, _decoded(value))
        user.user_pool_id = pool.id
        pool.users[key] = user
    pool.refresh_tokens.update({token: tuple(v) if v else None
                                for token, v in saved["refresh_tokens"].items()})
    pool.access_tokens.update({token: tuple(v) for token, v in saved["access_tokens"].items()})
    pool.id_tokens.update({token: tuple(v) for token, v in saved["id_tokens"].items()})


# -- taking the state ------------------------------------------------------------------------
_digests: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # S3 object → SHA-256


def save(state_dir: Path, region: str) -> dict:
    """Writes the whole state (in the process running moto), atomically; returns counts."""
    folder = state_dir / FOLDER
    objects = folder / OBJECTS
    objects.mkdir(parents=True, exist_ok=True)
    state = {"format": FORMAT, "saved_at": datetime.now(timezone.utc).isoformat(),
             "dynamodb": _tables(region), "s3": _objects(objects),
             "cognito": _cognito(region), "identity": _identities(region), "sms": _texts()}
    partial = folder / (STATE + ".partial")
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
              encoding="utf-8") as out:     # passwords and tokens: the owner's eyes only
        json.dump(state, out, ensure_ascii=False, separators=(",", ":"))
        out.flush()
        os.fsync(out.fileno())
    partial.replace(folder / STATE)
    kept = {entry["sha256"] for entries in state["s3"].values() for entry in entries
            if "sha256" in entry}
    for path in objects.iterdir():
        if path.name not in kept:
            path.unlink(missing_ok=True)
    return {"items": sum(len(v) for v in state["dynamodb"].values()), "objects": len(kept)}


def _tables(region: str) -> dict:
    from moto.dynamodb.models import dynamodb_backends

    from .emulator import _LOCK

    backend = dynamodb_backends[ACCOUNT][region]
    with _LOCK:          # no transaction half applied: the emulator serves DynamoDB one at a time
        return {name: [item.to_json()["Attributes"] for item in table.all_items()]
                for name, table in list(backend.tables.items())}


def _objects(objects: Path) -> dict:
    from moto.s3.models import FakeDeleteMarker, s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    buckets = {}
    for name, bucket in list(backend.buckets.items()):
        entries = []
        for key_name, versions in list(bucket.keys.iterlists()):
            for key in list(versions):
                if isinstance(key, FakeDeleteMarker):
                    entries.append({"key": key_name, "delete_marker": True,
                                    "version_id": key.version_id,
                                    "last_modified": key.last_modified.isoformat()})
                    continue
                digest = _digests.get(key)
                if digest is None:
                    value = key.value
                    digest = _digests[key] = hashlib.sha256(value).hexdigest()
                    if not (objects / digest).exists():
                        partial = objects / f"{digest}.partial"
                        partial.write_bytes(value)
                        partial.replace(objects / digest)
                entries.append({
                    "key": key_name, "version_id": key.version_id, "sha256": digest,
                    "metadata": dict(key._metadata), "storage": key.storage_class,
                    "checksum_algorithm": key.checksum_algorithm,
                    "checksum_value": key.checksum_value, "checksum_type": key.checksum_type,
                    "lock_mode": key.lock_mode, "lock_legal_status": key.lock_legal_status,
                    "lock_until": key.lock_until,
                    "last_modified": key.last_modified.isoformat()})
        buckets[name] = entries
    return buckets


def _cognito(region: str) -> dict:
    from moto.cognitoidp.models import cognitoidp_backends

    from . import cognito

    pools = []
    for pool in list(cognitoidp_backends[ACCOUNT][region].user_pools.values()):
        pools.append({
            "name": pool.name, "id": pool.id,
            "clients": {c.extended_config.get("ClientName"): c.id
                        for c in list(pool.clients.values())},
            "users": {key: _user(user) for key, user in list(pool.users.items())},
            "refresh_tokens": {t: list(v) if v else None
                               for t, v in list(pool.refresh_tokens.items())},
            "access_tokens": {t: list(v) for t, v in list(pool.access_tokens.items())},
            "id_tokens": {t: list(v) for t, v in list(pool.id_tokens.items())}})
    with cognito._lock:
        codes = [[*key, code, at] for key, (code, at) in cognito._codes.items()]
    return {"user_pools": pools, "codes": codes}


def _user(user) -> dict:
    """A user as moto holds it (its sub, password, status, attributes and the rest), but its
    group memberships (the pools have no groups)."""
    fields = {}
    for name, value in vars(user).items():
        if name == "groups":
            continue
        encoded = _encoded(value)
        try:
            json.dumps(encoded)
        except (TypeError, ValueError):
            continue
        fields[name] = encoded
    return fields


def _identities(region: str) -> dict:
    from moto.cognitoidentity.models import cognitoidentity_backends

    from . import identity_pool

    pools = {pool.identity_pool_name: pool_id for pool_id, pool in
             list(cognitoidentity_backends[ACCOUNT][region].identity_pools.items())}
    with identity_pool._state.lock:
        identities = [[*key, identity] for key, identity in
                      identity_pool._state.identities.items()]
    return {"pools": pools, "identities": identities}


def _texts() -> dict:
    from moto.sns.models import sns_backends

    texts = {}
    for sms_region, backend in list(dict.items(sns_backends[ACCOUNT])):
        if backend.sms_messages:
            texts[sms_region] = [[message_id, phone, text] for message_id, (phone, text)
                                 in list(backend.sms_messages.items())]
    return texts


def _encoded(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    return value


def _decoded(value):
    if isinstance(value, dict) and set(value) == {"$datetime"}:
        return _instant(value["$datetime"])
    return value


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- saving at quiet moments -----------------------------------------------------------------
_keeper: "Keeper | None" = None
_DYNAMODB_READS = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List")
_SIGNED_BY = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class Keeper:
    """Saves the state at the first quiet moment after a change, at least every
    AT_MOST_SECONDS while changes go on, and once more when stopped."""

    def __init__(self, state_dir: Path, region: str, lock=None, quiet: float = QUIET_SECONDS,
                 at_most: float = AT_MOST_SECONDS):
        self.state_dir, self.region, self.lock = state_dir, region, lock
        self.quiet, self.at_most = quiet, at_most
        self._marks = threading.Lock()
        self._saving = threading.Lock()
        self._first: float | None = None      # first change not yet saved
        self._last = 0.0                      # latest change
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-keeper", daemon=True)
        self.saves = 0

    def start(self) -> "Keeper":
        global _keeper
        _watch_changes()
        _keeper = self
        self.changed()                  # what provisioning and the restore made
        self._thread.start()
        return self

    def changed(self) -> None:
        now = time.monotonic()
        with self._marks:
            self._last = now
            if self._first is None:
                self._first = now

    def _due(self) -> bool:
        now = time.monotonic()
        with self._marks:
            return self._first is not None and (now - self._last >= self.quiet
                                                 or now - self._first >= self.at_most)

    def _run(self) -> None:
        while not self._stopped.wait(0.25):
            if self._due():
                self.save()

    def save(self) -> None:
        with self._saving:
            with self._marks:
                pending, self._first = self._first, None
            if pending is None:
                return
            try:
                save(self.state_dir, self.region)
                self.saves += 1
            except Exception:  # noqa: BLE001 - kept for the next attempt, never fatal
                log.exception("the local stack's state could not be saved")
                with self._marks:
                    self._first = self._first or pending

    def stop(self) -> None:
        """The last save, before moto stops; then the state folder is free."""
        global _keeper
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.save()
        if _keeper is self:
            _keeper = None
        if self.lock is not None:
            self.lock.close()


def _changes(environ) -> bool:
    """Whether a request to moto may change what is kept (reads, queues, workflows and the
    temporary credentials do not)."""
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if target:
        service, _, action = target.partition(".")
        if service.startswith("DynamoDB"):
            return not action.startswith(_DYNAMODB_READS)
        if service == "AWSCognitoIdentityProviderService":
            return True
        if service == "AWSCognitoIdentityService":
            return action == "GetId"
        return False
    signed = _SIGNED_BY.search(environ.get("HTTP_AUTHORIZATION") or "")
    return bool(signed) and signed.group(1) in ("s3", "sns", "dynamodb", "cognito-idp")


def _watch_changes() -> None:
    """Idempotent: every request moto serves in this process is looked at, before moto's own
    routing (as local/outbox.py serves its path)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    current = DomainDispatcherApplication.get_application
    if getattr(current, "watches_changes", False):
        return

    def get_application(self, environ):
        keeper = _keeper
        if keeper is not None and _changes(environ):
            keeper.changed()
        return current(self, environ)
    get_application.watches_changes = True
    DomainDispatcherApplication.get_application = get_application
