#!/usr/bin/env bash
# Install Debian's chromium (the browser the dashboard's end-to-end tests drive through Playwright) when
# /usr/bin/chromium is absent. Playwright's own browser builds are never downloaded.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_chromium: /usr/bin/chromium is missing; as root: apt-get install -y chromium" >&2
    exit 1
fi
echo "install_chromium: installing Debian's chromium" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
test -x /usr/bin/chromium
