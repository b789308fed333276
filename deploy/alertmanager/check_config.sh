#!/usr/bin/env bash
# CTest alertmanager_config: `amtool check-config` on the committed alertmanager.yml. Skipped
# (exit 77) with a message only when amtool is missing (Debian package prometheus-alertmanager;
# scripts/build installs it). The demo's generated config is checked by Alertmanager itself in
# prometheus_demo_test (the demo does not start when it refuses its config).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
amtool=$(command -v amtool || true)
if [[ -z "$amtool" ]]; then
  echo "SKIPPED: amtool not found (Debian package prometheus-alertmanager; scripts/build installs it)"
  exit 77
fi
"$amtool" check-config "$dir/alertmanager.yml"
