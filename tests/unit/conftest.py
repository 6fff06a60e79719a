"""Unit tests run with the network switched off: the domain and the service layer need no AWS."""
import pytest


@pytest.fixture(autouse=True)
def _no_sockets(socket_disabled):
    yield


def window_cameras(published, recorded_from, recorded_until):
    """A camera stream for every window of the catalog; bz-a01 (the city hall's first window)
    recorded over the given period."""
    from chalicelib.adapters.cameras import MemoryCameras

    cameras = MemoryCameras()
    for dept in published.departments.values():
        for window in dept["windows"]:
            cameras.add_stream(window["camera_stream"])
    cameras.record("bz-a01", recorded_from, recorded_until)
    return cameras
