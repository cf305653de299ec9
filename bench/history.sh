#!/usr/bin/env bash
# Tracking at scale: bash bench/history.sh [RECORDS] [REPS]
# A long run history (default 100,000 records of one stage, as a year of sweeps leaves) in a
# workspace of the repository's pipeline built once for hcrl_sa. Then -t:Status, -t:Compare,
# -t:History and -t:Report are timed REPS times each (default 3; the first Status, which indexes
# the records, is not counted) and the table gives median wall seconds and the largest peak RSS
# (/usr/bin/time, largest process of the tree). Before 2026-12-06 these targets read and parsed
# every record (Status: 13-16 s and 520-710 MB at 100,000 records, measured under load).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
RECORDS=${1:-100000}
REPS=${2:-3}
OUT=$REPO/bench/out/history
WS=$OUT/ws
KDGAT=(dotnet msbuild pipeline.proj -p:Dataset=hcrl_sa "-p:KdGatToolsDir=$REPO/.kdgat/tools/" "-p:KdGatSourceDir=$REPO/src/" -nologo -v:m)
command -v /usr/bin/time >/dev/null || { echo "history: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

rm -rf "$WS"
mkdir -p "$WS"
cp "$REPO/pipeline.proj" "$REPO/kdgat.yaml" "$REPO/Directory.Build.rsp" "$WS/"
cp -r "$REPO/targets" "$REPO/models" "$WS/"
cd "$WS"
# The first build generates the sample's raw data, as in a fresh clone.
"${KDGAT[@]}" -t:Evaluate > "$OUT/build.log" 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }

# Old records of one stage: copies of its real record with their own ids, builds and end times.
python3 - "$RECORDS" <<'PY'
import glob, json, os, sys
n = int(sys.argv[1])
src = sorted(glob.glob('.kdgat/records/hcrl_sa/gat_large_curriculum/*.json'))[0]
r = json.load(open(src)); d = os.path.dirname(src)
for i in range(n):
    c = dict(r, record_id=f"old-{i:07d}", build_id=f"20250101T000000Z-old{i:07d}",
             finished_utc=f"2025-01-{1 + i // 86400 % 28:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.0000000Z")
    json.dump(c, open(os.path.join(d, f"2025old-{i:07d}.json"), 'w'), indent=2)
PY
"${KDGAT[@]}" -t:Status > "$OUT/index.log" 2>&1 || { tail -20 "$OUT/index.log"; exit 1; }

echo "| target, $RECORDS old records of one stage | median wall s | max peak RSS MB | n |"
echo "|---|---:|---:|---:|"
for target in Status Compare "History -p:Stage=gat_large_curriculum" Report; do
  walls=(); rss=0
  for i in $(seq 1 "$REPS"); do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %M" -o "$OUT/time" "${KDGAT[@]}" -t:$target > "$OUT/target.log" 2>&1 || { tail -5 "$OUT/target.log"; exit 1; }
    read -r wall kb < "$OUT/time"
    walls+=("$wall"); [ "$kb" -gt "$rss" ] && rss=$kb
  done
  median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
  echo "| $target | $median | $((rss / 1024)) | $REPS |"
done
