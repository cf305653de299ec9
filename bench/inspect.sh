#!/usr/bin/env bash
# Looking at a large pipeline: bash bench/inspect.sh [DATASETS] [REPS]
# bench/gen.py's workspace of DATASETS datasets (default 600 = 7,800 stage instances), built once.
# Then KdGat's certified no-op and the targets that only look (Explain, Status, Compare, Graph,
# Report) are timed REPS times each (default 3), beside Snakemake's nearest commands on the same
# DAG: `snakemake -n` (Explain's question) and `snakemake --summary` (Status's). As in bench.py's
# case 2b, Snakemake's outputs are made by make with the same commands (its scheduler needs tens of
# minutes for 7,800 jobs), so Snakemake runs without .snakemake metadata: a lower bound for it.
# The table gives median wall and CPU seconds (user + sys of the process tree) and the largest
# peak RSS (/usr/bin/time, largest process of the tree). Interleaved, the order rotated each round.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DATASETS=${1:-600}
REPS=${2:-3}
OUT=$REPO/bench/out/inspect
WK=$OUT/kdgat
WP=$OUT/peers
KDGAT=(dotnet msbuild pipeline.proj "-p:KdGatToolsDir=$REPO/.kdgat/tools/" "-p:KdGatSourceDir=$REPO/src/" -nologo -v:q)
for tool in /usr/bin/time snakemake make; do
  command -v "$tool" >/dev/null || { echo "inspect: $tool is missing (bash bench/run.sh installs it)" >&2; exit 1; }
done

rm -rf "$OUT"
mkdir -p "$OUT"
python3 bench/gen.py --tool kdgat --datasets "$DATASETS" --out "$WK" > /dev/null
python3 bench/gen.py --tool make --datasets "$DATASETS" --out "$WP" > /dev/null
python3 bench/gen.py --tool snakemake --datasets "$DATASETS" --out "$WP-sm" > /dev/null
cp "$WP-sm/Snakefile" "$WP/Snakefile"
rm -rf "$WP-sm"
# Cold builds (not timed), then one no-op each that settles (KdGat writes its no-op certificate).
(cd "$WK" && "${KDGAT[@]}" > "$OUT/cold.log" 2>&1 && "${KDGAT[@]}" >> "$OUT/cold.log" 2>&1) || { tail -20 "$OUT/cold.log"; exit 1; }
(cd "$WP" && make -j2 > "$OUT/make.log" 2>&1) || { tail -20 "$OUT/make.log"; exit 1; }

CASES=("kdgat no-op (Evaluate)|$WK|${KDGAT[*]} -t:Evaluate"
       "kdgat -t:Explain|$WK|${KDGAT[*]} -t:Explain"
       "kdgat -t:Status|$WK|${KDGAT[*]} -t:Status"
       "kdgat -t:Compare|$WK|${KDGAT[*]} -t:Compare"
       "kdgat -t:Graph|$WK|${KDGAT[*]} -t:Graph"
       "kdgat -t:Report|$WK|${KDGAT[*]} -t:Report"
       "snakemake -n|$WP|snakemake -n"
       "snakemake --summary|$WP|snakemake --summary")
declare -A WALL CPU RSS
for r in $(seq 1 "$REPS"); do
  n=${#CASES[@]}
  for k in $(seq 0 $((n - 1))); do
    c=${CASES[$(((k + r) % n))]}
    IFS='|' read -r name dir cmd <<< "$c"
    # shellcheck disable=SC2086
    (cd "$dir" && /usr/bin/time -f "%e %U %S %M" -o "$OUT/time" $cmd > "$OUT/case.log" 2>&1) || { echo "inspect: '$name' failed:" >&2; tail -5 "$OUT/case.log" >&2; exit 1; }
    read -r wall user sys kb < "$OUT/time"
    WALL[$name]+="$wall "; CPU[$name]+="$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') "
    [ "${RSS[$name]:-0}" -gt "$kb" ] || RSS[$name]=$kb
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo "| $DATASETS datasets ($((DATASETS * 13)) stage instances), up to date | median wall s | median CPU s | max peak RSS MB | n |"
echo "|---|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
  name=${c%%|*}
  echo "| $name | $(echo "${WALL[$name]}" | median) | $(echo "${CPU[$name]}" | median) | $((RSS[$name] / 1024)) | $REPS |"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
