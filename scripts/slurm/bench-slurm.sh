#!/usr/bin/env bash
# scripts/slurm/bench-slurm.sh - login-node footprint of the SLURM executor on the local cluster.
#
# 1. The 78-stage pipeline (13 stages x 6 datasets) with trivial stage commands, run as SLURM jobs:
#    wall time, CPU seconds and peak RSS of the build process (with its children: MSBuild nodes,
#    sbatch/squeue/sacct calls), then the same for the no-op rebuild.
# 2. A 3-stage chain (preprocess -> vgae_large_autoencoder -> gat_large_curriculum, one dataset)
#    next to Snakemake's own --slurm mode for a 3-rule chain, if `snakemake` (Debian: 7.21) is installed.
# 3. Waiting on long jobs (issue 16, item 5): LONG_JOBS (13) preprocess jobs, one per dataset, that
#    sleep LONG_SLEEP (900) s. Once all are queued, the CPU seconds of the build's process tree
#    (/proc: utime+stime of every live process plus what it reaped) are taken over LONG_WINDOW
#    (240) s, starting LONG_SETTLE (30) s later (the last sbatch calls are reaped then), and scaled to an hour, and the tree's RSS is sampled every second; then the build is
#    interrupted (Ctrl+C: CancelOnAbort cancels its jobs). Goal: < 2 CPU s per hour, < 150 MB.
#    With the defaults the window includes the squeue backoff's ramp from poll_seconds to
#    max_poll_seconds (~555 s to reach 180 s), so the hourly figure is an upper bound; the steady
#    state needs LONG_SETTLE=600 and LONG_SLEEP > LONG_SETTLE + LONG_WINDOW (e.g. 1500).
#    LONG_WINDOW=0 skips it; ONLY_LONG=1 runs only this case.
#
# Needs a running cluster (bash scripts/slurm/start-local-slurm.sh, as root), /usr/bin/time.
# Knobs: POLL (slurm.poll_seconds, default 5), MAX_POLL (slurm.max_poll_seconds, default 180),
#        SNAKEMAKE=0 to skip the Snakemake comparison; LONG_JOBS, LONG_SLEEP, LONG_WINDOW, LONG_SETTLE, MAX_MARKER,
#        LONG_HOLD, ONLY_LONG (case 3); BENCH_MSBUILD_ARGS (e.g. -p:LiveReport=false) go to every build.
#        Prints a table; writes nothing in the repo.
set -euo pipefail
export USER=${USER:-$(id -un)}   # snakemake --slurm reads $USER
REPO=$(cd "$(dirname "$0")/../.." && pwd)
POLL=${POLL:-5}
MAX_POLL=${MAX_POLL:-180}
WORK=$(mktemp -d /tmp/kdgat-bench-slurm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

die() { echo "bench-slurm: $*" >&2; exit 1; }
command -v sbatch >/dev/null || die "sbatch not found: start the local cluster first (bash scripts/slurm/start-local-slurm.sh)"
scontrol ping 2>/dev/null | grep -q UP || die "slurmctld does not answer: start the local cluster first"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"

echo "bench-slurm: building KdGat tools into $WORK/tools"
dotnet msbuild "$REPO/pipeline.proj" -t:_KdGatBootstrap -p:KdGatToolsDir="$WORK/tools" -v:q -nologo >/dev/null

# A copy of the pipeline with trivial stage commands, executor slurm, no GPUs (the local cluster has none).
P=$WORK/pipeline
mkdir -p "$P"
cp "$REPO/pipeline.proj" "$REPO/kdgat.yaml" "$REPO/Directory.Build.rsp" "$P/"
cp -r "$REPO/targets" "$REPO/models" "$P/"
perl -0pi -e '
  s/^executor: local /executor: slurm /m;
  s/gpus: \d+, //g;
  s/mem: \d+G/mem: 100M/g;
  s/cpus: 2, /cpus: 1, /g;
  s/poll_seconds: 5\n  max_poll_seconds: [^\n]*/poll_seconds: '"$POLL"'\n  max_poll_seconds: '"$MAX_POLL"'/;
  s/^generator: .*$/generator: '\''mkdir -p {raw_dir} && echo frames > {raw_dir}\/frames.csv'\''/m;
  s/command: '\''\{vars\.sample\} preprocess[^'\'']*'\''/command: '\''mkdir -p {cache_dir} && cat {raw_dir}\/frames.csv {params_file} > {cache_dir}\/graphs.bin'\''/g;
  s/command: '\''\{vars\.sample\} evaluate[^'\'']*'\''/command: '\''echo "{{\"f1\": 0.5}}" > metrics.json'\''/g;
  s/command: '\''\{vars\.sample\} (autoencoder|curriculum|fusion)[^'\'']*'\''/command: '\''cat {params_file} {cache_dir}\/graphs.bin > model.ckpt && echo {stage} > train_log.json && : > curves.jsonl'\''/g;
' "$P/kdgat.yaml"
grep -q 'gpus:' "$P/kdgat.yaml" && die "config rewrite left gpus in $P/kdgat.yaml"

measure() { # label, dir, command... ; prints one table row
  local label=$1 dir=$2; shift 2
  local out=$WORK/time.txt
  (cd "$dir" && /usr/bin/time -v -o "$out" "$@" >"$WORK/last.log" 2>&1) || { echo "bench-slurm: '$label' failed:"; tail -30 "$WORK/last.log"; return 1; }
  awk -v label="$label" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1]*3600 + p[2]*60 + p[3] : p[1]*60 + p[2] }
    /User time/ { user = $2 } /System time/ { sys = $2 } /Maximum resident set size/ { rss = $2 }
    END { printf "| %-44s | %8.1f | %8.2f | %8.0f |\n", label, wall, user + sys, rss / 1024 }' "$out"
}

