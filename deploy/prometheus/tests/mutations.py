#!/usr/bin/env python3
"""Checks that the alert tests check: each mutation below loosens or breaks one alert's
threshold, selector or `for`, and `promtool test rules` must then FAIL. A mutation whose text is
no longer in alerts.yml fails too, so this list moves with the rules.
Usage: mutations.py PROMTOOL RULES_DIR"""
import os
import shutil
import subprocess
import sys
import tempfile

MUTATIONS = [
    ('up{job="meridian_region"} == 0', 'up{job="meridian_region"} >= 0'),
    ('up{job="meridian_router"} == 0', 'up{job="meridian_router"} >= 0'),
    ('(meridian:link_one_way_delay_seconds + 0.1)', '(meridian:link_one_way_delay_seconds + 0.01)'),
    ('meridian_replication_backlog_ops > 1000', 'meridian_replication_backlog_ops > 0'),
    ('[5m]) > 0\n', '[5m]) >= 0\n'),
    ('meridian_peer_connected == 0', 'meridian_peer_connected <= 1'),
    ('abs(meridian_clock_offset_seconds) > 0.5', 'abs(meridian_clock_offset_seconds) > 0.04'),
    ('{outcome!="crdt_merge"}', ''),
    ('          > 1\n', '          > 0.1\n'),
    ('        for: 10m', '        for: 2m'),
    ('{status="failed"} == 1', '{status="failed"} >= 0'),
    ('code="503"}[1m])) > 0', 'code="503"}[1m])) >= 0'),
    (', code="503"', ''),
    ('[1m]) > 0.2', '[1m]) > 0.05'),
    ('up{job="meridian_wan"} == 0', 'up{job="meridian_wan"} >= 0'),
    ('meridian_wan_link_enabled == 0', 'meridian_wan_link_enabled <= 1'),
    ('[5m])) > 0\n', '[5m])) >= 0\n'),
    ('rate(meridian_wan_bytes_dropped_total[5m])', 'increase(meridian_wan_bytes_dropped_total[1h])'),
    ('        for: 2m\n', '        for: 0s\n'),
]


def main():
    promtool, rules = sys.argv[1], sys.argv[2]
    source = open(os.path.join(rules, 'alerts.yml')).read()
    work = tempfile.mkdtemp()
    failures = 0
    try:
        os.mkdir(os.path.join(work, 'tests'))
        shutil.copy(os.path.join(rules, 'tests', 'alerts_test.yml'), os.path.join(work, 'tests'))
        for old, new in MUTATIONS:
            if source.count(old) != 1:
                print(f'mutation target {old!r} is not in alerts.yml exactly once')
                failures += 1
                continue
            with open(os.path.join(work, 'alerts.yml'), 'w') as out:
                out.write(source.replace(old, new))
            run = subprocess.run([promtool, 'test', 'rules',
                                  os.path.join(work, 'tests', 'alerts_test.yml')],
                                 capture_output=True, text=True)
            caught = run.returncode != 0
            print(f'{"caught" if caught else "MISSED"}: {old!r} -> {new!r}')
            failures += 0 if caught else 1
    finally:
        shutil.rmtree(work)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
