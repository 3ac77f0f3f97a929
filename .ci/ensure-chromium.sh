#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser tests (tests/browser): installs the `chromium`
# package when it is missing and this is root with apt-get. Without them it says so and the browser
# tests skip, except in CI (CI=true), where they are required.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing chromium (apt-get install chromium)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
  exit 0
fi
echo "ensure-chromium: Chromium unavailable (needs root and apt-get); browser tests will skip" >&2
if [ "${CI:-}" = "true" ]; then echo "ensure-chromium: CI requires Chromium" >&2; exit 1; fi
