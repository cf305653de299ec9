#!/usr/bin/env bash
# The sample at real scale (issue 16, item 6): bash bench/realscale.sh [FRAMES]
# One dataset the size of the public hcrl_sa capture (default --frames 1800000 normal frames:
# about 1.9 M frames in 3 CSV files), generated once and kept in bench/out/realscale/data/.
# Builds the whole pipeline for that dataset from scratch (the documented command, -p:Dataset),
# then prints wall time and per-stage wall, CPU and peak RSS (from the build's run records)
# against the goals: each stage < 300 MB peak RSS, the whole pipeline < 60 s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
FRAMES=${1:-1800000}
OUT=$REPO/bench/out/realscale
DATA=$OUT/data/hcrl_sa-$FRAMES
WS=$OUT/ws
KDGAT=(dotnet msbuild pipeline.proj -p:Dataset=hcrl_sa "-p:KdGatToolsDir=$REPO/.kdgat/tools/" "-p:KdGatSourceDir=$REPO/src/")
mkdir -p "$OUT"

# The generator is the sample itself, built once here (Release) so the data never waits on the bootstrap.
if [ ! -f "$DATA/.complete" ]; then
  echo "realscale: generating hcrl_sa with --frames $FRAMES into $DATA (once)" >&2
  dotnet build "$REPO/src/KdGat.Sample" -c Release -o "$OUT/generator" -v:q -nologo >&2
  rm -rf "$DATA"
  dotnet "$OUT/generator/KdGat.Sample.dll" generate --dataset hcrl_sa --frames "$FRAMES" --out "$DATA" >&2
  touch "$DATA/.complete"
fi

# A workspace with the repository's pipeline; raw data hard-linked (KdGat never writes raw data).
rm -rf "$WS"
mkdir -p "$WS/data/automotive/hcrl_sa"
cp "$REPO/pipeline.proj" "$REPO/kdgat.yaml" "$REPO/Directory.Build.rsp" "$WS/"
cp -r "$REPO/targets" "$REPO/models" "$WS/"
cp -l "$DATA"/*.csv "$WS/data/automotive/hcrl_sa/" 2>/dev/null || cp "$DATA"/*.csv "$WS/data/automotive/hcrl_sa/"
cd "$WS"
# Bootstraps the tools (not timed) and hashes nothing that a cold build would not hash again.
"${KDGAT[@]}" -t:Explain -v:q -nologo >/dev/null
rm -rf .kdgat experimentruns data/cache

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "${KDGAT[@]}" -nologo > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$OUT/time.txt" "$load_before" "$load_after" "$FRAMES" <<'EOF'
import glob, json, os, sys
wall, user, sys_, rss = open(sys.argv[1]).read().split()[-4:]
build = json.load(open(".kdgat/last-build.json"))
recs = {}
for f in glob.glob(".kdgat/records/*/*/*.json"):
    r = json.load(open(f))
    if r["build_id"] == build["build_id"]:
        recs[r["stage"]] = r
index = json.load(open("data/cache/hcrl_sa/index.json"))
cache_mb = sum(os.path.getsize(f) for f in glob.glob("data/cache/hcrl_sa/*")) / 1e6
raw = sorted(glob.glob("data/automotive/hcrl_sa/*.csv"))
print(f"hcrl_sa at real scale: {index['frames']:,} frames in {len(raw)} files "
      f"({sum(os.path.getsize(f) for f in raw) / 1e6:.0f} MB CSV) -> {index['graphs']:,} graphs, cache {cache_mb:.1f} MB")
print(f"load average (1/5/15 min) before {sys.argv[2]}, after {sys.argv[3]}; {os.cpu_count()} cores\n")
print("| stage | wall s | CPU s | peak RSS MB | goal < 300 MB |")
print("|---|---:|---:|---:|---|")
order = [s["stage"] for s in build["stages"]]
worst = 0
for s in order:
    r = recs.get(s)
    if r is None:
        print(f"| {s} | (no record) | | | |"); continue
    mb = r["peak_rss_kb"] / 1024
    worst = max(worst, mb)
    print(f"| {s} | {r['wall_seconds']:.1f} | {r['cpu_seconds']:.1f} | {mb:.0f} | {'met' if mb < 300 else 'NOT met'} |")
cpu = float(user) + float(sys_)
print(f"\n| whole pipeline, 1 dataset | wall s | CPU s (tree) | largest process RSS MB | goal < 60 s |")
print("|---|---:|---:|---:|---|")
print(f"| `dotnet msbuild pipeline.proj -p:Dataset=hcrl_sa`, cold | {float(wall):.1f} | {cpu:.1f} | {int(rss) / 1024:.0f} | {'met' if float(wall) < 60 else 'NOT met'} |")
print(f"\nstages: {len(recs)} ran; largest stage peak {worst:.0f} MB")
EOF
