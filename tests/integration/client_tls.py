#!/usr/bin/python3
"""Real clients over TLS against a region's and the router's client listeners (client_tls_test.cc).

Usage: client_tls.py REGION_RESP REGION_HTTP ROUTER_RESP ROUTER_HTTP CA ROGUE_CA KEY

The cluster runs with `tls: {client: true}` and auth on. Uses Debian's python3-redis, redis-cli and
curl. Exits non-zero on the first failed check, naming it; every wait is bounded.
"""
import socket
import ssl
import subprocess
import sys

import redis

from resp_checks import check, eventually

REGION_RESP, REGION_HTTP, ROUTER_RESP, ROUTER_HTTP = (int(p) for p in sys.argv[1:5])
CA, ROGUE_CA, KEY = sys.argv[5:8]
TIMEOUT_S = 10


def tls_client(port, ca=CA, password=KEY):
    return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca,
                       ssl_cert_reqs="required", password=password or None,
                       socket_timeout=TIMEOUT_S)


def cli(port, *args, ca=CA, tls=True):
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "-a", KEY, "--no-auth-warning"]
    if tls:
        argv += ["--tls", "--cacert", ca]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=TIMEOUT_S)


def curl(url, *args, ca=CA, key=KEY):
    argv = ["curl", "-sS", "--max-time", str(TIMEOUT_S), "--cacert", ca, "-w", "\n%{http_code}"]
    if key:
        argv += ["-H", f"Authorization: Bearer {key}"]
    done = subprocess.run(argv + list(args) + [url], capture_output=True, text=True,
                          timeout=TIMEOUT_S + 5)
    body, _, code = done.stdout.rpartition("\n")
    return done.returncode, body, code


def plaintext_exchange(port, payload):
    """Sends `payload` in the clear; returns what came back before the server closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as s:
        s.sendall(payload)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def fails_to_verify(port, ca):
    try:
        tls_client(port, ca=ca).ping()
    except (redis.exceptions.ConnectionError, ssl.SSLError) as e:
        return "certificate verify failed" in str(e) or "CERTIFICATE_VERIFY_FAILED" in str(e)
    return False


for name, resp, http in (("region", REGION_RESP, REGION_HTTP), ("router", ROUTER_RESP, ROUTER_HTTP)):
    # --- python3-redis over TLS, verifying the listener against the cluster CA ---
    r = tls_client(resp)
    check(r.ping() is True, f"{name}: python3-redis ssl=True ssl_ca_certs=ca.pem PING")
    check(r.set(f"tls:{name}", "over-tls") is True, f"{name}: SET over TLS")
    check(r.get(f"tls:{name}") == b"over-tls", f"{name}: GET over TLS")
    check(r.incrby("tls:count", 2) >= 2, f"{name}: INCRBY over TLS")

    # --- redis-cli --tls --cacert ---
    out = cli(resp, "SET", f"cli:{name}", "v1")
    check(out.returncode == 0 and out.stdout.strip() == "OK", f"{name}: redis-cli --tls SET ({out})")
    out = cli(resp, "GET", f"cli:{name}")
    check(out.stdout.strip() == "v1", f"{name}: redis-cli --tls GET ({out})")

    # --- curl to HTTPS with --cacert ---
    url = f"https://127.0.0.1:{http}"
    rc, body, code = curl(f"{url}/profile/tls-{name}", "-X", "PUT", "-d", '{"name":"Tls"}')
    check(rc == 0 and code in ("200", "201"), f"{name}: curl --cacert PUT over HTTPS ({rc} {code} {body})")
    rc, body, code = curl(f"{url}/profile/tls-{name}")
    check(rc == 0 and code == "200" and "Tls" in body,
          f"{name}: curl --cacert GET over HTTPS ({code} {body})")
    rc, body, code = curl(f"https://localhost:{http}/profile/tls-{name}")
    check(rc == 0 and code == "200", f"{name}: curl https://localhost (DNS name in the certificate)")

    # --- API keys still guard what runs over TLS ---
    rc, body, code = curl(f"{url}/profile/tls-{name}", key="")
    check(rc == 0 and code == "401", f"{name}: HTTPS without a key gets 401 ({code} {body})")
    try:
        tls_client(resp, password="").get(f"tls:{name}")
        check(False, f"{name}: TLS RESP without AUTH is refused")
    except redis.exceptions.ResponseError as e:
        check("NOAUTH" in str(e), f"{name}: TLS RESP without AUTH gets -NOAUTH ({e})")
    except redis.exceptions.AuthenticationError as e:
        check("NOAUTH" in str(e) or "Authentication" in str(e), f"{name}: TLS RESP without AUTH ({e})")
    try:
        tls_client(resp, password="not-a-key").ping()
        check(False, f"{name}: TLS RESP with a wrong key is refused")
    except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError) as e:
        check("WRONGPASS" in str(e) or "invalid" in str(e).lower(),
              f"{name}: TLS RESP with a wrong key gets WRONGPASS ({e})")

    # --- a plaintext client against a TLS listener is refused ---
    back = plaintext_exchange(resp, b"PING\r\n")
    check(b"PONG" not in back and not back.startswith(b"+") and not back.startswith(b"-"),
          f"{name}: plaintext RESP client gets no RESP answer, the connection closes ({back[:40]!r})")
    back = plaintext_exchange(http, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    check(b"HTTP/1." not in back,
          f"{name}: plaintext HTTP client gets no HTTP answer, the connection closes ({back[:40]!r})")
    out = cli(resp, "PING", tls=False)
    check("PONG" not in out.stdout, f"{name}: redis-cli without --tls gets no PONG ({out})")
    rc, body, code = curl(f"http://127.0.0.1:{http}/healthz")
    check(code != "200", f"{name}: curl http:// (no TLS) gets no answer ({rc} {code})")

    # --- a client trusting another CA fails to verify ---
    check(fails_to_verify(resp, ROGUE_CA), f"{name}: python3-redis trusting another CA fails to verify")
    out = cli(resp, "PING", ca=ROGUE_CA)
    check("PONG" not in out.stdout,
          f"{name}: redis-cli --cacert OTHER_CA fails ({(out.stdout + out.stderr).strip()[:80]})")
    rc, body, code = curl(f"{url}/healthz", ca=ROGUE_CA)
    check(rc == 60, f"{name}: curl --cacert OTHER_CA fails to verify (exit {rc})")

    # --- TLS 1.3 is the minimum ---
    context = ssl.create_default_context(cafile=CA)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        with socket.create_connection(("127.0.0.1", resp), timeout=TIMEOUT_S) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                pass
        check(False, f"{name}: a TLS 1.2-only client is refused")
    except (ssl.SSLError, ConnectionResetError) as e:
        check(True, f"{name}: a TLS 1.2-only client is refused ({e})")

    # --- and the listener is unharmed by all of the above ---
    check(tls_client(resp).get(f"tls:{name}") == b"over-tls", f"{name}: still serves TLS clients")
    rc, body, code = curl(f"{url}/profile/tls-{name}")
    check(rc == 0 and code == "200", f"{name}: still serves HTTPS")

# What the router wrote reached a region through the router's TLS links, and so this one.
eventually(lambda: tls_client(REGION_RESP).get("tls:router") == b"over-tls",
           "a write through the router is read at the region")
print("all client TLS checks passed", flush=True)
