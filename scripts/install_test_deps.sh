#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine with Node + npm:
# ffmpeg/ffprobe (real peer: camera, publisher, player) and Chromium (real browser for MSE/WebRTC/HLS
# tests) from Debian's packages when missing, then the npm dependencies (Deno and Bun come from npm).
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests launch $CHROMIUM_PATH, else /usr/bin/chromium (tests/_support/browser.ts):
# check that same file, not whatever `chromium` is first on PATH.
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
# `ip` (iproute2): tests that need a LAN client run the server in a network namespace they create.
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
# openssl makes the throwaway certificates of the HTTPS/RTSPS tests.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# nginx with its RTMP module: the other RTMP server peer (tests/rtmp/nginx_test.ts, RTMP benchmark).
if ! command -v nginx >/dev/null 2>&1 || [ ! -f /usr/lib/nginx/modules/ngx_rtmp_module.so ]; then
  missing+=(nginx-light libnginx-mod-rtmp)
fi
# nats-server (JetStream): the cluster tests start it on a free loopback port (tests/cluster/).
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ ! -x "$chromium_path" ]; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file: point it at Chromium or unset it" >&2
    exit 1
  fi
  missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" != "0" ]; then
    echo "missing: ${missing[*]} — install them (sudo apt-get install -y ${missing[*]}) and run again" >&2
    exit 1
  fi
  echo "installing ${missing[*]} from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
