#!/usr/bin/python3
"""Real Redis clients against a three-region Meridian cluster (started by resp_clients_test.cc).

Usage: resp_clients.py RESP_PORTS HTTP_PORTS   (comma-separated, one per region, same order)

Uses Debian's python3-redis, redis-cli and redis-benchmark. Exits non-zero on the first failed
check, naming it. Every wait is bounded.
"""
import json
import socket
import subprocess
import sys
import urllib.request

import redis

from resp_checks import check, connect, eventually

RESP = [int(p) for p in sys.argv[1].split(",")]
HTTP = [int(p) for p in sys.argv[2].split(",")]
# The client API key (the harness runs with auth on); "" when none.
KEY = sys.argv[3] if len(sys.argv) > 3 else ""
CLI_AUTH = ["-a", KEY, "--no-auth-warning"] if KEY else []


def client(region):
    return redis.Redis(host="127.0.0.1", port=RESP[region], socket_timeout=10,
                       password=KEY or None)


def http_get(region, path):
    request = urllib.request.Request(f"http://127.0.0.1:{HTTP[region]}{path}",
                                     headers={"Authorization": f"Bearer {KEY}"} if KEY else {})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


def raw(region, payload, read_until_close=False):
    """Sends raw bytes; returns what came back (until close, or the first reply)."""
    with connect(RESP[region], KEY) as s:
        s.sendall(payload)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
            if not read_until_close and data.endswith(b"\r\n"):
                return data, False


regions = [client(i) for i in range(len(RESP))]

# --- every type, written in every region, converges everywhere ---
for i, r in enumerate(regions):
    check(r.set(f"str:{i}", f"value-{i}") is True, f"SET in region {i}")
    check(r.incrby("likes", i + 1) >= i + 1, f"INCRBY in region {i}")
    check(r.hset("profile", f"field{i}", f"v{i}") == 1, f"HSET in region {i}")
    check(r.sadd("tags", f"m{i}") == 1, f"SADD in region {i}")
total = sum(i + 1 for i in range(len(regions)))


def converged():
    for r in regions:
        strings = [r.get(f"str:{i}") for i in range(len(regions))]
        if strings != [f"value-{i}".encode() for i in range(len(regions))]:
            return ("strings", strings)
        if r.get("likes") != str(total).encode():
            return ("counter", r.get("likes"))
        if len(r.hgetall("profile")) != len(regions):
            return ("hash", r.hgetall("profile"))
        if r.smembers("tags") != {f"m{i}".encode() for i in range(len(regions))}:
            return ("set", r.smembers("tags"))
    return True


eventually(converged, "strings, counters, hashes and sets converge in every region")

# --- HTTP and RESP see the same data ---
for i in range(len(regions)):
    check(http_get(i, "/counter/likes")["value"] == total, f"HTTP counter in region {i}")
    check(http_get(i, "/profile/profile")["value"] == {f"field{j}": f"v{j}" for j in range(len(regions))},
          f"HTTP profile in region {i}")
    check(sorted(http_get(i, "/tags/tags")["value"]) == [f"m{j}" for j in range(len(regions))],
          f"HTTP tags in region {i}")
    check(http_get(i, "/register/str:0")["value"] == ["value-0"], f"HTTP register in region {i}")

# --- WRONGTYPE ---
for command in (("GET", "profile"), ("INCR", "tags"), ("SADD", "likes", "x"), ("HGET", "str:0", "f")):
    try:
        regions[0].execute_command(*command)
        check(False, f"{command} answers WRONGTYPE")
    except redis.ResponseError as e:
        check(str(e).startswith("WRONGTYPE"), f"{command} answers WRONGTYPE")
check(regions[0].get("likes") == str(total).encode(), "WRONGTYPE changed nothing")

# --- WAIT: both other regions hold this connection's last write ---
conn = client(0)
conn.set("waited", "1")
check(conn.wait(len(regions) - 1, 10000) == len(regions) - 1, "WAIT counts the other regions")

