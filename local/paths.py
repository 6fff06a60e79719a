"""The local stack's own control paths (`/_local/...`), served by the moto server of the process
that runs it: the identity pool's credential expiry, the text outbox, faults and disruptions on
demand. One table of path → WSGI app, looked at before moto picks its service."""
from __future__ import annotations

import functools
from typing import Callable

_apps: dict[str, Callable] = {}


def mount(path: str, app: Callable) -> None:
    """Serves `app` at `path` (idempotent: mounting again replaces the app)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    _apps[path] = app
    current = DomainDispatcherApplication.get_application
    if getattr(current, "serves_local_paths", False):
        return

    @functools.wraps(current)
    def get_application(self, environ):
        found = _apps.get(environ.get("PATH_INFO"))
        return found if found is not None else current(self, environ)
    get_application.serves_local_paths = True
    DomainDispatcherApplication.get_application = get_application
