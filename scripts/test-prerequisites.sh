#!/usr/bin/env bash
# The Debian packages the tests drive for real, installed when they are missing: `npm test` runs this before
# vitest, and CI (.ci/run) runs it too. It asks dpkg first, so on a machine that has them all it costs nothing
# and never runs apt. When some are missing it installs them as root (or with passwordless sudo); when it
# cannot, it prints the exact command to run and exits 1, before any test runs.
#
#   python3 python3-statsd      the Python StatsD client of the README's example (test/e2e)
#   collectd-core libyajl2 libcurl4
#                               collectd with its write_http plugin (JSON needs libyajl2, HTTP libcurl4)
#   chromium fonts-dejavu-core  the headless browser of the dashboard tests, and a font for its screenshots
#   prometheus prometheus-alertmanager
#                               the Prometheus server and Alertmanager the tests drive
set -euo pipefail

packages=(python3 python3-statsd collectd-core libyajl2 libcurl4 chromium fonts-dejavu-core prometheus
  prometheus-alertmanager)

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "The tests drive Debian packages (${packages[*]}); this machine has no dpkg." >&2
  echo "Run them on Debian, or install the same programs with your system's package manager." >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

install="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "The tests need Debian packages that are missing: ${missing[*]}. Install them as root:" >&2
  echo "  sudo apt-get update && sudo $install" >&2
  exit 1
fi

echo "Installing the Debian packages the tests drive: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"; } >&2; then
  echo "Installing them failed. The command was: apt-get update && $install" >&2
  exit 1
fi
