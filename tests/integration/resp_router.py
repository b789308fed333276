#!/usr/bin/python3
"""Real Redis clients through the router's RESP port (started by resp_router_test.cc).

Usage: resp_router.py ROUTER_RESP_PORT REGION_RESP_PORTS   (comma-separated, one per region)

The router runs with location us (region 0) in front of three regions. Uses Debian's
python3-redis, redis-cli and redis-benchmark. Exits non-zero on the first failed check, naming
it. Every wait is bounded.
"""
import socket
import subprocess
import sys
import time

import redis

from resp_checks import DEADLINE_S, check, connect, eventually

ROUTER = int(sys.argv[1])
RESP = [int(p) for p in sys.argv[2].split(",")]
# The client API key (the harness runs with auth on); "" when none.
KEY = sys.argv[3] if len(sys.argv) > 3 else ""
CLI_AUTH = ["-a", KEY, "--no-auth-warning"] if KEY else []
NAMES = ["us", "eu", "ap"]


def router():
    return redis.Redis(host="127.0.0.1", port=ROUTER, socket_timeout=10, password=KEY or None)


def raw(payload, read_until_close=False):
    """Sends raw bytes to the router; returns what came back (until close, or the first line)."""
    with connect(ROUTER, KEY) as s:
        s.sendall(payload)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
            if not read_until_close and data.endswith(b"\r\n"):
                return data, False


def served(r):
    """The region that served the connection's last forwarded command."""
    return r.execute_command("MERIDIAN.REGION")[1].decode()


r = router()

# --- every type through the router, served by the nearest region ---
check(r.ping() is True, "PING through the router")
check(r.execute_command("MERIDIAN.REGION") == [b"us", b"us"],
      "the client's location is the router's, and us (nearest) served")
check(r.set("s", "v1") is True and r.get("s") == b"v1", "SET / GET")
check(r.mset({"m1": "a", "m2": "b"}) is True and r.mget("m1", "m2", "none") == [b"a", b"b", None],
      "MSET / MGET")
check(r.incr("c") == 1 and r.incrby("c", 10) == 11 and r.decr("c") == 10 and r.decrby("c", 4) == 6,
      "INCR / INCRBY / DECR / DECRBY answer the value after each")
check(r.get("c") == b"6", "GET of a counter")
check(r.hset("h", mapping={"f1": "x", "f2": "y"}) == 2 and r.hget("h", "f1") == b"x",
      "HSET / HGET")
check(r.hgetall("h") == {b"f1": b"x", b"f2": b"y"} and r.hmget("h", "f2", "f9") == [b"y", None],
      "HGETALL / HMGET")
check(r.hdel("h", "f1") == 1 and r.hgetall("h") == {b"f2": b"y"}, "HDEL")
check(r.sadd("t", "a", "b", "c") == 3 and r.srem("t", "b") == 1, "SADD / SREM")
check(r.smembers("t") == {b"a", b"c"} and r.sismember("t", "a") and r.scard("t") == 2,
      "SMEMBERS / SISMEMBER / SCARD")
check(r.type("h") == b"hash" and r.type("t") == b"set" and r.type("s") == b"string",
      "TYPE")
check(r.exists("s", "h", "nothing") == 2, "EXISTS")
check(r.delete("t") == 1 and r.exists("t") == 0, "DEL of a set")
check(r.set("handle:router-owned", "me", nx=True) is True, "a handle claimed with SET NX")
check(r.set("handle:router-owned", "you", nx=True) is None, "a taken handle answers nil")
check(r.get("handle:router-owned") == b"me", "the handle's owner")
try:
    r.execute_command("INCR", "h")
    check(False, "WRONGTYPE through the router")
except redis.ResponseError as e:
    check(str(e).startswith("WRONGTYPE"), "WRONGTYPE through the router")
check(served(r) == "us", "every command was served by us")


def everywhere():
    for port in RESP:
        region = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10,
                             password=KEY or None)
        got = (region.get("s"), region.get("c"), region.hgetall("h"), region.mget("m1", "m2"))
        if got != (b"v1", b"6", {b"f2": b"y"}, [b"a", b"b"]):
            return got
    return True


eventually(everywhere, "what went through the router reached every region, each write once")

