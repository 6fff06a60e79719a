"""`make run`: the whole system on one machine with no AWS account and no Docker.

moto in server mode answers the AWS APIs (its Step Functions executor switched on), resources
are provisioned from infra/resources.json, the S3 gate and the API gateway enforce what S3 and
API Gateway enforce, the dispatcher fires what AWS would fire, and .local/stack.json tells
clients where everything is. What people did is kept in .local/saved/ and comes back at the next
start (local/persist.py); `--reset` deletes it. Ctrl-C stops it all."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DEMO_CITIZEN = {"username": "13800138000", "password": "Demo2026pass", "name": "张三",
                "phone_number": "+8613800138000", "id_number": "341602199001011234"}


@dataclass
class Stack:
    api_url: str
    aws_endpoint: str
    s3_endpoint: str
    description: dict
    _stoppers: list
    dispatcher: object = None
    restored: object = None         # what came back from the saved state (local/persist.py)

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            try:
                stop()
            except Exception:  # noqa: BLE001 - stopping is best effort
                pass


def start(api_port: int = 8000, aws_port: int = 5000, s3_port: int = 0, host: str = "127.0.0.1",
          state_dir: Path = ROOT / ".local", workday_seconds: float | None = None,
          without: tuple[str, ...] = (), schedule_seconds: float | None = None,
          staff_oidc: tuple[str, str] | None = None) -> Stack:
    # No key in the environment: the stack provisions with the operator's key, and each function
    # signs with its own role's credentials (local/runtime.py).
    os.environ.update({"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                       "MOTO_PORT": str(aws_port)})   # moto's executor calls back on this port
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    if workday_seconds:
        os.environ["WORKDAY_SECONDS"] = str(workday_seconds)   # the compressed clock
    stoppers = []
    from . import persist
    lock = persist.hold(state_dir)          # one stack per state folder
    # A description of an earlier run names ports and keys that are gone: clients wait for
    # this run's.
    (state_dir / "stack.json").unlink(missing_ok=True)
    try:
        return _start(api_port, aws_port, s3_port, host, state_dir, workday_seconds, without,
                      schedule_seconds, stoppers, lock, staff_oidc)
    except BaseException:
        Stack("", "", "", {}, stoppers).stop()
        persist.expect(None)
        lock.close()
        raise


def _start(api_port, aws_port, s3_port, host, state_dir, workday_seconds, without,
           schedule_seconds, stoppers, lock, staff_oidc=None) -> Stack:
    from . import persist
    saved = persist.load(state_dir)         # before anything starts: unreadable fails here

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # moto's request lines
    _keep_logs(state_dir / "logs")
    from .emulator import serialise_dynamodb
    serialise_dynamodb()
    from . import cognito, pool_key
    cognito.emulate_cognito()    # codes texted and checked, attributes written as Cognito allows
    cognito.reset()
    pool_key.install(state_dir / persist.FOLDER)   # the pools sign with this stack's own key
    from .framing import moto_server
    moto = moto_server(host, aws_port)      # many clients at once, framing checked
    moto.start()
    stoppers.append(moto.stop)
    keeper = persist.Keeper(state_dir, REGION, lock)
    stoppers.append(keeper.stop)            # the last save, once the rest has stopped
    aws_endpoint = f"http://{host}:{aws_port}"
    import requests
    # A fresh account even when another stack ran in this process before (benchmarks).
    requests.post(f"{aws_endpoint}/moto-api/reset", timeout=10)
    requests.post(f"{aws_endpoint}/moto-api/config",
                  json={"stepfunctions": {"execute_state_machine": True}}, timeout=10)
    from . import iam
    iam.enable(_fresh(state_dir / "logs" / "iam.jsonl"))   # every request authenticated from here
    from . import unsigned
    unsigned.enable()               # an unsigned request refused as AWS refuses it, not a 500
    from . import identity_pool
    identity_pool.enable()          # the staff identity pool answers as Cognito's does
    from . import redrive
    redrive.enable()                # a dead-letter queue redriven as SQS does (operations.md)
    operator = iam.operator_key()
    persist.expect(saved)           # the pools come back under their ids, with their users

    from chalicelib import catalog
    from . import provision, s3gate
    from .gateway import Identity, create_server

    published = catalog.published()
    offices = {h["supervision_office"]["code"]: h["supervision_office"]["name"]
               for h in published.halls.values() if h.get("supervision_office")}
    made = provision.provision(aws_endpoint, REGION, sorted(published.departments), offices,
                               operator, without)
    restored = persist.restore(saved, REGION, made.names) if saved else None
    if "SealKey" in made.refs:      # the hall's seal signs with the same key as before a restart
        from . import seal_key
        seal_key.keep(state_dir / persist.FOLDER, made.refs["SealKey"], REGION)
    from .cameras import provision_cameras
    provision_cameras(aws_endpoint, REGION, sorted({w["camera_stream"]
                                                    for d in published.departments.values()
                                                    for w in d["windows"]}), operator=operator)
    from . import runtime
    runtime.install(lambda function: iam.service_credentials(made.roles[function], function,
                                                             REGION))
    gate = s3gate.start(aws_endpoint, runtime.key_of, REGION, host, s3_port)
    stoppers.append(gate.shutdown)
    s3_endpoint = f"http://{host}:{gate.server_address[1]}"
    if staff_oidc:                  # staff may sign in at an OA single sign-on as well
        from .staff import federate_oidc
        federate_oidc(aws_endpoint, REGION, operator, made.staff, made.environment, *staff_oidc)
    os.environ.update(made.environment)
    from . import faults, outbox
    os.environ.update({"AWS_ENDPOINT_URL": aws_endpoint, "AWS_ENDPOINT_URL_S3": s3_endpoint,
                       "COGNITO_ENDPOINT": aws_endpoint,    # where the website signs in
                       # where the website tells a citizen to read a sign-up code
                       "SMS_OUTBOX_URL": outbox.serve(aws_endpoint)})

    sys.path.insert(0, str(ROOT))
    from chalicelib import bootstrap
    from .realname import DemoRegister
    bootstrap.use_real_name_register(DemoRegister())   # fictional people (local/people.json)
    import app as app_module
    identity = Identity(REGION, aws_endpoint, made.user_pool_id, made.user_pool_client_id,
                        made.keys)
    server = create_server(app_module.app, identity, host, api_port)
    threading.Thread(target=server.server.serve_forever, name="api", daemon=True).start()
    stoppers.append(server.shutdown)
    api_url = f"http://{host}:{server.server.server_address[1]}"
    os.environ["SITE_ORIGIN"] = api_url      # documents' QR codes lead to this website

    from . import disruptions
    from .dispatcher import Dispatcher

    def new_dispatcher():
        return Dispatcher(app_module, made.names, region=REGION, queue_urls={
            made.names[logical_id]: url for logical_id, url in made.refs.items()
            if url.startswith("http")}, schedule_seconds=schedule_seconds)
    dispatcher = new_dispatcher()
    dispatcher.start()
    stoppers.append(dispatcher.stop)
    # Throttling, a service's errors, the dispatcher stopped and started again (on demand)
    disruptions_url = disruptions.serve(aws_endpoint, {"dispatcher": (dispatcher, new_dispatcher)})
    stoppers.append(disruptions.stop)

    if restored:
        _resume_workflows(restored)
    _demo_citizen(aws_endpoint, api_url, made.user_pool_id, made.user_pool_client_id, operator)
    description = {
        "api_url": api_url,
        "web_url": api_url,
        "openapi_url": f"{api_url}/openapi.json",
        # The operator's key (a deployer's): what an administrator's tools use.
        "aws": {"endpoint": aws_endpoint, "s3_endpoint": s3_endpoint, "region": REGION,
                "access_key_id": operator[0], "secret_access_key": operator[1]},
        "roles": made.roles,
        "environment": made.environment,      # what the functions' environment holds
        "cognito": {"region": REGION, "endpoint": aws_endpoint,
                    "user_pool_id": made.user_pool_id, "client_id": made.user_pool_client_id},
        "callers": made.callers,            # systems' keys (named system accounts)
        "staff": made.staff.description(REGION, aws_endpoint),   # people sign in (local/staff.py)
        "resources": made.names,
        "demo_citizen": {k: DEMO_CITIZEN[k] for k in ("username", "password", "id_number")},
        "workday_seconds": workday_seconds,
        "camera_footage_url": f"{aws_endpoint}/_local/cameras/footage",
        "sms_outbox_url": os.environ["SMS_OUTBOX_URL"],   # texts kept by moto (local/outbox.py)
        "faults_url": faults.serve(aws_endpoint),       # services failing (local/faults.py)
        "disruptions_url": disruptions_url,     # refusing, a component stopped (local/disruptions.py)
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a client never reads half a description.
    partial = state_dir / "stack.json.partial"
    partial.write_text(json.dumps(description, ensure_ascii=False, indent=2), encoding="utf-8")
    partial.replace(state_dir / "stack.json")
    keeper.start()
    return Stack(api_url, aws_endpoint, s3_endpoint, description, stoppers, dispatcher, restored)


def _resume_workflows(restored) -> None:
    """Step Functions' executions are not kept: each open case's and task's workflow starts
    again from what is stored, as the API function that starts workflows (its role)."""
    from chalicelib import bootstrap

    from .runtime import acting_as

    with acting_as("APIHandler"):
        approval, work = bootstrap.approval(), bootstrap.supervision().work
        for case_id in restored.open_cases:
            approval.resume(case_id)
        for task_id in restored.open_tasks:
            work.resume(task_id)


def _keep_logs(folder: Path) -> None:
    """The functions' JSON lines and the gateway's access lines, kept as CloudWatch keeps them
    (one log group each), for `make audit` (local/audit.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    from chalicelib.logs import logger

    functions = logging.FileHandler(folder / "functions.jsonl", encoding="utf-8")
    functions.setFormatter(logger.registered_formatter)
    logger.addHandler(functions)
    gateway = logging.FileHandler(folder / "gateway.jsonl", encoding="utf-8")
    gateway.setFormatter(logging.Formatter("%(message)s"))
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(message)s"))
    gateway_log = logging.getLogger("approval.gateway")
    gateway_log.propagate = False          # its own log group, not the functions'
    gateway_log.handlers = [gateway, console]
    gateway_log.setLevel(logging.INFO)


def _fresh(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


def _demo_citizen(endpoint: str, api_url: str, pool_id: str, client_id: str, operator) -> None:
    """The demo account, created confirmed (its phone verified, as an operator's account is)
    and bound through the real-name step as any citizen's is."""
    import boto3
    import requests
    cognito = boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id=operator[0], aws_secret_access_key=operator[1])
    username = DEMO_CITIZEN["username"]
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
        return                              # kept from an earlier run, as it was left
    except cognito.exceptions.UserNotFoundException:
        pass
    cognito.sign_up(ClientId=client_id, Username=username, Password=DEMO_CITIZEN["password"],
                    UserAttributes=[{"Name": "phone_number",
                                     "Value": DEMO_CITIZEN["phone_number"]}])
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=username)
    cognito.admin_update_user_attributes(UserPoolId=pool_id, Username=username, UserAttributes=[
        {"Name": "phone_number_verified", "Value": "true"}])
    token = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": DEMO_CITIZEN["password"]},
    )["AuthenticationResult"]["IdToken"]
    bound = requests.post(f"{api_url}/me/real-name", timeout=30, headers={"Authorization": token},
                          json={k: DEMO_CITIZEN[k] for k in ("name", "id_number")})
    if bound.status_code != 200:
        raise RuntimeError(f"the demo citizen's real-name step failed: {bound.status_code} "
                           f"{bound.text}")