# --- read-your-writes across regions with the session token ---
writer = client(0)
writer.set("ryw", "fresh")
token = writer.execute_command("MERIDIAN.SESSION")
reader = client(len(regions) - 1)
reader.execute_command("MERIDIAN.SESSION", token)
check(reader.get("ryw") == b"fresh", "a read with the writer's session token sees the write")

# --- MERIDIAN.SESSIONED / MERIDIAN.WAITFOR (what the router sends over its shared connections) ---
shared = client(0)
reply, after, write = shared.execute_command("MERIDIAN.SESSIONED", "-", "SET", "sessioned", "v1")
check(reply == b"OK" and after and write, "SESSIONED SET answers OK, a token and its write")
check(shared.execute_command("MERIDIAN.SESSION") == client(0).execute_command("MERIDIAN.SESSION"),
      "SESSIONED leaves the connection's own session untouched")
check(shared.execute_command("WAIT", 1, 100) == 0, "the connection's WAIT does not see it either")
check(shared.execute_command("MERIDIAN.WAITFOR", write, len(regions) - 1, 10000) ==
      len(regions) - 1, "WAITFOR counts the regions holding the named write")
elsewhere = client(len(regions) - 1)
got, still, none = elsewhere.execute_command("MERIDIAN.SESSIONED", after, "GET", "sessioned")
check(got == b"v1" and still == after and none is None,
      "a SESSIONED read elsewhere waits for the token and names no write")
check(shared.execute_command("MERIDIAN.SESSIONED", after, "MERIDIAN.IDEM", "sk", "INCR",
                             "sessioned-c")[0] == 1, "SESSIONED around MERIDIAN.IDEM")
wrong = shared.execute_command("MERIDIAN.SESSIONED", "-", "INCR", "sessioned")
check(isinstance(wrong[0], redis.ResponseError) and str(wrong[0]).startswith("WRONGTYPE"),
      "a command's error is the first element")
for bad, what in [(["MERIDIAN.SESSIONED", "not a token!", "SET", "sessioned", "v2"], "bad token"),
                  (["MERIDIAN.SESSIONED", "-", "HELLO", "3"], "a connection command"),
                  (["MERIDIAN.SESSIONED", "-", "MERIDIAN.SESSIONED", "-", "GET", "x"], "nesting"),
                  (["MERIDIAN.WAITFOR", "nonsense", "1", "0"], "bad write")]:
    try:
        shared.execute_command(*bad)
        check(False, f"SESSIONED refuses {what}")
    except redis.ResponseError:
        pass
check(client(0).get("sessioned") == b"v1",
      "a refused SESSIONED SET ran nothing")

# --- pipelining: replies in order ---
pipe = regions[1].pipeline(transaction=False)
for _ in range(500):
    pipe.incr("piped")
pipe.get("piped")
results = pipe.execute()
check(results[:500] == list(range(1, 501)) and results[500] == b"500", "500 pipelined INCRs in order")

# --- MERIDIAN.IDEM: a write's idempotency key over RESP, as Idempotency-Key over HTTP ---
idem = client(0)
check(idem.execute_command("MERIDIAN.IDEM", "key-1", "INCR", "idem") == 1, "MERIDIAN.IDEM INCR")
check(idem.execute_command("MERIDIAN.IDEM", "key-1", "INCR", "idem") == 1,
      "the same MERIDIAN.IDEM INCR again is answered, not applied")
try:
    idem.execute_command("MERIDIAN.IDEM", "key-1", "INCRBY", "idem", "5")
    check(False, "MERIDIAN.IDEM key reused for another command is refused")
except redis.ResponseError as e:
    check("already used for a request with different parameters" in str(e),
          "MERIDIAN.IDEM key reused for another command is refused")
check(idem.get("idem") == b"1", "the counter counted the key's write once")
check(idem.wait(len(regions) - 1, 10000) == len(regions) - 1, "the keyed write replicated")
other = client(len(regions) - 1)
check(other.execute_command("MERIDIAN.IDEM", "key-1", "INCR", "idem") == 1,
      "a retry in another region, after the original replicated, is answered, not applied")
try:
    other.execute_command("MERIDIAN.IDEM", "key-1", "DECR", "idem")
    check(False, "the replicated record refuses a different command in another region")
