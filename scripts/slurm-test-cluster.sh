#!/usr/bin/env bash
# A throw-away single-node Slurm cluster (Debian's slurm-wlm 22.05) for tests and CI.
#
#   slurm-test-cluster.sh install      apt-get install slurm-wlm and munge (root; skipped when present)
#   slurm-test-cluster.sh start DIR    munged + slurmctld + slurmd as root, everything inside DIR;
#                                      prints the `export` lines the client commands need
#   slurm-test-cluster.sh stop DIR     cancels its jobs and stops its daemons; idempotent
#
# Nothing outside DIR is used: own slurm.conf (clients find it through SLURM_CONF), own munge key
# and socket (named in slurm.conf's AuthInfo, so sbatch/squeue/... reach this munged and not the
# system's), own plugstack.conf, free TCP ports. A real Slurm installation on the machine is not
# touched. The munge socket is usable by root only (munged runs with --force because a mktemp
# directory is not world-executable), which is fine: tests run as root.
#
# Accounting: 22.05 ships no file-based accounting storage (only accounting_storage/none and
# /slurmdbd), so plain `sacct` answers nothing. JobCompType=jobcomp/filetxt records every ended
# job, and `sacct --completion` reads that file (state, exit code, times). Finished jobs also stay
# visible to `squeue -t all` and `scontrol show job` for MinJobAge seconds.
#
# What a client sees (test/run/slurm-cluster.test.ts checks each case):
#   submit  sbatch --parsable --output=F --export=ALL,K=V --wrap 'CMD'   -> the job id
#   poll    squeue -h -t all -j ID -o %T      PENDING, RUNNING, COMPLETING, then the end state
#   end     scontrol show job -o ID           JobState=, ExitCode=code:signal, Reason=
#           exit 0 -> COMPLETED 0:0; exit 3 -> FAILED 3:0 (NonZeroExitCode); scancel -> CANCELLED;
#           over --time -> TIMEOUT (TimeLimit), 60-95 s after start for --time=1, the smallest
#           limit (slurmctld checks limits every 30 s). A signalled job's ExitCode is what its
#           shell made of SIGTERM (0:15 or 143:0, either; a trap's own code): trust the state.
#   later   sacct --completion -j ID -n -P -o JobID,State,ExitCode   same states and codes,
#           except CANCELLED and TIMEOUT, logged at the signal, which show 0:0
set -euo pipefail
# The daemons live in /usr/sbin, which a non-login root shell may not have on its PATH.
export PATH="$PATH:/usr/sbin:/usr/bin"

readonly SLURM_LIBDIR=/usr/lib/x86_64-linux-gnu/slurm-wlm
readonly START_TIMEOUT_SEC=60

die() {
  echo "slurm-test-cluster: $*" >&2
  exit 1
}

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd_install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "install needs root (apt-get install slurm-wlm munge)"
  apt-get update -qq
  # No recommends: they pull in mail and documentation packages a test cluster does not use.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

# Prints a TCP port that nothing listens on now. The window between this probe and the daemon's
# bind is short, and a lost race shows up as a bind error in the daemon's log.
free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# pid from a pid file, printed only while that process is alive and is the named program
# (a stale pid file must not make us signal an unrelated process that reused the number).
live_pid() {
  local file=$1 comm=$2 pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm")" = "$comm" ] && alive "$pid" || return 1
  echo "$pid"
}

log_tails() {
  local dir=$1 f
  for f in "$dir"/log/munged.log "$dir"/log/slurmctld.log "$dir"/log/slurmctld.stderr \
    "$dir"/log/slurmd.log "$dir"/log/slurmd.stderr; do
    [ -s "$f" ] || continue
    echo "---- tail of $f" >&2
    tail -n 25 "$f" >&2
  done
}

fail_start() {
  local dir=$1
  shift
  echo "slurm-test-cluster: $*" >&2
  log_tails "$dir"
  cmd_stop "$dir" >/dev/null 2>&1 || true
  exit 1
}

write_conf() {
  local dir=$1 node=$2 ctld_port=$3 d_port=$4 hw
  # slurmd -C reports this machine's CPUs, sockets, cores, threads and memory in slurm.conf syntax.
  hw=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-test-cluster.sh: single-node test cluster, everything under $dir
ClusterName=metallmix-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
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
PlugStackConfig=$dir/plugstack.conf
PluginDir=$SLURM_LIBDIR
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
# Schedule a submitted batch job at once (default: up to 3 s later).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
# Cores are the consumable; memory is checked against the node but not reserved, so jobs that
# do not ask for --mem still run side by side.
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
# Ended jobs stay in squeue -t all / scontrol show job for 10 minutes.
MinJobAge=600
# Short grace between SIGTERM and SIGKILL on cancel and time-out.
KillWait=5
InactiveLimit=0
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=$node MaxTime=00:10:00 State=UP
EOF
  : >"$dir/plugstack.conf"
}

