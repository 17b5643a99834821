#!/usr/bin/env bash
# Installs Slurm (slurmctld, slurmd, the client commands) and munge from Debian 12 when they are missing, for
# `make test-slurm`. Idempotent: apt-get runs (update first) only when something is missing. No daemon is
# started: a policy-rc.d that refuses service starts is in place during the install (Debian's packages would
# otherwise start munge/slurmctld/slurmd as system services); the test starts its own, in a temporary folder.
set -euo pipefail
pkgs=(slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, scripts/slurm/install.sh: no service starts during the install\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  made_policy=1
fi
cleanup() { [ "$made_policy" = 1 ] && $SUDO rm -f "$policy"; true; }
trap cleanup EXIT
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
