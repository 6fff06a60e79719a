"""Unit tests run with the network switched off: the domain and the service layer need no AWS."""
import pytest


@pytest.fixture(autouse=True)
def _no_sockets(socket_disabled):
    yield
