# mptrace's pytest plugin: names each test for `mptrace --check`, so that a
# process leaked by a test is reported against that test (JUnit included).
# Drop this file (or its fixture) into your conftest.py.
import os

import pytest


@pytest.fixture(autouse=True)
def _mptrace_test(request):
    name = request.node.nodeid
    fd = os.environ.get("MPTRACE_FD")
    os.environ["MPTRACE_TEST"] = name  # inherited by every exec'd process
    if fd:
        os.write(int(fd), f"begin {name}\n".encode())
    yield
    if fd:
        os.write(int(fd), f"end {name}\n".encode())
    os.environ.pop("MPTRACE_TEST", None)