msb() { echo dotnet msbuild pipeline.proj -nologo -v:m -p:KdGatToolsDir="$WORK/tools" -p:KdGatSkipBootstrap=true "$@" ${BENCH_MSBUILD_ARGS:-}; }

echo
echo "local single-node cluster: $(sinfo -h -o '%c CPUs, %m MB' | head -1); slurm.poll_seconds=$POLL, max_poll_seconds=$MAX_POLL"
echo
if [ "${ONLY_LONG:-0}" != 1 ]; then
echo "| run                                          | wall s   | CPU s    | peak MiB |"
echo "|----------------------------------------------|----------|----------|----------|"
measure "KdGat: 78 stages (6 datasets), cold" "$P" $(msb -t:Evaluate)
jobs=$(squeue -h -t all -o '%i|%Z' | grep -c "|$P/" || true)
measure "KdGat: 78 stages, no-op rebuild" "$P" $(msb -t:Evaluate)
jobs2=$(squeue -h -t all -o '%i|%Z' | grep -c "|$P/" || true)
grep -o '[0-9]* stage instance(s): [^(]*' "$WORK/last.log" | head -1 >/dev/null || true

# 3-stage chain: preprocess -> vgae_large_autoencoder -> gat_large_curriculum for one dataset.
rm -rf "$P/experimentruns" "$P/data/cache" "$P/.kdgat"
measure "KdGat: 3-stage chain" "$P" $(msb -t:RunStage -p:Stage=gat_large_curriculum -p:Dataset=hcrl_sa)

if [ "${SNAKEMAKE:-1}" = 1 ] && command -v snakemake >/dev/null; then
  S=$WORK/snake
  mkdir -p "$S"
  cat > "$S/Snakefile" <<'SNAKE'
rule all:
    input: "c.txt"
rule a:
    output: "a.txt"
    shell: "echo a > {output}"
rule b:
    input: "a.txt"
    output: "b.txt"
    shell: "cat {input} > {output}; echo b >> {output}"
rule c:
    input: "b.txt"
    output: "c.txt"
    shell: "cat {input} > {output}; echo c >> {output}"
SNAKE
  measure "Snakemake $(snakemake --version) --slurm: 3-rule chain" "$S" \
    snakemake --slurm --jobs 3 --default-resources slurm_partition=cpu mem_mb=1000 runtime=5 --latency-wait 5 -q || true
else
  echo "| Snakemake --slurm: not run (not installed, or SNAKEMAKE=0)    |          |          |          |"
fi
echo
echo "jobs submitted: cold build $jobs, after the no-op rebuild $jobs2 (the rebuild submits none)."
echo "CPU s = user + system of the build process and its children (MSBuild, sbatch/squeue/sacct); peak = largest single process RSS."
fi

# ---- 3. waiting on long jobs ----
LONG_JOBS=${LONG_JOBS:-13}
LONG_SLEEP=${LONG_SLEEP:-900}
LONG_WINDOW=${LONG_WINDOW:-240}
LONG_SETTLE=${LONG_SETTLE:-30}
if [ "$LONG_WINDOW" -gt 0 ]; then
  L=$WORK/long
  rm -rf "$L"; cp -r "$P" "$L"; rm -rf "$L/.kdgat" "$L/experimentruns" "$L/data"
  names=$(seq -f 'long_%02g' 1 "$LONG_JOBS" | paste -sd, -)
  perl -0pi -e '
    s/^datasets: .*$/datasets: ['"$names"']/m;
    s/^  retries: \d+/  retries: 0/m;
    s/command: '\''mkdir -p \{cache_dir\}/command: '\''sleep '"$LONG_SLEEP"' && mkdir -p {cache_dir}/;
  ' "$L/kdgat.yaml"
  grep -q "sleep $LONG_SLEEP" "$L/kdgat.yaml" || die "config rewrite for the long case failed"
  # MAX_MARKER: slurm.max_marker_seconds (default: the config's, 30). LONG_HOLD=1 submits the jobs held
  # (sbatch --hold): they pend forever and take no CPU from the node, so other tests can use the cluster.
  [ -z "${MAX_MARKER:-}" ] || perl -0pi -e 's/^(  max_poll_seconds: [^\n]*\n)/$1  max_marker_seconds: '"$MAX_MARKER"'\n/m' "$L/kdgat.yaml"
  [ "${LONG_HOLD:-0}" != 1 ] || perl -0pi -e 's/^slurm:\n/slurm:\n  extra: ["--hold"]\n/m' "$L/kdgat.yaml"
  echo
  echo "3. waiting on $LONG_JOBS jobs of ${LONG_SLEEP} s (the node runs $(sinfo -h -o '%c' | head -1) at once, the rest pend); window ${LONG_WINDOW} s from ${LONG_SETTLE} s after the last submission; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  python3 - "$L" "$LONG_JOBS" "$LONG_WINDOW" "$LONG_SETTLE" "$WORK/long.log" $(msb -t:Preprocess) <<'PY'
