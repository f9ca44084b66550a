#!/usr/bin/env bash
# CI: docs/slurm-array.sh on a real, single-node Slurm cluster started for the occasion.
#
# Installs Debian's slurm-wlm and munge when they are missing, starts munged, slurmctld and slurmd
# from a temporary folder (no systemd: the daemons run in the foreground, in the background of
# this script), submits the job script as an array with `sbatch --wait`, merges the shard folders
# and checks that the merge is byte for byte what the same script writes outside Slurm. Everything
# it starts is stopped and its folder removed on any exit, failure included.
#
# The production job (48 settings × 500 replications × 16 shards) is far too big for CI; these
# shrink it without changing its command line — the whole grid, fewer replications and shards:
#   FLEETSIM_BIN           [target/release/fleetsim]
#   FLEETSIM_REPLICATIONS  [4]
#   FLEETSIM_SHARDS        [4]
#   FLEETSIM_SLURM_TIMEOUT seconds the array may take [300]
# Needs root (it installs packages and runs the daemons as SlurmUser=root).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bin=$(realpath "${FLEETSIM_BIN:-target/release/fleetsim}")
replications=${FLEETSIM_REPLICATIONS:-4}
shards=${FLEETSIM_SHARDS:-4}
array_timeout=${FLEETSIM_SLURM_TIMEOUT:-300}
[ -x "$bin" ] || { echo "slurm.sh: no fleetsim binary at $bin (cargo build --release)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "slurm.sh: needs root (apt-get, SlurmUser=root)" >&2; exit 2; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v munged >/dev/null && command -v mungekey >/dev/null && return 0
  echo "== installing slurm-wlm and munge"
  # Debian's maintainer scripts start the services they install; nothing here may be left
  # running, so a policy-rc.d that forbids it is in place during the install unless one is.
  local policy=/usr/sbin/policy-rc.d added=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
  fi
  local rc=0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends slurm-wlm munge >/dev/null || rc=$?
  [ -z "$added" ] || rm -f "$policy"
  [ "$rc" = 0 ] || { echo "slurm.sh: cannot install slurm-wlm and munge (exit $rc)" >&2; exit 2; }
}
install_packages

tmp=$(mktemp -d /tmp/fleetsim-slurm.XXXXXX)
daemons=() # munged, slurmctld, slurmd: stopped in the reverse order
waiter=""  # sbatch --wait
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$waiter" ] || kill "$waiter" 2>/dev/null || true
  # Jobs first, while slurmctld and munged can still cancel them, so that no slurmstepd
  # outlives its slurmd.
  if [ ${#daemons[@]} -eq 3 ]; then
    timeout 10 scancel --quiet --full -u root 2>/dev/null || true
    for _ in $(seq 20); do
      [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  local i p
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
    p=${daemons[i]}
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  # A step daemon that survived anyway is known by its socket in this cluster's spool folder.
  for p in $(ss -Hxlp 2>/dev/null | awk -v dir="$tmp/spool/" 'index($5, dir) == 1' \
             | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    kill -9 "$p" 2>/dev/null || true
  done
  if [ "$rc" != 0 ]; then
    echo "slurm.sh: failed (exit $rc); the daemons' logs:" >&2
    tail -n 20 "$tmp"/*.log "$tmp"/*.stderr "$tmp"/out/*.out >&2 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports of their own, so that a Slurm elsewhere on the machine is not disturbed.
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 100))); do
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
  echo "slurm.sh: no free port from $1" >&2
  return 1
}
ctld_port=$(free_port 16817)
slurmd_port=$(free_port $((ctld_port + 1)))

echo "== [$SECONDS s] munged"
# munged wants its socket's folder open to every user (clients connect to it) and its key's
# folder closed to all but itself.
chmod 755 "$tmp"
mkdir -p "$tmp/munge" "$tmp/key" "$tmp/state" "$tmp/spool" "$tmp/out"
chmod 755 "$tmp/munge"
chmod 700 "$tmp/key"
mungekey --create --keyfile="$tmp/key/munge.key"
socket=$tmp/munge/munge.socket
setsid munged --foreground --socket="$socket" --key-file="$tmp/key/munge.key" \
  --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" \
  --log-file="$tmp/munged.log" 2>>"$tmp/munged.log" &
daemons+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "slurm.sh: munged did not start" >&2; exit 1; }

node=$(hostname -s)
cpus=$(nproc)
# Slurm drains a node that reports less memory than slurm.conf says: a little below the total.
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
cat >"$tmp/slurm.conf" <<EOF
ClusterName=fleetsim-ci
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
# sbatch --wait sleeps 2 s, then 4 times longer while that is under MinJobAge / 2 and 32 s: at the
# default MinJobAge (300 s) it looks at 2, 10 and 42 s. At 4 s it looks every 2 s, still well
# before a finished job is forgotten.
MinJobAge=4
MpiDefault=none
MailProg=/bin/true
NodeName=$node CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf

echo "== [$SECONDS s] slurmctld and slurmd (node $node, $cpus CPUs, ${mem_mb} MB)"
# Each daemon in a session of its own: a Ctrl-C or a CI runner's signal to this script's process
# group must not stop slurmd before the cleanup has cancelled its jobs.
setsid slurmctld -D -i >"$tmp/slurmctld.stderr" 2>&1 &
daemons+=($!)
setsid slurmd -D >"$tmp/slurmd.stderr" 2>&1 &
daemons+=($!)

state=""
for _ in $(seq 60); do
  state=$(timeout 5 sinfo -h -N -n "$node" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || { echo "slurm.sh: node $node is '${state:-unknown}', not idle" >&2; exit 1; }

echo "== [$SECONDS s] sbatch --wait --array=1-$shards docs/slurm-array.sh ($replications replications)"
results=$tmp/results
# The command line overrides the script's #SBATCH directives: as many tasks as shards, and
# what one CI core and a little memory can give.
# In the background and waited for, so that a signal runs the cleanup at once (bash runs a trap
# only when the foreground command is done).
timeout "$array_timeout" sbatch --wait --quiet \
  --array="1-$shards" --cpus-per-task=1 --mem=512M --time=00:10:00 \
  --chdir="$repo" --output="$tmp/out/%A_%a.out" \
  --export="ALL,FLEETSIM_BIN=$bin,FLEETSIM_REPLICATIONS=$replications,FLEETSIM_SHARDS=$shards,FLEETSIM_OUT=$results/shards" \
  docs/slurm-array.sh &
waiter=$!
wait "$waiter"
waiter=""

echo "== [$SECONDS s] fleetsim merge, and the same script outside Slurm"
"$bin" merge "$results"/shards/* --out "$results/merged" --quiet
FLEETSIM_BIN=$bin FLEETSIM_REPLICATIONS=$replications FLEETSIM_MERGED_OUT=$results/unsharded \
  bash docs/slurm-array.sh
# perf.json (how long this machine took) and .fleetsim (the command that wrote the folder) are
# the two files that legitimately differ.
if ! diff -r -x perf.json -x .fleetsim "$results/unsharded" "$results/merged" >"$tmp/diff.txt"; then
  echo "slurm.sh: the merged shards differ from the unsharded run:" >&2
  head -n 40 "$tmp/diff.txt" >&2
  exit 1
fi
echo "slurm: $shards shards merged = the unsharded run ($(find "$results/merged" -type f | wc -l) files)"
