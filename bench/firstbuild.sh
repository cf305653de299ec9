#!/usr/bin/env bash
# First build of a fresh clone (issue 16 item 4): how much of the first `dotnet msbuild` is the
# 13 hcrl_sa stages themselves, and how much is getting KdGat ready.
#   bash bench/firstbuild.sh [--reps N] [--frames N]
# Two cases, each from nothing (a new clone, a new .kdgat), N repetitions, medians:
#  - repo: a fresh clone of this repository and the README command; the bootstrap compiles
#    KdGat's tools and the sample stages from source (NuGet's cache is left as it is: warm).
#  - sdk:  a repository of the user's own that takes KdGat from the KdGat.Sdk package (packed
#    here into a folder feed, restored into an empty NUGET_PACKAGES, so the package is fetched and
#    extracted on the first build) with the same pipeline.proj, kdgat.yaml and models/. Its stage
#    programs are the sample stages, published once beforehand: they stand for the user's own
#    code, which a real repository does not compile either.
# Each case is also timed once more right after its first build (a no-op build: nothing runs).
# "stages" is the build report's started_utc..finished_utc (.kdgat/last-build.json): the engine's
# run of the 13 stages, hashing included. "CPU" is user+sys of the first build's process tree
# (MSBuild, compilers, stage programs; GNU time), which a shared machine's load disturbs less than
# wall time. Prints a markdown table.
# --frames N: both cases build hcrl_sa from a capture of N normal frames (bench/realscale.sh's
# data, generated once into bench/out/realscale/ and hard-linked into each new repository before
# its first build) instead of the small sample data the README command generates.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
reps=3
frames=
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --frames) frames=$2; shift 2 ;;
    *) echo "usage: bash bench/firstbuild.sh [--reps N] [--frames N]" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/kdgat-firstbuild.XXXXXX)
trap 'rm -rf "$work"' EXIT
version="0.1.0-bench.$(date +%s)"
echo "== packing KdGat.Sdk $version and publishing the sample stages (not timed)" >&2
dotnet pack src/KdGat.Sdk -c Release -o "$work/feed" -p:PackageVersion="$version" -nologo -v:q >&2
dotnet publish src/KdGat.Sample -c Release -o "$work/userbin" -nologo -v:q >&2
if [ -n "$frames" ]; then
  data=$repo/bench/out/realscale/data/hcrl_sa-$frames
  if [ ! -f "$data/.complete" ]; then
    echo "== generating hcrl_sa with --frames $frames into $data (once, not timed)" >&2
    rm -rf "$data"
    dotnet "$work/userbin/KdGat.Sample.dll" generate --dataset hcrl_sa --frames "$frames" --out "$data" >&2
    touch "$data/.complete"
  fi
fi
# The capture for --frames, placed where the pipeline reads hcrl_sa (KdGat never writes raw data).
place_data() {  # $1: repository dir
  [ -n "$frames" ] || return 0
  mkdir -p "$1/data/automotive/hcrl_sa"
  cp -l "$data"/*.csv "$1/data/automotive/hcrl_sa/" 2>/dev/null || cp "$data"/*.csv "$1/data/automotive/hcrl_sa/"
}

# seconds between the report's StartedUtc and FinishedUtc
stage_seconds() {
  python3 - "$1/.kdgat/last-build.json" <<'PY'
import json, sys, datetime
r = json.load(open(sys.argv[1]))
p = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(f"{(p(r['finished_utc']) - p(r['started_utc'])).total_seconds():.2f}")
PY
}

make_sdk_repo() {  # $1: dir
  local d=$1
  mkdir -p "$d"
  cp -r kdgat.yaml models "$d/"
  # The user's stage programs: the published sample instead of {tools}/KdGat.Sample.dll.
  sed -i "s|sample: 'dotnet {tools}/KdGat.Sample.dll'|sample: 'dotnet $work/userbin/KdGat.Sample.dll'|" "$d/kdgat.yaml"
  grep -q "$work/userbin" "$d/kdgat.yaml" || { echo "could not point kdgat.yaml at the published sample" >&2; exit 1; }
  sed -e 's|<Project DefaultTargets="Evaluate">|<Project Sdk="KdGat.Sdk">|' -e '/<Import Project="targets\/KdGat.Pipeline.targets" \/>/d' pipeline.proj > "$d/pipeline.proj"
  printf '{ "msbuild-sdks": { "KdGat.Sdk": "%s" } }\n' "$version" > "$d/global.json"
  cat > "$d/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="kdgat" value="$work/feed" /></packageSources></configuration>
EOF
}

rows=()
for i in $(seq 1 "$reps"); do
  for c in repo sdk; do
    d="$work/$c-$i"
    if [ $c = repo ]; then git clone -q "$repo" "$d"; env_pk=(); else make_sdk_repo "$d"; env_pk=(NUGET_PACKAGES="$work/packages-$i"); fi
    place_data "$d"
    load=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    (cd "$d" && env "${env_pk[@]}" /usr/bin/time -f "%U %S" -o "$work/cpu" dotnet msbuild pipeline.proj -t:Evaluate -p:Dataset=hcrl_sa -nologo -v:q) >"$work/$c-$i.log" 2>&1 \
      || { echo "$c build $i failed:" >&2; cat "$work/$c-$i.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    wall=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
    cpu=$(python3 -c "u, s = open('$work/cpu').read().split(); print(f'{float(u) + float(s):.1f}')")
    st=$(stage_seconds "$d")
    t2=$(date +%s.%N)
    (cd "$d" && env "${env_pk[@]}" dotnet msbuild pipeline.proj -t:Evaluate -p:Dataset=hcrl_sa -nologo -v:q) >>"$work/$c-$i.log" 2>&1 \
      || { echo "$c no-op build $i failed:" >&2; cat "$work/$c-$i.log" >&2; exit 1; }
    t3=$(date +%s.%N)
    noop=$(python3 -c "print(f'{$t3 - $t2:.2f}')")
    rows+=("$c $wall $st $load $noop $cpu")
    echo "   $c #$i: wall $wall s, stages $st s, CPU $cpu s, then no-op $noop s (load $load)" >&2
    rm -rf "$d"
  done
done

FRAMES="$frames" python3 - "${rows[@]}" <<'PY'
import os, sys, statistics
rows = [r.split() for r in sys.argv[1:]]
print("| first build, hcrl_sa (13 stages) | wall s (median) | stages s (median) | stages share | not stages s | CPU s (median) | no-op after it s (median) | load at start | n |")
print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
frames = os.environ.get("FRAMES")
data = f", hcrl_sa capture of --frames {frames}" if frames else ""
names = {"repo": f"fresh clone of this repository (bootstrap compiles the tools){data}",
         "sdk": f"own repository with KdGat.Sdk (package fetched, nothing compiled){data}"}
for c in ("repo", "sdk"):
    rs = [r for r in rows if r[0] == c]
    w = statistics.median(float(r[1]) for r in rs); s = statistics.median(float(r[2]) for r in rs)
    n = statistics.median(float(r[4]) for r in rs); u = statistics.median(float(r[5]) for r in rs)
    print(f"| {names[c]} | {w:.2f} | {s:.2f} | {100*s/w:.0f} % | {w-s:.2f} | {u:.1f} | {n:.2f} | {' '.join(r[3] for r in rs)} | {len(rs)} |")
PY