# --- the client's location: MERIDIAN.REGION ---
eu = router()
check(eu.execute_command("MERIDIAN.REGION", "eu") == b"OK", "MERIDIAN.REGION eu")
check(eu.incr("by-eu") == 1 and served(eu) == "eu", "a client located in eu is served by eu")
try:
    eu.execute_command("MERIDIAN.REGION", "mars")
    check(False, "an unknown region is refused")
except redis.ResponseError as e:
    check("unknown region 'mars' (regions: us, eu, ap)" in str(e), "an unknown region is refused")

# --- a client's own MERIDIAN.IDEM passes through: its retries count once ---
check(r.execute_command("MERIDIAN.IDEM", "client-key", "INCR", "idem") == 1, "client MERIDIAN.IDEM")
check(r.execute_command("MERIDIAN.IDEM", "client-key", "INCR", "idem") == 1,
      "client MERIDIAN.IDEM retried through the router is answered, not applied")
check(r.get("idem") == b"1", "the client's keyed write counted once")

# --- redis-cli through the router ---
out = subprocess.run(["redis-cli", "-p", str(ROUTER), *CLI_AUTH, "SET", "cli", "hello"], capture_output=True,
                     text=True, timeout=30)
check(out.stdout.strip() == "OK", "redis-cli SET through the router")
out = subprocess.run(["redis-cli", "-p", str(ROUTER), *CLI_AUTH, "GET", "cli"], capture_output=True,
                     text=True, timeout=30)
check(out.stdout.strip() == "hello", "redis-cli GET through the router")
out = subprocess.run(["redis-cli", "-p", str(ROUTER), *CLI_AUTH, "WAIT", "1", "100"], capture_output=True,
                     text=True, timeout=30)
check(out.stdout.strip() == "0", "WAIT on a router connection that wrote nothing answers 0")
r.set("waited", "1")
check(r.wait(2, 20000) == 2, "WAIT through the router counts the regions holding the write")
token = r.execute_command("MERIDIAN.SESSION")
check(token and r.get("waited") == b"1", "a client with a session token reads through the router")

# --- pipelining through the router: replies in order, each write once ---
pipe = r.pipeline(transaction=False)
for _ in range(500):
    pipe.incr("piped")
pipe.get("piped")
pipe.set("piped-after", "x")
pipe.get("piped-after")
results = pipe.execute()
check(results[:500] == list(range(1, 501)) and results[500:] == [b"500", True, b"x"],
      "500 pipelined INCRs, a GET, a SET and a GET in order through the router")
subprocess.run(["redis-benchmark", "-p", str(ROUTER), *CLI_AUTH[:2], "-c", "4", "-n", "2000", "-P", "16", "-t",
                "incr", "-q"], capture_output=True, timeout=120, check=True)
check(r.get("counter:__rand_int__") == b"2000",
      "redis-benchmark's 2000 pipelined INCRs through the router each counted once")

# --- RESP3 through the router ---
reply, _ = raw(b"HELLO 3\r\n")
check(reply.startswith(b"%7\r\n") and b"meridian-router" in reply, "HELLO 3 answers a RESP3 map")
end = time.monotonic() + DEADLINE_S
with connect(ROUTER, KEY) as s:
    s.sendall(b"HELLO 3\r\nHGETALL h\r\n")
    data = b""
    while b"%1\r\n$2\r\nf2\r\n$1\r\ny\r\n" not in data and time.monotonic() < end:
        data += s.recv(65536)
check(data.endswith(b"%1\r\n$2\r\nf2\r\n$1\r\ny\r\n"), "after HELLO 3 a region's reply is RESP3")

# --- bad input: errors, the router unharmed ---
reply, closed = raw(b"*1\r\n$abc\r\nPING\r\n", read_until_close=True)
check(reply.startswith(b"-ERR Protocol error") and closed, "broken framing: error, then closed")
reply, closed = raw(b"*1\r\n$99999999999\r\n", read_until_close=True)
check(reply.startswith(b"-ERR Protocol error") and closed, "a huge bulk length: error, then closed")
reply, _ = raw(b"NOSUCHCOMMAND x\r\n")
check(reply.startswith(b"-ERR unknown command"), "an unknown command is forwarded, the region answers")
try:
    r.execute_command("GET")
    check(False, "wrong arity is the region's error")
except redis.ResponseError as e:
    check("wrong number of arguments" in str(e), "wrong arity is the region's error")
check(r.ping() is True and r.get("c") == b"6" and router().get("s") == b"v1",
      "the router is unharmed")
print("all RESP router checks passed")
