#!/usr/bin/env bash
# scripts/slurm/stop-local-slurm.sh - KdGat test cluster: stop only the daemons that start-local-slurm.sh started
# (listed in $BASE/run/started.list as "name pidfile"), newest first.
set -uo pipefail
BASE=${SLURM_LOCAL_BASE:-/tmp/kdgat-slurm/cluster}
STARTED=$BASE/run/started.list
[ "$(id -u)" -eq 0 ] || { echo "stop-local-slurm: must run as root" >&2; exit 1; }
[ -s "$STARTED" ] || { echo "stop-local-slurm: nothing recorded in $STARTED; nothing to stop"; exit 0; }
declare -A COMM=([munged]=munged [mariadb]=mariadbd [slurmdbd]=slurmdbd [slurmctld]=slurmctld [slurmd]=slurmd)
rc=0
# stop order: compute daemon first, then controller, dbd, database, munge
for name in slurmd slurmctld slurmdbd mariadb munged; do
  pidfile=$(awk -v n="$name" '$1==n{print $2}' "$STARTED" | tail -1)
  [ -n "$pidfile" ] || continue
  if [ ! -s "$pidfile" ]; then echo "stop-local-slurm: $name: no pid file ($pidfile), assuming stopped"; continue; fi
  pid=$(cat "$pidfile")
  if ! kill -0 "$pid" 2>/dev/null; then echo "stop-local-slurm: $name (pid $pid) not running"; continue; fi
  comm=$(cat /proc/"$pid"/comm 2>/dev/null)
  if [ "$comm" != "${COMM[$name]}" ]; then
    echo "stop-local-slurm: $name: pid $pid is '$comm', not ${COMM[$name]}; leaving it alone" >&2; rc=1; continue
  fi
  t0=$(date +%s.%N); kill -TERM "$pid"
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "stop-local-slurm: $name (pid $pid) ignored SIGTERM for 30 s, sending SIGKILL"; kill -KILL "$pid"; fi
  echo "stop-local-slurm: stopped $name (pid $pid) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
done
[ $rc -eq 0 ] && rm -f "$STARTED"
exit $rc