cmd_start() {
  local dir=$1 node ctld_port d_port i state
  [ "$(id -u)" = 0 ] || die "start needs root (slurmd and munged run as root)"
  [ -d "$dir" ] || die "start: $dir is not a directory (create it first, e.g. with mktemp -d)"
  command -v slurmctld >/dev/null && command -v munged >/dev/null ||
    die "slurm-wlm and munge are not installed: run '$0 install'"
  dir=$(cd "$dir" && pwd -P)
  if live_pid "$dir/run/slurmctld.pid" slurmctld >/dev/null || live_pid "$dir/run/munged.pid" munged >/dev/null; then
    die "start: a cluster is already running in $dir (run '$0 stop $dir' first)"
  fi
  mkdir -p "$dir"/{munge,state,spool,log,run}
  chmod 700 "$dir/munge"

  mungekey --create --force --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
    fail_start "$dir" "mungekey could not create $dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
  munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --log-file="$dir/log/munged.log" --pid-file="$dir/run/munged.pid" \
    --seed-file="$dir/munge/munged.seed" >>"$dir/log/munged.log" 2>&1 ||
    fail_start "$dir" "munged did not start"
  munge -S "$dir/munge/munge.socket" -n | unmunge -S "$dir/munge/munge.socket" >/dev/null 2>&1 ||
    fail_start "$dir" "munge credential round trip through $dir/munge/munge.socket failed"

  node=$(hostname -s)
  ctld_port=$(free_port)
  d_port=$(free_port)
  while [ "$d_port" = "$ctld_port" ]; do d_port=$(free_port); done
  write_conf "$dir" "$node" "$ctld_port" "$d_port"
  export SLURM_CONF=$dir/slurm.conf

  # -c: cold start (no saved state is expected in a fresh directory, and none is wanted).
  slurmctld -c >>"$dir/log/slurmctld.stderr" 2>&1 || fail_start "$dir" "slurmctld did not start"
  slurmd -N "$node" >>"$dir/log/slurmd.stderr" 2>&1 || fail_start "$dir" "slurmd did not start"

  for i in $(seq 1 $((START_TIMEOUT_SEC * 5))); do
    state=$(sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n 1 || true)
    [ "$state" = idle ] && break
    live_pid "$dir/run/slurmctld.pid" slurmctld >/dev/null || fail_start "$dir" "slurmctld exited"
    live_pid "$dir/run/slurmd.pid" slurmd >/dev/null || fail_start "$dir" "slurmd exited"
    sleep 0.2
  done
  [ "$state" = idle ] || fail_start "$dir" "node $node not idle after ${START_TIMEOUT_SEC}s (sinfo says '${state:-nothing}')"

  echo "export SLURM_CONF=$dir/slurm.conf"
  echo "# munge socket (slurm.conf AuthInfo; for munge/unmunge pass -S): $dir/munge/munge.socket"
}

# True while the process exists and is not a zombie (daemons are reparented to init, which may
# reap them late).
alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# Processes left behind by this cluster's jobs: slurmstepd (it outlives slurmd by design; found by
# the slurmd log file it keeps open inside DIR) and batch scripts that run from DIR/spool.
leftover_pids() {
  local dir=$1 p fd
  for p in /proc/[0-9]*; do
    case "$(cat "$p/comm" 2>/dev/null)" in
    slurmstepd)
      for fd in "$p"/fd/*; do
        case "$(readlink "$fd" 2>/dev/null)" in
        "$dir"/*)
          echo "${p#/proc/}"
          break
          ;;
        esac
      done
      ;;
    *)
      case "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in
      *" $dir/spool/job"*) echo "${p#/proc/}" ;;
      esac
      ;;
    esac
  done
}

# The process and all its descendants, children first.
process_tree() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do process_tree "$child"; done
  echo "$1"
}

cmd_stop() {
  local dir=$1 pid jobs daemons i
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd -P)
  if [ -f "$dir/slurm.conf" ] && live_pid "$dir/run/slurmctld.pid" slurmctld >/dev/null; then
    export SLURM_CONF=$dir/slurm.conf
    # Cancel every job first: a job's processes belong to slurmstepd, which outlives slurmd.
    jobs=$(squeue -h -o %i 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086 # one job id per word
      scancel $jobs 2>/dev/null || true
      for i in $(seq 1 $((10 * 5))); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  daemons="$(live_pid "$dir/run/slurmd.pid" slurmd || true) $(live_pid "$dir/run/slurmctld.pid" slurmctld || true)"
  for pid in $daemons; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $(leftover_pids "$dir"); do
    for pid in $(process_tree "$pid"); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  # munged last: slurmd and slurmctld talk to it while they shut down.
  wait_gone $daemons
  pid=$(live_pid "$dir/run/munged.pid" munged || true)
  [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
  wait_gone $pid
}

# Waits up to 10 s for the processes to exit, then kills the rest.
wait_gone() {
  local pid i
  for pid in "$@"; do
    for i in $(seq 1 50); do
      alive "$pid" || break
      sleep 0.2
    done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  done
}

[ $# -ge 1 ] || usage
case "$1" in
install)
  [ $# -eq 1 ] || usage
  cmd_install
  ;;
start)
  [ $# -eq 2 ] || usage
  cmd_start "$2"
  ;;
stop)
  [ $# -eq 2 ] || usage
  cmd_stop "$2"
  ;;
*) usage ;;
esac
