#!/usr/bin/python3
"""Cluster clients against three sliced Meridian regions (started by slices_test.cc).

Usage: resp_slices.py RESP_PORTS HTTP_PORTS SLICES KEY ROUTER_RESP_PORT
  RESP_PORTS, HTTP_PORTS: slice 0's, comma-separated, one per region (slice i listens on +i).

Each region is a Redis Cluster of SLICES masters to its clients; the regions replicate slice by
slice. Uses Debian's python3-redis (RedisCluster), redis-cli -c and redis-benchmark --cluster.
Exits non-zero on the first failed check, naming it. Every wait is bounded.
"""
import json
import subprocess
import sys
import urllib.error
import urllib.request

import redis
from redis.cluster import RedisCluster

from resp_checks import check, eventually

RESP = [int(p) for p in sys.argv[1].split(",")]
HTTP = [int(p) for p in sys.argv[2].split(",")]
SLICES = int(sys.argv[3])
KEY = sys.argv[4] if len(sys.argv) > 4 else ""
ROUTER = int(sys.argv[5]) if len(sys.argv) > 5 else 0
CLI_AUTH = ["-a", KEY, "--no-auth-warning"] if KEY else []
SLOTS = 16384


def slice_of_slot(slot):
    return max(i for i in range(SLICES) if i * SLOTS // SLICES <= slot)


def plain(region, slice_index):
    return redis.Redis(host="127.0.0.1", port=RESP[region] + slice_index, socket_timeout=10,
                       password=KEY or None)


def clustered(region):
    return RedisCluster(host="127.0.0.1", port=RESP[region], password=KEY or None,
                        socket_timeout=10)


# --- every slice is up (the harness waited for slice 0's /healthz) ---
def healthy():
    for region in range(len(HTTP)):
        for s in range(SLICES):
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{HTTP[region] + s}/healthz", timeout=5) as r:
                    status = json.loads(r.read()).get("status")
            except (urllib.error.URLError, OSError) as e:
                return (region, s, str(e))
            if status != "ok":
                return (region, s, status)
    return True


eventually(healthy, "every slice of every region reports ok")

# --- CLUSTER describes the slices as masters of contiguous slot ranges ---
slots = plain(0, 0).execute_command("CLUSTER", "SLOTS")
check(len(slots) == SLICES, f"CLUSTER SLOTS lists {SLICES} ranges ({slots!r})")
for i, entry in enumerate(slots):
    check(entry[0] == i * SLOTS // SLICES and entry[1] == (i + 1) * SLOTS // SLICES - 1,
          f"slice {i} holds its range ({entry[:2]!r})")
    check(entry[2][1] == RESP[0] + i, f"slice {i} is served on the region's port + {i}")
nodes = plain(0, 1).execute_command("CLUSTER", "NODES")
nodes = nodes.decode() if isinstance(nodes, bytes) else nodes
check(sum("myself" in line for line in nodes.splitlines()) == 1 and
      len(nodes.splitlines()) == SLICES, f"CLUSTER NODES names the slices ({nodes!r})")
shards = plain(0, 0).execute_command("CLUSTER", "SHARDS")
check(len(shards) == SLICES, f"CLUSTER SHARDS lists {SLICES} shards ({shards!r})")
raw_client = plain(0, 0)
raw = raw_client.connection_pool.get_connection("COMMAND")  # no reply callback: the raw reply
raw.send_command("COMMAND", "INFO", "mset", "get", "nosuch")
info = raw.read_response()
raw_client.connection_pool.release(raw)
check(info[0][3:6] == [1, -1, 2] and info[1][3:6] == [1, 1, 1] and info[2] is None,
      f"COMMAND INFO gives each command's key positions ({info!r})")
check(plain(0, 0).execute_command("CLUSTER", "KEYSLOT", "foo") == 12182,
      "CLUSTER KEYSLOT is Redis Cluster's (foo -> 12182)")
info = plain(0, 0).info()
check(info.get("cluster_enabled") == 1, "INFO says cluster_enabled:1")

# --- a plain client is redirected, multi-key commands need one slot ---
foo_slice = slice_of_slot(12182)
other = 1 - foo_slice if SLICES == 2 else (foo_slice + 1) % SLICES
try:
    plain(0, other).set("foo", "x")
    check(False, "a key of another slice is refused")
except redis.exceptions.ResponseError as e:
    check(str(e) == f"MOVED 12182 127.0.0.1:{RESP[0] + foo_slice}",
          f"a key of another slice is answered MOVED to its slice ({e})")
check(plain(0, foo_slice).get("foo") is None, "the refused write changed nothing")
try:
    plain(0, 0).mset({"a": "1", "b": "2"})
    check(False, "MSET across slots is refused")
except redis.exceptions.ResponseError as e:
    check(str(e).startswith("CROSSSLOT"), f"MSET across slots is answered CROSSSLOT ({e})")
tag_slice = slice_of_slot(plain(0, 0).execute_command("CLUSTER", "KEYSLOT", "{user7}"))
check(plain(0, tag_slice).mset({"{user7}.name": "ann", "{user7}.city": "oslo"}),
      "MSET of keys sharing a hash tag works on their slice")

# --- every type, written through cluster clients in every region, converges everywhere ---
regions = [clustered(i) for i in range(len(RESP))]
N = 24  # keys per type per region: spread over both slices
for i, r in enumerate(regions):
    for k in range(N):
        r.set(f"str:{i}:{k}", f"value-{i}-{k}")
        r.incrby(f"likes:{k}", i + 1)
        r.hset(f"profile:{k}", f"field{i}", f"v{i}")
        r.sadd(f"tags:{k}", f"m{i}")
check(True, f"{4 * N} writes of every type through RedisCluster in each region")
total = sum(i + 1 for i in range(len(regions)))


def converged():
    for r in regions:
        for k in range(N):
            for i in range(len(regions)):
                if r.get(f"str:{i}:{k}") != f"value-{i}-{k}".encode():
                    return ("string", i, k, r.get(f"str:{i}:{k}"))
            if r.get(f"likes:{k}") != str(total).encode():
                return ("counter", k, r.get(f"likes:{k}"))
            if len(r.hgetall(f"profile:{k}")) != len(regions):
                return ("hash", k, r.hgetall(f"profile:{k}"))
            if len(r.smembers(f"tags:{k}")) != len(regions):
                return ("set", k, r.smembers(f"tags:{k}"))
    return True


eventually(converged, "strings, counters, hashes and sets converge in every region")

# --- each slice holds exactly the keys of its slots, in every region ---
for region in range(len(RESP)):
    sizes = []
    for s in range(SLICES):
        client = plain(region, s)
        keys = list(client.scan_iter(count=100))
        wrong = [k for k in keys
                 if slice_of_slot(client.execute_command("CLUSTER", "KEYSLOT", k)) != s]
        check(not wrong, f"region {region} slice {s} holds only its own slots' keys ({wrong[:3]})")
        sizes.append(client.dbsize())
    check(all(size > 0 for size in sizes) and sum(sizes) == 6 * N + 2,
          f"region {region}'s slices split its {6 * N + 2} keys ({sizes})")

# --- a handle is claimed once across regions, in its slice ---
check(regions[0].set("handle:alice", "owner-us", nx=True) is True, "SET handle NX claims it")
check(regions[1].set("handle:alice", "owner-eu", nx=True) is None,
      "the handle is taken in another region")
try:
    regions[0].set("handle:Alice", "x", nx=True)
    check(False, "a handle name that is not lower case is refused in a sliced region")
except redis.exceptions.ResponseError as e:
    check("lower case" in str(e), f"a handle name that is not lower case is refused ({e})")

# --- read-your-writes across regions with a slice's session token ---
writer = plain(0, foo_slice)
writer.set("foo", "fresh")
token = writer.execute_command("MERIDIAN.SESSION")
token = token.decode() if isinstance(token, bytes) else token
check(token.startswith(f"slice{foo_slice}~"), f"a slice's session token names it ({token})")
reader = plain(len(RESP) - 1, foo_slice)
reader.execute_command("MERIDIAN.SESSION", token)
check(reader.get("foo") == b"fresh", "a read with the writer's token in another region sees it")
try:
    plain(1, other).execute_command("MERIDIAN.SESSION", token)
    check(False, "another slice refuses the token")
except redis.exceptions.ResponseError as e:
    check("not this slice's" in str(e), f"another slice refuses the token ({e})")

# --- HTTP: a key of another slice is 421, on its own slice it is served ---
def http_get(port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"Bearer {KEY}"} if KEY else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


status, body = http_get(HTTP[1] + other, "/register/foo")
check(status == 421 and "slice" in json.dumps(body),
      f"HTTP to the wrong slice is 421 naming the slice ({status} {body})")
def http_call(port, path, method="GET", body=None, headers=None):
    all_headers = {"Authorization": f"Bearer {KEY}"} if KEY else {}
    all_headers.update(headers or {})
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


status, body = http_call(HTTP[0] + foo_slice, "/counter/{foo}http/incr?by=4", "POST")
http_token = body.get("session_token", "")
check(status == 200 and http_token.startswith(f"slice{foo_slice}~"),
      f"an HTTP write's session token names its slice ({status} {body})")
status, body = http_call(HTTP[1] + other, "/counter/anything", headers={"X-Session-Token": http_token})
check(status == 400 and "not this slice" in json.dumps(body),
      f"another slice refuses the HTTP token with 400 ({status} {body})")
plain(0, foo_slice).set("foo", "bar")
eventually(lambda: http_get(HTTP[2] + foo_slice, "/register/foo")[1].get("value") == ["bar"] or
           "not yet",
           "HTTP on the key's slice of another region serves it")

# --- redis-cli -c follows MOVED; redis-benchmark --cluster drives every slice ---
out = subprocess.run(["redis-cli", "-c", "-p", str(RESP[0]), *CLI_AUTH, "SET", "bar", "baz"],
                     capture_output=True, text=True, timeout=30)
check(out.stdout.strip() == "OK", f"redis-cli -c SET ({out.stdout!r} {out.stderr!r})")
out = subprocess.run(["redis-cli", "-c", "-p", str(RESP[0] + 1), *CLI_AUTH, "GET", "bar"],
                     capture_output=True, text=True, timeout=30)
check(out.stdout.strip() == "baz", f"redis-cli -c GET from the other slice ({out.stdout!r})")
out = subprocess.run(["redis-benchmark", "--cluster", "-p", str(RESP[0]), *CLI_AUTH[:2],
                      "-t", "set,get,incr", "-n", "3000", "-c", "10", "-q"],
                     capture_output=True, text=True, timeout=120)
check(out.returncode == 0 and out.stdout.count("requests per second") == 3,
      f"redis-benchmark --cluster runs on the slices ({out.stdout[-400:]!r} {out.stderr[-400:]!r})")
sizes = [plain(0, s).dbsize() for s in range(SLICES)]
check(True, f"after the benchmark the slices hold {sizes} keys")

# --- the router: a plain client's commands go to their keys' slice ---
if ROUTER:
    routed = redis.Redis(host="127.0.0.1", port=ROUTER, socket_timeout=10, password=KEY or None)
    names = [f"routed:{k}" for k in range(16)]
    check(len({slice_of_slot(plain(0, 0).execute_command("CLUSTER", "KEYSLOT", n)) for n in names})
          == SLICES, "the routed keys fall in every slice")
    for n in names:
        routed.set(n, n.upper())
        routed.incr(f"{{{n}}}count")
    check(all(routed.get(n) == n.upper().encode() for n in names),
          "through the router, a plain client writes and reads keys of every slice")
    try:
        routed.mset({"a": "1", "b": "2"})
        check(False, "the router refuses keys of two slots")
    except redis.exceptions.ResponseError as e:
        check(str(e).startswith("CROSSSLOT"), f"the router answers CROSSSLOT ({e})")
    try:
        routed.dbsize()
        check(False, "the router refuses DBSIZE of sliced regions")
    except redis.exceptions.ResponseError as e:
        check("not built for sliced regions" in str(e), f"the router refuses DBSIZE ({e})")
    token = routed.execute_command("MERIDIAN.SESSION")
    token = token.decode() if isinstance(token, bytes) else token
    check(all(f"slice{s}~" in token for s in range(SLICES)),
          f"the router's session token holds a vector per slice ({token})")
    fresh = redis.Redis(host="127.0.0.1", port=ROUTER, socket_timeout=10, password=KEY or None)
    fresh.execute_command("MERIDIAN.SESSION", token)
    check(fresh.get(f"{{{names[-1]}}}count") == b"1", "a client given that token reads the writes")
    routed.set(names[-1], "waited")
    check(routed.wait(len(RESP) - 1, 10000) == len(RESP) - 1,
          "WAIT through the router counts the regions holding the write, in its slice")
    for region in range(len(RESP)):
        for n in names:
            s = slice_of_slot(plain(0, 0).execute_command("CLUSTER", "KEYSLOT", n))
            eventually(lambda: plain(region, s).get(n) in (n.upper().encode(), b"waited") or n,
                       f"region {region} slice {s} holds routed key {n}")

print("all slice checks passed", flush=True)