except redis.ResponseError as e:
    check("already used" in str(e), "the replicated record refuses a different command in another region")
check(idem.execute_command("MERIDIAN.IDEM", "key-2", "MSET", "im1", "a", "im2", "b") == b"OK",
      "MERIDIAN.IDEM MSET")
check(idem.execute_command("MERIDIAN.IDEM", "key-2", "MSET", "im1", "a", "im2", "b") == b"OK",
      "MERIDIAN.IDEM MSET again")
try:
    idem.execute_command("MERIDIAN.IDEM", "key-2", "MSET", "im1", "a", "im2", "c")
    check(False, "MERIDIAN.IDEM MSET with another value for its second key is refused")
except redis.ResponseError as e:
    check("already used" in str(e), "MERIDIAN.IDEM MSET with another value for its second key is refused")
check(idem.mget("im1", "im2") == [b"a", b"b"], "the refused MSET changed nothing")
check(idem.execute_command("MERIDIAN.IDEM", "key-3", "SADD", "idem-set", "m") == 1, "MERIDIAN.IDEM SADD")
check(idem.execute_command("MERIDIAN.IDEM", "key-3", "SADD", "idem-set", "m") == 0,
      "a retried SADD counts what it adds now: nothing")
check(idem.execute_command("MERIDIAN.IDEM", "key-4", "GET", "idem") == b"1",
      "MERIDIAN.IDEM around a read just reads")
for bad, what in ((("MERIDIAN.IDEM", "", "INCR", "x"), "must be 1 to 128"),
                  (("MERIDIAN.IDEM", "k", "MERIDIAN.IDEM", "k", "INCR", "x"), "cannot be nested"),
                  (("MERIDIAN.IDEM", "k"), "wrong number of arguments")):
    try:
        idem.execute_command(*bad)
        check(False, f"{bad} is refused")
    except redis.ResponseError as e:
        check(what in str(e), f"{bad} is refused: {e}")

# --- a pipeline longer than a connection's bound (1024 unanswered) in one send: answered in full,
# though the client sends nothing more (the router's shared connections do exactly this) ---
with connect(RESP[0], KEY) as s:
    s.sendall(b"PING\r\n" * 3000)
    want = b"+PONG\r\n" * 3000
    data = b""
    try:
        while len(data) < len(want):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    check(data == want, f"3000 pipelined PINGs in one send all answered ({data.count(b'PONG')} were)")

# --- redis-cli and redis-benchmark ---
out = subprocess.run(["redis-cli", "-p", str(RESP[2]), *CLI_AUTH, "SET", "cli", "hello"], capture_output=True,
                     text=True, timeout=30)
check(out.stdout.strip() == "OK", "redis-cli SET")
out = subprocess.run(["redis-cli", "-p", str(RESP[2]), *CLI_AUTH, "GET", "cli"], capture_output=True,
                     text=True, timeout=30)
check(out.stdout.strip() == "hello", "redis-cli GET")
subprocess.run(["redis-benchmark", "-p", str(RESP[0]), *CLI_AUTH[:2], "-c", "4", "-n", "2000", "-P", "16", "-t",
                "incr", "-q"], capture_output=True, timeout=120, check=True)
check(regions[0].get("counter:__rand_int__") == b"2000",
      "redis-benchmark's 2000 pipelined INCRs each counted once")

# --- DEL of every type: replicated, then gone everywhere (issue 19, item 8) ---
doomed = ["del:str", "del:ctr", "del:hash", "del:set"]
regions[0].set("del:str", "x")
regions[0].incrby("del:ctr", 5)
regions[0].hset("del:hash", "f", "v")
regions[0].sadd("del:set", "m")
eventually(lambda: all(r.exists(*doomed) == 4 for r in regions) or
           [r.exists(*doomed) for r in regions], "the keys to delete reach every region")
check(regions[1].delete(*doomed, "del:none") == 4, "DEL of a string, counter, hash and set answers 4")
eventually(lambda: all(r.exists(*doomed) == 0 for r in regions) or
           [r.exists(*doomed) for r in regions], "deleted keys read EXISTS 0 in every region")
check(regions[2].get("del:str") is None and regions[2].get("del:ctr") is None,
      "GET of a deleted string and counter is nil")
