#!/usr/bin/env bash
# scripts/slurm/bench-slurm.sh - login-node footprint of the SLURM executor on the local cluster.
#
# 1. The 78-stage pipeline (13 stages x 6 datasets) with trivial stage commands, run as SLURM jobs:
#    wall time, CPU seconds and peak RSS of the build process (with its children: MSBuild nodes,
#    sbatch/squeue/sacct calls), then the same for the no-op rebuild.
# 2. A 3-stage chain (preprocess -> vgae_large_autoencoder -> gat_large_curriculum, one dataset)
#    next to Snakemake's own --slurm mode for a 3-rule chain, if `snakemake` (Debian: 7.21) is installed.
#
# Needs a running cluster (bash scripts/slurm/start-local-slurm.sh, as root), /usr/bin/time.
# Knobs: POLL (slurm.poll_seconds, default 5), MAX_POLL (slurm.max_poll_seconds, default 60),
#        SNAKEMAKE=0 to skip the Snakemake comparison. Prints a table; writes nothing in the repo.
set -euo pipefail
export USER=${USER:-$(id -un)}   # snakemake --slurm reads $USER
REPO=$(cd "$(dirname "$0")/../.." && pwd)
POLL=${POLL:-5}
MAX_POLL=${MAX_POLL:-60}
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
  s/poll_seconds: 5\n  max_poll_seconds: 60/poll_seconds: '"$POLL"'\n  max_poll_seconds: '"$MAX_POLL"'/;
  s/^generator: .*$/generator: '\''mkdir -p {raw_dir} && echo frames > {raw_dir}\/frames.csv'\''/m;
  s/command: '\''\{vars\.sample\} preprocess[^'\'']*'\''/command: '\''mkdir -p {cache_dir} && cat {raw_dir}\/frames.csv {params_file} > {cache_dir}\/graphs.bin'\''/g;
  s/command: '\''\{vars\.sample\} evaluate[^'\'']*'\''/command: '\''echo "{{\"f1\": 0.5}}" > metrics.json'\''/g;
  s/command: '\''\{vars\.sample\} (autoencoder|curriculum|fusion)[^'\'']*'\''/command: '\''cat {params_file} {cache_dir}\/graphs.bin > model.ckpt && echo {stage} > train_log.json'\''/g;
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

msb() { echo dotnet msbuild pipeline.proj -nologo -v:m -p:KdGatToolsDir="$WORK/tools" -p:KdGatSkipBootstrap=true "$@"; }

echo
echo "local single-node cluster: $(sinfo -h -o '%c CPUs, %m MB' | head -1); slurm.poll_seconds=$POLL, max_poll_seconds=$MAX_POLL"
echo
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
