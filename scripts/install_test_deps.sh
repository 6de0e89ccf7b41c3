#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine with Node + npm:
# ffmpeg/ffprobe (real peer: camera, publisher, player) and Chromium (real browser for MSE/WebRTC/HLS
# tests) from Debian's packages when missing, then the npm dependencies (Deno and Bun come from npm).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "missing: ${missing[*]} — install them (sudo apt-get install -y ${missing[*]}) and run again" >&2
    exit 1
  fi
  echo "installing ${missing[*]} from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