def _kept(restored, state_dir: Path) -> str:
    where = state_dir / "saved"
    if restored is None:
        return f"in {where} (started clean; make reset starts clean again)"
    return (f"in {where}: {restored.items} items, {restored.objects} files and {restored.users} "
            f"accounts restored, {len(restored.open_cases)} open cases' and "
            f"{len(restored.open_tasks)} tasks' workflows started again (make reset deletes it)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", 8000)))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("AWS_PORT", 5000)))
    parser.add_argument("--s3-port", type=int, default=int(os.environ.get("S3_PORT", 5001)))
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local")
    parser.add_argument("--workday-seconds", type=float,
                        default=float(os.environ.get("WORKDAY_SECONDS") or 0) or None,
                        help="compressed clock: one working day lasts this many seconds")
    parser.add_argument("--schedule-seconds", type=float, default=None,
                        help="run every scheduled job this often (demos, benchmarks)")
    parser.add_argument("--without-statement", action="append", default=[],
                        metavar="FUNCTION:SID",
                        help="leave this statement out of the function's role (tests)")
    parser.add_argument("--staff-oidc", nargs=2, metavar=("ISSUER", "CLIENT_ID"),
                        help="federate an OpenID Connect provider (a government OA single "
                             "sign-on) into the staff identity pool beside the staff user pool")
    parser.add_argument("--reset", action="store_true",
                        help="delete the saved state and the logs of the state folder, and "
                             "exit: the next start is clean (make reset)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.reset:
        from .persist import StateInUse, reset
        try:
            gone = reset(args.state_dir)
        except StateInUse as running:
            print(f"Not reset: {running}.", file=sys.stderr)
            return 1
        print("Deleted " + ", ".join(gone) + "." if gone else
              f"Nothing saved in {args.state_dir}.")
        return 0
    from .staff import DEMO_PASSWORD
    from .persist import StateInUse, StateUnreadable
    try:
        stack = start(args.api_port, args.aws_port, args.s3_port, args.host, args.state_dir,
                      args.workday_seconds, tuple(args.without_statement), args.schedule_seconds,
                      tuple(args.staff_oidc) if args.staff_oidc else None)
    except (StateInUse, StateUnreadable) as refused:
        print(f"Not started: {refused}.", file=sys.stderr)
        return 1
    print(f"Approval system running.\n"
          f"  website and API  {stack.api_url}\n"
          f"  API description  {stack.api_url}/openapi.json\n"
          f"  AWS endpoint     {stack.aws_endpoint}  (S3 uploads via {stack.s3_endpoint})\n"
          f"  clients read     {args.state_dir / 'stack.json'}\n"
          f"  demo citizen     {DEMO_CITIZEN['username']} / {DEMO_CITIZEN['password']}\n"
          f"  staff sign-in    <staff id, e.g. SCJG-001> / {DEMO_PASSWORD}\n"
          f"  working day      {f'{args.workday_seconds:g} s (compressed clock)' if args.workday_seconds else 'China official calendar'}\n"
          f"  kept             {_kept(stack.restored, args.state_dir)}\n"
          f"Press Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # a second Ctrl-C must not cut the last save
    stack.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
