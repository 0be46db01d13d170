#!/usr/bin/env bash
# Debian's Chromium and CJK fonts for the browser tests (Playwright cannot download a
# browser here; the tests drive /usr/bin/chromium).
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "==> installing chromium and fonts (apt)"
$SUDO apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji
