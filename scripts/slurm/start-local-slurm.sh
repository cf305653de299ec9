#!/usr/bin/env bash
# scripts/slurm/start-local-slurm.sh - KdGat test cluster: install (if needed) and start a single-node Slurm cluster
# (munged, MariaDB + slurmdbd for sacct, slurmctld, slurmd) on Debian 12, as root.
# Idempotent: daemons that already answer are left alone. Only daemons started by this
# script are recorded in $BASE/run/started.list, which stop-local-slurm.sh uses.
#
# Environment knobs:
#   SLURM_LOCAL_BASE        state/log/pid dir            (default /tmp/kdgat-slurm/cluster)
#   SLURM_LOCAL_ACCOUNTING  dbd | none                   (default dbd: MariaDB + slurmdbd -> sacct works)
#   SLURM_LOCAL_PROCTRACK   auto | cgroup | linuxproc    (default auto: try cgroup, fall back to linuxproc)
#   SLURM_LOCAL_PARTITION   partition name               (default cpu)
#   SLURM_LOCAL_CLEAN=1     wipe slurmctld state AND the accounting DB (job ids restart at 1) before starting
#   SLURM_LOCAL_GPUS        stand-in 'gpu' GRES on the node (default 2; 0 = none), plain files as devices:
#                           jobs asking --gpus=N are scheduled and accounted (AllocTRES gres/gpu=N),
#                           nothing is bound, so a config with 'gpus: 1' runs unchanged here.
#   SLURM_LOCAL_GPU_TYPE    give the stand-in GPUs a type, as a real cluster names its models (e.g. a100;
#                           default: untyped): then both --gpus=N and --gpus=a100:N are scheduled, and
#                           another type is refused. Not the default: slurmctld 22.05 leaked typed GPUs
#                           across its own restart (AllocTRES gres/gpu=2 with no job; later GPU jobs
#                           pended for Resources), which the controller-restart test does.
set -euo pipefail

BASE=${SLURM_LOCAL_BASE:-/tmp/kdgat-slurm/cluster}
ACCOUNTING=${SLURM_LOCAL_ACCOUNTING:-dbd}
PROCTRACK=${SLURM_LOCAL_PROCTRACK:-auto}
PARTITION=${SLURM_LOCAL_PARTITION:-cpu}
GPUS=${SLURM_LOCAL_GPUS:-2}
GPU_TYPE=${SLURM_LOCAL_GPU_TYPE:-}
ETC=/etc/slurm
RUN=$BASE/run
LOG=$BASE/log
STARTED=$RUN/started.list
DBPASS=slurmlocalpw
T_START=$(date +%s.%N)

die()  { echo "start-local-slurm: ERROR: $*" >&2; exit 1; }
trap 'echo "start-local-slurm: ERROR: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR
info() { echo "start-local-slurm: [+$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s] $*"; }
alive() { # $1 = pid file; true if the pid in it is alive and is a slurm*/munged/mariadbd process
  [ -s "$1" ] || return 1; local p; p=$(cat "$1"); kill -0 "$p" 2>/dev/null || return 1
  grep -qE '^(slurmctld|slurmd|slurmdbd|munged|mariadbd)$' "/proc/$p/comm" 2>/dev/null; }
record() { grep -qs "^$1 " "$STARTED" || echo "$1 $2" >> "$STARTED"; }  # name pidfile
wait_for() { # timeout_s description command...
  local t=$1 what=$2; shift 2; local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.2
  done
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
case "$ACCOUNTING" in dbd|none) ;; *) die "SLURM_LOCAL_ACCOUNTING must be dbd or none, not '$ACCOUNTING'";; esac
case "$PROCTRACK" in auto|cgroup|linuxproc) ;; *) die "SLURM_LOCAL_PROCTRACK must be auto, cgroup or linuxproc, not '$PROCTRACK'";; esac
case "$GPUS" in ''|*[!0-9]*) die "SLURM_LOCAL_GPUS must be a whole number, not '$GPUS'";; esac
case "$GPU_TYPE" in *[!A-Za-z0-9_.-]*) die "SLURM_LOCAL_GPU_TYPE must be a name like a100, not '$GPU_TYPE'";; esac
command -v apt-get >/dev/null || die "apt-get not found (Debian 12 expected)"

