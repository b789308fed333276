"""The named, bounded checks shared by the RESP client scripts (resp_clients.py, resp_router.py).

check() prints each passed check and exits non-zero on the first failed one, naming it;
eventually() polls a probe until it returns True or DEADLINE_S passes.
"""
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
