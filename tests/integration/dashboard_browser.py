#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium through Selenium (Debian's chromium,
chromium-driver and python3-selenium) against a running `meridian demo`.

Drives load on every region (writes and reads of every class, conflicting writes, handle claims),
opens the router's /dashboard, waits until every panel shows data, saves a screenshot, then kills
eu with `meridian chaos kill eu` and waits until the page shows eu down. Every wait is bounded.
Exit 0 only if every check passed; each failure names what it waited for.

Usage: dashboard_browser.py ENDPOINTS_JSON MERIDIAN_BINARY SCREENSHOT_PNG
"""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

PANELS = ["panel-health", "panel-latency", "panel-lag", "panel-conflicts", "panel-handles",
          "panel-router", "panel-clock", "panel-wan"]


def request(address, method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{address}{path}", data=data, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class Load(threading.Thread):
    """Every class written and read in every region, conflicting profile writes in two regions
    at once, and handle claims, until stopped."""

    def __init__(self, endpoints):
        super().__init__(daemon=True)
        self.regions = {name: r["http"] for name, r in endpoints["regions"].items()}
        self.router = endpoints["router"]
        self.headers = {}
        if endpoints.get("client_key"):
            self.headers["Authorization"] = "Bearer " + endpoints["client_key"]
        self.stop = threading.Event()
        self.statuses = {}

    def call(self, address, method, path, body=None):
        status = request(address, method, path, body, self.headers)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def run(self):
        round_number = 0
        while not self.stop.is_set():
            round_number += 1
            for name, address in self.regions.items():
                self.call(address, "PUT", f"/profile/p{round_number % 20}",
                          {"name": f"{name}-{round_number}"})
                self.call(address, "POST", f"/counter/c{round_number % 5}/incr?by=1")
                self.call(address, "POST", f"/tags/t{round_number % 5}",
                          {"add": [f"{name}{round_number % 7}"]})
                self.call(address, "PUT", f"/register/r{round_number % 5}", {"value": name})
                self.call(address, "GET", f"/profile/p{round_number % 20}")
                self.call(address, "GET", f"/counter/c{round_number % 5}")
                self.call(address, "GET", f"/tags/t{round_number % 5}")
            # The same field written in two regions at once: a conflict on each side.
            writers = [threading.Thread(target=self.call, args=(
                address, "PUT", "/profile/contested", {"owner": f"{name}-{round_number}"}))
                for name, address in list(self.regions.items())[:2]]
            for w in writers:
                w.start()
            for w in writers:
                w.join()
            if round_number % 3 == 0:
                self.call(self.router, "PUT", f"/handle/h{round_number}", {"owner": "dash"})
            self.stop.wait(0.05)


def wait_until(what, predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # the page may be mid-refresh
            last = error
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


def panel_rows(driver):
    return {p: int(driver.find_element(By.ID, p).get_attribute("data-rows") or 0) for p in PANELS}


def main():
    endpoints_file, meridian, screenshot = sys.argv[1:4]
    with open(endpoints_file) as f:
        endpoints = json.load(f)
    load = Load(endpoints)
    load.start()

    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1500,1900"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        url = endpoints["dashboard"]
        driver.get(url)
        print(f"opened {url}", flush=True)
        source = wait_until("the page's first refresh", lambda: driver.find_element(
            By.ID, "source").text, 30)
        print(f"page reads from {source}", flush=True)
        rows = wait_until("every panel to show data", lambda: (
            lambda r: r if all(r.values()) else None)(panel_rows(driver)), 120)
        print(f"every panel shows data: {rows}", flush=True)
        if "Prometheus" not in source:
            raise AssertionError(f"the demo runs Prometheus, but the page says '{source}'")
        # Let the charts gather points before the picture (docs/dashboard.png used 90 s).
        time.sleep(float(os.environ.get("MERIDIAN_DASHBOARD_DWELL_S", "6")))
        driver.save_screenshot(screenshot)
        print(f"screenshot: {screenshot}", flush=True)

        # The endpoints file names the control API and carries the admin key chaos needs.
        kill = subprocess.run([meridian, "chaos", "--endpoints-file", endpoints_file, "kill", "eu"],
                              capture_output=True, text=True, timeout=60)
        if kill.returncode != 0:
            raise AssertionError(f"meridian chaos kill eu failed: {kill.stdout} {kill.stderr}")
        killed_at = time.monotonic()

        def eu_down():
            for row in driver.find_elements(By.CSS_SELECTOR, "#panel-health tbody tr"):
                cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
                if cells and cells[0] == "eu" and "down" in cells:
                    return cells
            return None

        cells = wait_until("eu to show as down after the kill", eu_down, 30)
        print(f"eu shown down {time.monotonic() - killed_at:.1f} s after the kill: {cells}",
              flush=True)
        print(f"load statuses: {load.statuses}", flush=True)
        print("all dashboard checks passed", flush=True)
        return 0
    except AssertionError as error:
        print(f"FAILED: {error}", flush=True)
        try:
            driver.save_screenshot(screenshot)
            print(f"screenshot of the failure: {screenshot}", flush=True)
        except Exception:
            pass
        return 1
    finally:
        load.stop.set()
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
