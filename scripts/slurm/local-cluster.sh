#!/usr/bin/env bash
# A single-node Slurm cluster from Debian packages, for the job-array test and CI.
#
#   bash scripts/slurm/local-cluster.sh install|start|stop
#
# Runs as root, without systemd or cgroups (proctrack/linuxproc, task/none). `start`
# records the PIDs of the daemons it starts; `stop` stops only those. Every wait is bounded.
set -euo pipefail
STATE=/run/loyalsim-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by loyalsim scripts/slurm/local-cluster.sh"
say() { printf '[slurm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v munged >/dev/null; then return; fi
  say "installing slurm and munge"
  export DEBIAN_FRONTEND=noninteractive
  local blocked=0
  # Keep package scripts from starting services (there is no init system here).
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; blocked=1; fi
  timeout 300 apt-get update -qq
  timeout 600 apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
  if [ "$blocked" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}

ours() { [ -s "$STATE/$1.pid" ] && [ -r "/proc/$(cat "$STATE/$1.pid")/comm" ] && [ "$(cat "/proc/$(cat "$STATE/$1.pid")/comm")" = "$1" ]; }

pid_of() { # pidfile: wait for a daemon's own pidfile (bounded)
  for _ in $(seq 50); do
    if [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; then cat "$1"; return 0; fi
    sleep 0.2
  done
  return 1
}

start() {
  mkdir -p "$STATE" /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then die "$CONF was not written by this script; not touching it"; fi
  local hw
  hw=$(slurmd -C | head -n1 | sed -E 's/^NodeName=[^ ]+/NodeName=localhost NodeAddr=127.0.0.1/')
  cat > "$CONF" <<CONF
$MARK
ClusterName=loyalsim
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
DependencyParameters=kill_invalid_depend
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$hw State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if ! ours munged; then
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
      say "using a munged that was already running"
    else
      [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
      install -d -o munge -g munge -m 0755 /run/munge
      rm -f /run/munge/munged.pid
      runuser -u munge -- /usr/sbin/munged
      pid_of /run/munge/munged.pid > "$STATE/munged.pid" || die "munged did not start"
    fi
  fi
  if ! ours slurmctld; then
    rm -f /run/slurmctld.pid
    slurmctld -c
    pid_of /run/slurmctld.pid > "$STATE/slurmctld.pid" || die "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
  fi
  if ! ours slurmd; then
    rm -f /run/slurmd.pid
    slurmd -N localhost
    pid_of /run/slurmd.pid > "$STATE/slurmd.pid" || die "slurmd did not start (see /var/log/slurm/slurmd.log)"
  fi
  local state=""
  for _ in $(seq 120); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    case "$state" in idle|mixed|allocated) say "node is $state"; return 0;; esac
    sleep 0.5
  done
  die "node not ready after 60 s (state '$state')"
}

stop() {
  for d in slurmd slurmctld munged; do
    if ours "$d"; then
      local pid; pid=$(cat "$STATE/$d.pid")
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
      say "stopped $d ($pid)"
    fi
    rm -f "$STATE/$d.pid"
  done
}

[ "$(id -u)" = 0 ] || die "run as root"
case "${1:-}" in
  install) install_packages ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
