#!/usr/bin/env bash
# Installs Debian's `chromium` with apt-get when it is missing, for the status page's browser test
# (test/e2e/page.test.ts, driven by playwright-core). Idempotent: does nothing when the browser is
# there. Needs apt-get and root (or password-less sudo); anywhere else, install a Chromium yourself
# and point CHROMIUM_PATH at it. Measured here (Debian 12, 2 cores): 15 s with the package lists
# already there (113 MB downloaded, 416 MB on disk, 26 packages).
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  echo "ensure-chromium: $browser is installed ($("$browser" --version 2>/dev/null || echo "version unknown"))"
  exit 0
fi
if [ "$browser" != /usr/bin/chromium ]; then
  echo "ensure-chromium: CHROMIUM_PATH=$browser does not exist; not installing anything" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get here; install Chromium and set CHROMIUM_PATH to run the browser test" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "ensure-chromium: not root and no password-less sudo; run: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# No recommends: they pull a desktop (notification daemon, upower, printing); fonts-liberation is
# the one that matters for a headless screenshot (metric-compatible Arial/Times/Courier).
packages=(chromium fonts-liberation)
started=$(date +%s)
echo "ensure-chromium: $browser missing; installing ${packages[*]} with apt-get"
install() { "${sudo[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"; }
# A fresh image may have no package lists, or stale ones whose files are gone: update, then retry.
if ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || ! install; then
  echo "ensure-chromium: apt-get update, then install again"
  "${sudo[@]}" apt-get update -q
  install
fi
echo "ensure-chromium: installed $("$browser" --version 2>/dev/null || echo chromium) in $(($(date +%s) - started)) s"
