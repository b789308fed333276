"""The named, bounded checks shared by the RESP client scripts (resp_clients.py, resp_router.py).

check() prints each passed check and exits non-zero on the first failed one, naming it;
eventually() polls a probe until it returns True or DEADLINE_S passes; connect() opens a raw
socket that has authenticated with `key` (when one is given: the cluster runs with auth on).
"""
import socket
import sys
import time

DEADLINE_S = 20


def check(condition, what):
    if not condition:
        print("FAILED:", what, flush=True)
        sys.exit(1)
    print("ok:", what, flush=True)


def eventually(probe, what):
    end = time.monotonic() + DEADLINE_S
    last = None
    while time.monotonic() < end:
        last = probe()
        if last is True:
            return check(True, what)
        time.sleep(0.05)
    check(False, f"{what} (last: {last!r})")


def connect(port, key):
    """A raw connection to 127.0.0.1:port, AUTHed with key unless it is empty."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if key:
        s.sendall(b"AUTH " + key.encode() + b"\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = s.recv(1)
            if not chunk:
                break
            reply += chunk
        check(reply == b"+OK\r\n", f"AUTH on a raw connection to {port} ({reply!r})")
    return s
