#!/usr/bin/env bash
# Installs the system libraries clipwb builds and tests against (Debian 12). Idempotent:
# apt-get runs only when something is missing.
set -euo pipefail
pkgs=(libhdf5-dev libjpeg62-turbo-dev libpng-dev libgif-dev libwebp-dev libtiff-dev libblas-dev libopenblas-dev libsqlite3-dev
      libhnswlib-dev pkg-config python3-venv chromium wrk librsvg2-bin)
[ "${1:-}" = "--demo" ] && pkgs=(libhdf5-dev libjpeg62-turbo-dev libpng-dev libgif-dev libwebp-dev libtiff-dev libblas-dev libopenblas-dev
      libsqlite3-dev libhnswlib-dev pkg-config python3-venv librsvg2-bin)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