check(regions[2].type("del:hash") == b"none" and regions[2].smembers("del:set") == set(),
      "a deleted hash is of no type, a deleted set empty")
check(http_get(2, "/counter/del:ctr")["found"] is False and
      http_get(2, "/profile/del:hash")["found"] is False, "HTTP reads the deleted keys as not found")
check(regions[0].delete("del:ctr") == 0, "DEL of a deleted key answers 0")
check(regions[0].incr("del:ctr") == 1, "INCR after DEL counts from zero")

# --- handles: linearizable claim with SET NX ---
check(regions[0].set("handle:alice", "owner-us", nx=True) is True, "handle claimed in region 0")
check(regions[1].set("handle:alice", "owner-eu", nx=True) is None, "a taken handle answers nil")
check(regions[2].get("handle:alice") == b"owner-us", "the handle's owner read in region 2")

# --- SCAN and HTTP scans: every key once, by pattern and type, across pages ---
scanner = regions[1]
for n in range(25):
    scanner.set(f"scan:s:{n:02}", "v")
for n in range(5):
    scanner.incr(f"scan:c:{n}")
    scanner.sadd(f"scan:t:{n}", "m")
scanner.hset("scan:h:0", "f", "v")
scanner.delete("scan:s:00")  # deleted keys are not listed
everything = {f"scan:s:{n:02}".encode() for n in range(1, 25)}
everything |= {f"scan:c:{n}".encode() for n in range(5)}
everything |= {f"scan:t:{n}".encode() for n in range(5)} | {b"scan:h:0"}
listed = list(scanner.scan_iter(match="scan:*", count=7))
check(len(listed) == len(set(listed)) and set(listed) == everything,
      f"SCAN MATCH lists every key once across pages ({len(listed)} listed)")
check(set(scanner.scan_iter(match="scan:s:1?")) == {f"scan:s:1{d}".encode() for d in range(10)},
      "SCAN MATCH with ? and a literal prefix")
check(set(scanner.scan_iter(match="scan:*", _type="set")) == {f"scan:t:{n}".encode() for n in range(5)},
      "SCAN TYPE set")
check(b"scan:c:0" in set(scanner.scan_iter(match="scan:c*", _type="string")),
      "SCAN TYPE string lists counters (as Redis types them)")
try:
    scanner.execute_command("SCAN", "987654")
    check(False, "an unknown cursor is an error")
except redis.ResponseError as e:
    check("invalid cursor" in str(e), "an unknown cursor is an error")
pages, cursor, keys = 0, None, []
while pages < 20:
    query = "/register?prefix=scan%3As%3A&limit=10" + (f"&cursor={cursor}" if cursor else "")
    page = http_get(1, query)
    keys += [entry["key"] for entry in page["keys"]]
    pages += 1
    cursor = page["cursor"]
    if cursor is None:
        break
check(keys == [f"scan:s:{n:02}" for n in range(1, 25)] and pages == 3,
      f"HTTP scan pages in key order ({pages} pages)")

# --- bad input: errors, the server unharmed ---
reply, closed = raw(0, b"*1\r\n$abc\r\nPING\r\n", read_until_close=True)
check(reply.startswith(b"-ERR Protocol error") and closed, "broken framing: error, then closed")
reply, closed = raw(0, b"*1\r\n$99999999999\r\n", read_until_close=True)
check(reply.startswith(b"-ERR Protocol error") and closed, "a huge bulk length: error, then closed")
reply, _ = raw(0, b"NOSUCHCOMMAND x\r\n")
check(reply.startswith(b"-ERR unknown command"), "an unknown command is an error")
try:
    regions[0].execute_command("GET")
    check(False, "wrong arity is an error")
except redis.ResponseError as e:
    check("wrong number of arguments" in str(e), "wrong arity is an error")
reply, _ = raw(0, b"HELLO 3\r\n")
check(reply.startswith(b"%"), "HELLO 3 answers a RESP3 map")
check(regions[0].ping() is True and regions[0].get("likes") == str(total).encode(),
      "the server is unharmed")
print("all RESP client checks passed")
