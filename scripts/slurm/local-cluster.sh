#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on loopback, for `make test-slurm` and for trying the sbatch scripts:
#
#   scripts/slurm/local-cluster.sh start DIR   # writes DIR/slurm.conf, starts munged, slurmctld, slurmd; waits for idle
#   export SLURM_CONF=DIR/slurm.conf           # then sbatch, squeue, sinfo, scontrol talk to it
#   scripts/slurm/local-cluster.sh stop DIR    # cancels its jobs, stops the three daemons (by their pid files)
#
# Everything lives in DIR: configuration, munge key and socket, state, spool, logs, pid files. The daemons run as
# root (SlurmUser=root) with ports picked free on 127.0.0.1, never Slurm's defaults (6817/6818), talk only over
# 127.0.0.1, and no system service is touched: /etc/munge and /etc/slurm are not read. No cgroups
# (proctrack/linuxproc, task/none), so it runs in a container. One node, `localhost` (127.0.0.1), with this
# machine's CPUs and memory as `slurmd -C` reports them; partition `debug`. Debian 12's Slurm 22.05
# (scripts/slurm/install.sh installs it).
# `start` fails (exit 1, with the daemons' logs) if the node is not idle within START_TIMEOUT seconds (30).
set -euo pipefail

cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then echo "usage: $0 start|stop|logs DIR" >&2; exit 2; fi

logs() {
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] || continue
    echo "----- $f (last 40 lines)" >&2
    tail -n 40 "$f" >&2
  done
}

stop() {
  # TERM to all three at once (munged alone takes ~2 s to exit), then up to 10 s each before SIGKILL. Only the
  # processes named in this cluster's pid files, and only while they still are slurmd/slurmctld/munged.
  local name pidfile pid pids=()
  # Jobs still running (a test that failed half-way) are cancelled first: their steps outlive slurmd otherwise.
  if [ -f "$dir/run/slurmctld.pid" ] && [ -n "$(SLURM_CONF="$dir/slurm.conf" squeue -h 2>/dev/null)" ]; then
    SLURM_CONF="$dir/slurm.conf" scancel --quiet --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for name in slurmd slurmctld munged; do
    pidfile="$dir/run/$name.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && grep -qx "$name" "/proc/$pid/comm" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    fi
    rm -f "$pidfile"
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
  # Job steps still left (slurmstepd and the job it runs), only those of this cluster: slurmd gave them its
  # environment, SLURM_CONF included.
  local p
  for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if grep -qz "^SLURM_CONF=$dir/slurm.conf\$" "/proc/$p/environ" 2>/dev/null; then
      kill -KILL $(descendants "$p") "$p" 2>/dev/null || true
    fi
  done
}

descendants() {
  local c
  for c in $(pgrep -P "$1" 2>/dev/null || true); do echo "$c"; descendants "$c"; done
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null || {
    echo "error: slurmctld, slurmd or munged not found: run scripts/slurm/install.sh (make test-slurm does)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir"/{munge,state,spool,log,run}
  chmod 700 "$dir/munge"
  # munge: its own key, socket, pid and seed files; munged checks that none of them is group/world writable.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/run/munged.pid" \
         --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" --force \
    || { echo "error: munged did not start" >&2; logs; exit 1; }

  local ctld_port slurmd_port cpus mem
  ctld_port=$(free_port); slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  # slurmd -C: what slurmd will find; the node is drained if its line claims more.
  cpus=$(slurmd -C | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' | head -1)
  mem=$(slurmd -C | sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' | head -1)
  cat > "$dir/slurm.conf" <<EOF
# Written by scripts/slurm/local-cluster.sh: a single-node cluster on loopback, everything under $dir.
ClusterName=clipwb-local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# slurmd binds 127.0.0.1 only (slurmctld still listens on every address of its port; everyone reaches it on 127.0.0.1)
CommunicationParameters=NoInAddrAny
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobRequeue=1
ReturnToService=2
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  export SLURM_CONF="$dir/slurm.conf"
  # -i: start without saved state (the folder is new: there is none).
  slurmctld -f "$SLURM_CONF" -i || { echo "error: slurmctld did not start" >&2; logs; exit 1; }
  slurmd -f "$SLURM_CONF" -N localhost || { echo "error: slurmd did not start" >&2; logs; exit 1; }

  local timeout=${START_TIMEOUT:-30} state=""
  for _ in $(seq $((timeout * 5))); do
    state=$(sinfo -h -N -n localhost -o %t 2>/dev/null || true)
    [ "$state" = "idle" ] && { echo "slurm: node localhost idle (ctld 127.0.0.1:$ctld_port, slurmd :$slurmd_port, $cpus CPUs, SLURM_CONF=$SLURM_CONF)"; return 0; }
    sleep 0.2
  done
  echo "error: the Slurm node did not become idle within ${timeout}s (sinfo says '${state:-nothing}'); logs:" >&2
  sinfo -N -l >&2 || true
  logs
  stop
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) [ -d "$dir" ] && { dir=$(cd "$dir" && pwd); stop; }; true ;;
  logs) logs ;;
  *) echo "usage: $0 start|stop|logs DIR" >&2; exit 2 ;;
esac