import os, signal, subprocess, sys, time
ws, want, window, settle, logfile, cmd = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6:]
# A background job of a script starts with SIGINT ignored; the build must see Ctrl+C at the end.
proc = subprocess.Popen(cmd, cwd=ws, stdout=open(logfile, "w"), stderr=subprocess.STDOUT,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
build = proc.pid
tick = os.sysconf("SC_CLK_TCK")

def tree():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                kids.setdefault(int(f[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], [build]
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out

def cpu_and_rss():
    cpu = rss = big = 0
    for p in tree():
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            cpu += sum(int(x) for x in f[11:15]) / tick   # utime stime cutime cstime
            kb = next((int(l.split()[1]) for l in open(f"/proc/{p}/status") if l.startswith("VmRSS:")), 0)
            rss += kb; big = max(big, kb)
        except (OSError, StopIteration):
            pass
    return cpu, rss / 1024, big / 1024

def threads():
    """CPU ticks per thread of the tree, keyed by (pid, tid, name): where the waiting costs."""
    out = {}
    for p in tree():
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                st = open(f"/proc/{p}/task/{t}/stat").read()
                name = st[st.index("(") + 1:st.rindex(")")]
                f = st.rsplit(")", 1)[1].split()
                out[(p, int(t), name)] = int(f[11]) + int(f[12])
        except OSError:
            pass
    return out

def own_and_reaped():
    """The build process's own CPU (all its threads, live or exited) and that of the children it reaped (squeue, sacct)."""
    f = open(f"/proc/{build}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick, (int(f[13]) + int(f[14])) / tick

def sdiag_job_info():
    """slurmctld's count of job-info RPCs (one per squeue call; every client of the cluster counts)."""
    try:
        r = subprocess.run(["sdiag"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sum(int(l.split("count:")[1].split()[0]) for l in r.stdout.splitlines() if "REQUEST_JOB_INFO" in l and "count:" in l)

def controller_jobs():
    r = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i"], capture_output=True, text=True)
    return len(r.stdout.split())

def queued():
    r = subprocess.run(["squeue", "-h", "-o", "%Z"], capture_output=True, text=True)
    return sum(1 for l in r.stdout.splitlines() if l.startswith(ws + "/"))

deadline = time.time() + 600
while queued() < want:
    if time.time() > deadline or proc.poll() is not None:
        proc.kill()
        sys.exit(f"bench-slurm: only {queued()} of {want} jobs were queued; see the build log")
    time.sleep(1)
# The last sbatch calls are reaped just after their jobs show up in squeue: submitting, not waiting.
time.sleep(settle)
jobs0 = controller_jobs()
rpc0 = sdiag_job_info()
c0, _, _ = cpu_and_rss()
o0 = own_and_reaped()
th0 = threads()
t0 = time.time()
peak_sum = peak_big = 0.0
while time.time() - t0 < window:
    time.sleep(1)
    _, s, b = cpu_and_rss()
    peak_sum, peak_big = max(peak_sum, s), max(peak_big, b)
c1, _, _ = cpu_and_rss()
o1 = own_and_reaped()
th1 = threads()
rpc1 = sdiag_job_info()
n = len(tree())
dt = time.time() - t0
per_hour = (c1 - c0) * 3600 / dt
print(f"\n| waiting on {want} jobs | window s | CPU s in window | CPU s per hour (extrapolated) | goal | tree RSS MiB (sum, peak) | largest process MiB | goal |")
print("|---|---:|---:|---:|---|---:|---:|---|")
print(f"| KdGat build, processes in tree: {n} | {dt:.0f} | {c1 - c0:.2f} | {per_hour:.1f} | < 2 s: {'met' if per_hour < 2 else 'NOT met'} "
      f"| {peak_sum:.0f} | {peak_big:.0f} | < 150 MB: {'met' if peak_sum < 150 else 'NOT met'} |")
busy = sorted(((v - th0.get(k, 0), k) for k, v in th1.items()), reverse=True)[:6]
print("busiest threads in the window (CPU s): " + ", ".join(f"{k[2]} {d / tick:.2f}" for d, k in busy if d > 0)
      + f"; the rest (threads that exited in the window, reaped children) {(c1 - c0) - sum(v - th0.get(k, 0) for k, v in th1.items()) / tick:.2f}")
print(f"build process itself {o1[0] - o0[0]:.2f} CPU s (all its threads), children it reaped (squeue, sacct) {o1[1] - o0[1]:.2f}; "
      f"job-info RPCs at slurmctld in the window (squeue calls of every client): {'n/a' if rpc0 is None or rpc1 is None else rpc1 - rpc0}; "
      f"jobs the controller lists (squeue -t all) before the window: {jobs0}")
print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
proc.send_signal(signal.SIGINT)   # Ctrl+C: the build cancels its jobs (CancelOnAbort)
try:
    proc.wait(timeout=180)
except subprocess.TimeoutExpired:
    print("bench-slurm: the interrupted build did not exit in 180 s; killing it")
    proc.kill(); proc.wait()
PY
  left=$(squeue -h -o '%i|%Z' | grep "|$L/" | cut -d'|' -f1 | paste -sd, - || true)
  [ -z "$left" ] || { echo "bench-slurm: cancelling jobs left by the interrupted build: $left"; scancel ${left//,/ }; }
fi