# ---------------------------------------------------------------- packages
PKGS=(munge slurmctld slurmd slurm-client)
need=0
for b in munged slurmctld slurmd sbatch sacct; do command -v $b >/dev/null || need=1; done
if [ "$ACCOUNTING" = dbd ]; then
  PKGS+=(slurmdbd mariadb-server)
  for b in slurmdbd mariadbd mariadb-admin; do command -v $b >/dev/null || need=1; done
fi
if [ $need = 1 ]; then
  info "installing ${PKGS[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${PKGS[@]}" >"/tmp/start-local-slurm-apt.log" 2>&1 || {
    apt-get update >>"/tmp/start-local-slurm-apt.log" 2>&1
    apt-get install -y --no-install-recommends "${PKGS[@]}" >>"/tmp/start-local-slurm-apt.log" 2>&1 \
      || die "apt-get install failed, see /tmp/start-local-slurm-apt.log"; }
fi
id slurm >/dev/null 2>&1 || die "user 'slurm' missing after install"

mkdir -p "$RUN" "$LOG" "$BASE/state/ctld" "$BASE/state/d" "$ETC"
CLEAN=0
if [ "${SLURM_LOCAL_CLEAN:-0}" = 1 ] && ! alive "$RUN/slurmctld.pid" && ! alive "$RUN/slurmdbd.pid"; then
  CLEAN=1; rm -rf "$BASE/state/ctld"/* "$BASE/state/d"/*   # job ids restart at 1 ...
fi
chown -R slurm:slurm "$BASE/state/ctld" "$LOG"
touch "$STARTED"

# ---------------------------------------------------------------- munge
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
fi
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
if ! (munge -n | unmunge) >/dev/null 2>&1; then
  info "starting munged"
  su -s /bin/sh munge -c /usr/sbin/munged || die "munged failed to start (see /var/log/munge/munged.log)"
  wait_for 10 munge sh -c 'munge -n | unmunge' || die "munge credential round trip failed"
  record munged /run/munge/munged.pid
fi

# ---------------------------------------------------------------- node facts
NODE=$(hostname -s)
HW=$(slurmd -C | head -1)   # NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105
HW=${HW#NodeName=* }        # drop the NodeName=... token
[ -n "$HW" ] || die "slurmd -C gave nothing"

# ---------------------------------------------------------------- MariaDB + slurmdbd
if [ "$ACCOUNTING" = dbd ]; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >"$LOG/mariadb-install.log" 2>&1 \
    || die "mariadb-install-db failed ($LOG/mariadb-install.log)"
  if ! mariadb-admin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1; then
    info "starting mariadbd"
    touch "$LOG/mariadb.log"; chown mysql "$LOG/mariadb.log"
    setsid -f /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid --socket=/run/mysqld/mysqld.sock \
      --bind-address=127.0.0.1 --innodb-lock-wait-timeout=900 --log-error="$LOG/mariadb.log" </dev/null >/dev/null 2>&1
    wait_for 60 mariadb mariadb-admin --socket=/run/mysqld/mysqld.sock ping || die "mariadbd did not come up ($LOG/mariadb.log)"
    wait_for 10 pidfile test -s /run/mysqld/mysqld.pid
    record mariadb /run/mysqld/mysqld.pid
  fi
  # ... so drop the accounting DB too, or sacct -j N would also return old jobs with the same id
  [ $CLEAN = 1 ] && mariadb --socket=/run/mysqld/mysqld.sock -e "DROP DATABASE IF EXISTS slurm_acct_db"
  mariadb --socket=/run/mysqld/mysqld.sock -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
    ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DBPASS';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;" || die "could not create slurm DB/user"
  cat > "$ETC/slurmdbd.conf.new" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=slurm
StoragePass=$DBPASS
StorageLoc=slurm_acct_db
EOF
  if ! cmp -s "$ETC/slurmdbd.conf.new" "$ETC/slurmdbd.conf" && alive "$RUN/slurmdbd.pid"; then
    kill "$(cat "$RUN/slurmdbd.pid")"; wait_for 30 dbdstop sh -c "! kill -0 $(cat "$RUN/slurmdbd.pid")"
  fi
  mv "$ETC/slurmdbd.conf.new" "$ETC/slurmdbd.conf"
  chown slurm:slurm "$ETC/slurmdbd.conf"; chmod 600 "$ETC/slurmdbd.conf"
  if ! alive "$RUN/slurmdbd.pid"; then
    info "starting slurmdbd"
    /usr/sbin/slurmdbd || die "slurmdbd failed to start ($LOG/slurmdbd.log)"
    wait_for 30 dbd bash -c 'exec 3<>/dev/tcp/127.0.0.1/6819' || die "slurmdbd not listening on 6819 ($LOG/slurmdbd.log)"
    record slurmdbd "$RUN/slurmdbd.pid"
  fi
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
else
  ACCT_LINES="AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG/jobcomp.txt"
fi

# ---------------------------------------------------------------- slurm.conf / cgroup.conf
cgroup_usable() {
  [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] && [ -d /sys/fs/cgroup/freezer ] && return 0   # v1 / hybrid
  [ -e /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers && return 0  # v2
  return 1
}
write_conf() { # $1 = cgroup | linuxproc
  local mode=$1 pt tp jp gres_lines="" node_gres=""
  if [ "$GPUS" -gt 0 ]; then
    # Stand-in GPUs: slurmctld schedules and accounts them like real ones. slurmd 22.05 drops a gpu
    # GRES without File= ("Removing file-less GPU"), so each gets a plain file as its "device";
    # without ConstrainDevices nothing is bound, a job only sees CUDA_VISIBLE_DEVICES.
    # A type (Type= in gres.conf, gpu:TYPE:N on the node) is what lets a job ask for a model
    # (--gpus=a100:1, KdGat's `gpus: a100:1`); sacct then counts gres/gpu and gres/gpu:TYPE.
    local typed="" type_field="" type_tres=""
    [ -n "$GPU_TYPE" ] && { typed="$GPU_TYPE:"; type_field=" Type=$GPU_TYPE"; type_tres=",gres/gpu:$GPU_TYPE"; }
    gres_lines="GresTypes=gpu
AccountingStorageTRES=gres/gpu$type_tres"
    node_gres="Gres=gpu:$typed$GPUS"
    mkdir -p "$BASE/fake-gpu"
    for i in $(seq 0 $((GPUS - 1))); do touch "$BASE/fake-gpu/gpu$i"; done
    printf 'AutoDetect=off\nNodeName=%s Name=gpu%s File=%s/fake-gpu/gpu[0-%s]\n' "$NODE" "$type_field" "$BASE" "$((GPUS - 1))" > "$ETC/gres.conf.new"
  else
    : > "$ETC/gres.conf.new"
  fi
  if cmp -s "$ETC/gres.conf.new" "$ETC/gres.conf"; then rm -f "$ETC/gres.conf.new"; else mv "$ETC/gres.conf.new" "$ETC/gres.conf"; fi
  if [ "$mode" = cgroup ]; then
    pt=proctrack/cgroup; tp=task/cgroup,task/affinity; jp=NoOverMemoryKill
    { echo "CgroupPlugin=autodetect"; echo "ConstrainCores=yes"; echo "ConstrainRAMSpace=yes"
      echo "ConstrainSwapSpace=yes"; echo "AllowedSwapSpace=0"
      if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo "IgnoreSystemdOnFailure=yes"; echo "EnableControllers=yes"; fi
    } > "$ETC/cgroup.conf"
  else
    pt=proctrack/linuxproc; tp=task/none; jp=OverMemoryKill
    rm -f "$ETC/cgroup.conf"
  fi
  cat > "$ETC/slurm.conf.new" <<EOF
# generated by start-local-slurm.sh (mode=$mode)
ClusterName=local
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
StateSaveLocation=$BASE/state/ctld
SlurmdSpoolDir=$BASE/state/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=$pt
TaskPlugin=$tp
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=2,sched_min_interval=100000
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=$jp
$ACCT_LINES
$gres_lines
# Ended jobs stay in squeue for an hour (tests read them there, free of accounting lag); the
# controller holds at most MaxJobCount job records, and with a day's retention a machine that ran
# the suite and the benches all day reached the default 10,000 and refused every sbatch.
MinJobAge=3600
MaxJobCount=50000
KillWait=5
ReturnToService=2
NodeName=$NODE NodeAddr=127.0.0.1 $HW $node_gres State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$ETC/slurm.conf.new" "$ETC/slurm.conf"; then
    mv "$ETC/slurm.conf.new" "$ETC/slurm.conf"; return 0   # changed
  fi
  rm -f "$ETC/slurm.conf.new"; return 1                     # unchanged
}
stop_pid() { local f=$1; alive "$f" || return 0; local p; p=$(cat "$f"); kill "$p"
  wait_for 60 stop sh -c "! kill -0 $p" || kill -9 "$p" 2>/dev/null || true; }

start_slurm() {
  local fresh=0 left
  if ! alive "$RUN/slurmctld.pid"; then
    info "starting slurmctld"; /usr/sbin/slurmctld || die "slurmctld failed ($LOG/slurmctld.log)"
    record slurmctld "$RUN/slurmctld.pid"; fresh=1
  fi
  wait_for 30 ctld scontrol ping || die "slurmctld not answering ($LOG/slurmctld.log)"
  if [ "$fresh" = 1 ] && ! alive "$RUN/slurmd.pid"; then
    # A cluster started here (controller and node both down) has no user yet: jobs in its saved state were
    # left by a test run that was killed (Ctrl+C), and held the node, so the probe job never started and the
    # next test run failed. With slurmd still up only the controller was restarted: its jobs still run under
    # slurmd and a waiting build collects them, so they stay (a review: a restart cancelled a live job).
    left=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
    if [ -n "${left// /}" ]; then info "cancelling jobs left by an earlier, interrupted run: $left"; scancel $left || true; fi
  fi
  if ! alive "$RUN/slurmd.pid"; then
    info "starting slurmd"; /usr/sbin/slurmd || die "slurmd failed ($LOG/slurmd.log)"
    record slurmd "$RUN/slurmd.pid"
  fi
  # wait until the node is schedulable
  local end=$(( $(date +%s) + 60 )) st
  while :; do
    st=$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -1)
    case "$st" in idle|mixed|allocated|completing) break;; esac
    case "$st" in down*|drain*|*drained) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true;; esac
    [ "$(date +%s)" -ge "$end" ] && die "node $NODE not usable (state '$st'); see $LOG/slurmd.log"
    sleep 0.3
  done
}
probe_job() { # [sbatch args...] runs a trivial job to completion (polling; sbatch --wait polls too slowly), returns 0 if COMPLETED
  local id st end=$(( $(date +%s) + 60 ))
  id=$(cd "$BASE" && sbatch --parsable -J probe -o /dev/null -t 1 --mem=32M "$@" --wrap true) || return 1
  while :; do
    st=$(scontrol -o show job "$id" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2)
    case "$st" in COMPLETED) return 0;; PENDING|CONFIGURING|RUNNING|COMPLETING|"") ;; *) echo "probe job $id: $st" >&2; return 1;; esac
    [ "$(date +%s)" -ge "$end" ] && { echo "probe job $id still $st after 60 s" >&2; scancel "$id"; return 1; }
    sleep 0.2
  done
}

MODE=$PROCTRACK
[ "$MODE" = auto ] && { cgroup_usable && MODE=cgroup || MODE=linuxproc; }
if write_conf "$MODE"; then
  info "slurm.conf (mode=$MODE) written; restarting running slurm daemons if any"
  stop_pid "$RUN/slurmd.pid"; stop_pid "$RUN/slurmctld.pid"
fi
start_slurm
if ! probe_job; then
  if [ "$MODE" = cgroup ] && [ "$PROCTRACK" = auto ]; then
    info "probe job failed with cgroup plugins; falling back to proctrack/linuxproc + OverMemoryKill"
    MODE=linuxproc; write_conf linuxproc || true
    stop_pid "$RUN/slurmd.pid"; stop_pid "$RUN/slurmctld.pid"; start_slurm
    probe_job || die "probe job failed in linuxproc mode too; see $LOG/"
  else
    die "probe job failed (mode=$MODE); see $LOG/"
  fi
fi
info "probe job ok"
if [ "$GPUS" -gt 0 ]; then
  probe_job --gpus=1 || die "a --gpus=1 probe job failed: the counted gpu GRES is not usable; see $LOG/slurmd.log and $ETC/gres.conf"
  if [ -n "$GPU_TYPE" ]; then
    probe_job --gpus="$GPU_TYPE:1" || die "a --gpus=$GPU_TYPE:1 probe job failed: the typed gpu GRES is not usable; see $LOG/slurmd.log and $ETC/gres.conf"
  fi
  info "gpu probe jobs ok ($GPUS stand-in gpu GRES${GPU_TYPE:+ of type $GPU_TYPE})"
fi
if [ "$ACCOUNTING" = dbd ]; then
  wait_for 20 sacct sacct -n -X -j 1 || die "sacct not working"
fi

info "up in $(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s  (mode=$MODE, accounting=$ACCOUNTING, base=$BASE)"
sinfo -N -o '%N %P %T %c %m'
scontrol show node "$NODE" | grep -E 'State=|CfgTRES|Gres=' | sed 's/^ */  /'
