#!/usr/bin/env python3
"""KdGat benchmark harness: the KD-GAT DAG (13 stages a dataset, trivial commands) built by
KdGat, Snakemake and GNU make, interleaved, several repetitions; medians, ratios, stages run and
peak RSS. See bench/README.md. Run through bench/run.sh."""
import argparse, csv, datetime, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GEN = os.path.join(HERE, "gen.py")
TOOLS = os.path.join(REPO, ".kdgat", "tools") + "/"
SRC = os.path.join(REPO, "src") + "/"
# The documented command (README: `dotnet msbuild pipeline.proj`), pointed at this checkout's
# tools and sources so the bootstrap check (source hash vs stamp) is part of every build, as
# for a user. Directory.Build.rsp in the workspace brings -nodeReuse:false, as in the repo.
KDGAT = ["dotnet", "msbuild", "pipeline.proj", f"-p:KdGatToolsDir={TOOLS}", f"-p:KdGatSourceDir={SRC}"]

# The floor under every MSBuild-hosted no-op: `dotnet msbuild` of a project with one empty target,
# with the same flags and Directory.Build.rsp as KdGat's case. KdGat's own cost is its no-op minus this.
EMPTY_PROJECT = '<Project><Target Name="Build"/></Project>\n'
EMPTY = ["dotnet", "msbuild", "empty.proj"]

RAW = []  # rows for raw.csv

# The MSBuild server (opt-in, README "Faster no-ops"): one long-lived process builds every request,
# so KdGat's tasks are loaded and JIT-compiled once. The two MSBUILD* variables each keep the
# client from using a server (this machine sets the first); -nodeReuse:true overrides the rsp.
SERVER_ENV = {"DOTNET_CLI_USE_MSBUILD_SERVER": "1", "MSBUILDDISABLENODEREUSE": "0", "MSBUILDENSURESTDOUTFORTASKPROCESSES": "0"}
SERVER_ARGS = ["-nodeReuse:true"]


def server_pid():
    p = subprocess.run(["pgrep", "-f", "nodemode:8"], stdout=subprocess.PIPE, text=True)
    pids = p.stdout.split()
    return int(pids[0]) if len(pids) == 1 else None


def proc_cpu_rss(pid):
    """(user+sys CPU s, RSS MB) of a live process, from /proc."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        rss = int(open(f"/proc/{pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        return (int(f[11]) + int(f[12])) / tick, rss
    except (OSError, IndexError, ValueError):
        return None


def shutdown_server():
    subprocess.run(["dotnet", "build-server", "shutdown", "--msbuild"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, cwd, case, tool, rep, env=None, count=None, check=True, server=False):
    """Runs cmd under /usr/bin/time; returns and records wall, user+sys CPU, peak RSS, stages run.
    server: through the MSBuild server; its CPU during the build is added and its RSS counts."""
    if server:
        cmd, env = cmd + SERVER_ARGS, {**(env or {}), **SERVER_ENV}
        pid = server_pid()
        before = proc_cpu_rss(pid) if pid else None
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", tf.name] + cmd, cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env={**os.environ, **(env or {})})
        wall = time.perf_counter() - t0
        u, s, m = tf.read().strip().splitlines()[-1].split()
    out = p.stdout
    if p.returncode != 0 and check:
        log(out[-3000:])
        raise SystemExit(f"{tool} {case}: {' '.join(cmd)} failed with {p.returncode} in {cwd}")
    stages = count(cwd, out) if count else ""
    cpu, rss = float(u) + float(s), int(m) / 1024
    if server:
        after = proc_cpu_rss(pid) if pid and server_pid() == pid else None
        if before is None or after is None:
            if case != "warmup":
                raise SystemExit(f"{tool} {case}: no MSBuild server ran before and after this build (warm it up first)")
        else:
            cpu, rss = cpu + after[0] - before[0], max(rss, after[1])
    row = dict(case=case, tool=tool, rep=rep, wall_s=round(wall, 4), cpu_s=round(cpu, 3),
               peak_rss_mb=round(rss, 1), stages_run=stages, rc=p.returncode)
    RAW.append(row)
    log(f"  {case:28s} {tool:14s} rep {rep}: {wall:8.3f} s  rss {row['peak_rss_mb']:7.1f} MB  stages {stages}")
    return row


def kdgat_ran(cwd, _out):
    r = json.load(open(os.path.join(cwd, ".kdgat", "last-build.json")))
    return sum(1 for s in r["stages"] if s["outcome"] in ("ran", "restored"))


def snakemake_ran(_cwd, out):
    return sum(1 for l in out.splitlines() if l.startswith("rule "))


def make_ran(_cwd, out):
    return sum(1 for l in out.splitlines() if l.startswith("RUN "))


def gen(tool, n, out, **kw):
    if os.path.exists(out):
        shutil.rmtree(out)
    args = [sys.executable, GEN, "--tool", tool, "--datasets", str(n), "--out", out]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    subprocess.run(args, check=True)


def reset(ws, tool):
    for d in ["experimentruns", "data/cache", ".kdgat", ".snakemake"]:
        shutil.rmtree(os.path.join(ws, d), ignore_errors=True)


# How each tool builds, checks (no-op) and counts.
BUILD = {"kdgat": (KDGAT, kdgat_ran), "snakemake": (["snakemake", "-c2"], snakemake_ran),
         "make": (["make", "-j2"], make_ran)}
NOOP = {"kdgat": (KDGAT, kdgat_ran), "snakemake": (["snakemake", "-n"], None), "make": (["make", "-j2"], make_ran)}


# KdGat's no-op without its no-op certificate (README "No-op certificate"): the full content check
# every time, as before the certificate; "kdgat" rows are the default, which a settled no-op certifies.
NO_CERT = "kdgat (no certificate)"
NO_CERT_ENV = {"KDGAT_NOOP_CERTIFICATE": "off"}


def rotate(xs, i):
    i %= len(xs)
    return xs[i:] + xs[:i]


def server_case(case, kdgat_ws, snakemake_ws, empty_ws, warmups, reps):
    """KdGat's no-op and the empty project through one MSBuild server, warmed up first by `warmups`
    builds of each (loaded and tiered up), interleaved with `snakemake -n`; the server is shut down
    before and after."""
    shutdown_server()
    for r in range(warmups):
        run(KDGAT, kdgat_ws, "warmup", "kdgat", r, server=True)
        run(EMPTY, empty_ws, "warmup", "empty project", r, server=True)
    for r in range(reps):
        for t, ws in rotate([("kdgat", kdgat_ws), ("snakemake", snakemake_ws), ("empty project", empty_ws)], r):
            if t == "snakemake":
                run(NOOP[t][0], ws, case, t, r)
            else:
                run(EMPTY if t == "empty project" else KDGAT, ws, case, t, r, count=NOOP.get(t, (None, None))[1], server=True)
    shutdown_server()


def touch_all(ws):
    # every file of the data and the run dirs, in directory order (as a copy or checkout would)
    for d in ["data", "experimentruns"]:
        for root, _, files in os.walk(os.path.join(ws, d)):
            for f in files:
                os.utime(os.path.join(root, f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes, fewer repetitions")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--big", type=int, help="datasets for the large no-op (default 600; quick 60)")
    ap.add_argument("--hash-gb", type=float, help="GB for the hashing case (default 10; quick 1)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    a = ap.parse_args()
    reps = a.reps or (3 if a.quick else 5)
    big = a.big or (60 if a.quick else 600)
    hash_gb = a.hash_gb or (1.0 if a.quick else 10.0)
    notes = []
    free = shutil.disk_usage(a.out if os.path.exists(a.out) else HERE).free / 1e9
    if free < 25 + hash_gb and hash_gb > 4:
        notes.append(f"hashing case scaled down from {hash_gb:g} GB to 4 GB: only {free:.0f} GB free")
        hash_gb = 4.0
    work = os.path.join(a.out, "work")
    os.makedirs(work, exist_ok=True)
    started = time.time()

    # ---- warm-up: bootstrap the tools once (not counted) ----
    log("warm-up: bootstrap KdGat's tools")
    subprocess.run(["dotnet", "msbuild", os.path.join(REPO, "pipeline.proj"), "-t:_KdGatBootstrap", "-nologo", "-v:q"], check=True)

    tools = ["kdgat", "snakemake", "make"]
    ws6 = {t: os.path.join(work, f"w6-{t}") for t in tools}
    for t in tools:
        gen(t, 6, ws6[t])
    # untimed warm-up builds (JIT/disk caches, snakemake's bytecode), then reset
    for t in tools:
        run(BUILD[t][0], ws6[t], "warmup", t, 0)
        reset(ws6[t], t)

    # ---- case 1: full cold run, 6 datasets (78 stages) ----
    log("case 1: cold build, 6 datasets")
    for r in range(reps):
        for t in rotate(tools, r):
            reset(ws6[t], t)
            run(BUILD[t][0], ws6[t], "1 cold 6ds", t, r, count=BUILD[t][1])
    # ---- case 2a: no-op, 6 datasets; and the empty-project floor, interleaved with it ----
    log("case 2: no-op, 6 datasets")
    we0 = os.path.join(work, "wempty")
    os.makedirs(we0, exist_ok=True)
    open(os.path.join(we0, "empty.proj"), "w").write(EMPTY_PROJECT)
    shutil.copy(os.path.join(ws6["kdgat"], "Directory.Build.rsp"), we0)
    run(EMPTY, we0, "warmup", "empty project", 0)
    for r in range(reps + 2):
        for t in rotate(tools + ["empty project", NO_CERT], r):
            if t == "empty project":
                run(EMPTY, we0, "2 no-op 6ds", t, r)
            elif t == NO_CERT:
                run(KDGAT, ws6["kdgat"], "2 no-op 6ds", t, r, env=NO_CERT_ENV, count=kdgat_ran)
            else:
                run(NOOP[t][0], ws6[t], "2 no-op 6ds", t, r, count=NOOP[t][1])
    # snakemake's no-op with a real build (`snakemake -c2`, not -n), for reference
    for r in range(reps):
        run(["snakemake", "-c2"], ws6["snakemake"], "2 no-op 6ds (snakemake -c2)", "snakemake", r, count=snakemake_ran)
    # The same no-op through the MSBuild server, with the empty project through it too (the floor
    # then is the server's); warm-up builds first so the server has loaded and tiered up both.
    log("case 2s: no-op, 6 datasets, MSBuild server")
    server_case("2s no-op 6ds, MSBuild server", ws6["kdgat"], ws6["snakemake"], we0, warmups=6, reps=reps + 2)
    # KdGat without run tracking (the SQLite index around each build), to show its share
    for r in range(reps):
        run(KDGAT + ["-p:KdGatTracking=false"], ws6["kdgat"], "2 no-op 6ds (tracking off)", "kdgat", r, count=kdgat_ran)
    # ---- case 3: touch every file, then build ----
    log("case 3: touch every file, build")
    for r in range(reps):
        for t in rotate(tools, r):
            touch_all(ws6[t])
            run(BUILD[t][0], ws6[t], "3 touch all, build", t, r, count=BUILD[t][1])
    # 3b: touch only the raw inputs (what a fresh copy of the data does to time-based tools)
    for r in range(reps):
        for t in rotate(tools, r):
            for root, _, files in os.walk(os.path.join(ws6[t], "data/automotive")):
                for f in files:
                    os.utime(os.path.join(root, f))
            run(BUILD[t][0], ws6[t], "3b touch raw inputs, build", t, r, count=BUILD[t][1])
    # ---- case 4: one input changed ----
    log("case 4: one raw input changed, build")
    for r in range(reps):
        for t in rotate(tools, r):
            with open(os.path.join(ws6[t], "data/automotive/ds0000/frames.csv"), "a") as f:
                f.write(f"frame {r} {time.time()}\n")
            run(BUILD[t][0], ws6[t], "4 one input changed", t, r, count=BUILD[t][1])

    # ---- case 2b: no-op, `big` datasets ----
    log(f"case 2b: no-op, {big} datasets ({big * 13} stages)")
    wk, wp = os.path.join(work, "wbig-kdgat"), os.path.join(work, "wbig-peers")
    gen("kdgat", big, wk)
    gen("make", big, wp)
    gen("snakemake", big, wp + "-sm")  # Snakefile only; it shares the make workspace's files
    shutil.copy(os.path.join(wp + "-sm", "Snakefile"), os.path.join(wp, "Snakefile"))
    shutil.rmtree(wp + "-sm")
    run(BUILD["kdgat"][0], wk, f"1b cold {big}ds (n=1)", "kdgat", 0, count=kdgat_ran)
    # Snakemake's scheduler needs tens of minutes for 7,800 jobs, so its outputs are made by make
    # with the same commands and paths; `snakemake -n` then checks them (without .snakemake
    # metadata: a lower bound for its no-op; see README).
    run(BUILD["make"][0], wp, f"1b cold {big}ds (n=1)", "make", 0, count=make_ran)
    for r in range(reps):
        for t, ws in rotate([("kdgat", wk), ("snakemake", wp), ("make", wp), ("empty project", we0), (NO_CERT, wk)], r):
            if t == NO_CERT:
                run(KDGAT, ws, f"2b no-op {big}ds", t, r, env=NO_CERT_ENV, count=kdgat_ran)
            else:
                run(EMPTY if t == "empty project" else NOOP[t][0], ws, f"2b no-op {big}ds", t, r, count=NOOP.get(t, (None, None))[1])
    # 2bs: the same through the MSBuild server (see 2s), snakemake -n interleaved for the ratio
    server_case(f"2bs no-op {big}ds, MSBuild server", wk, wp, we0, warmups=4, reps=reps)

    # ---- case 5: hashing ----
    log(f"case 5: hashing {hash_gb:g} GB")
    wh, w1 = os.path.join(work, "whash"), os.path.join(work, "w1")
    nbytes = int(hash_gb * 1e9)
    gen("kdgat", 1, wh, raw_bytes=nbytes, raw_files=max(1, int(hash_gb)))
    gen("kdgat", 1, w1)
    run(KDGAT, w1, "5 setup", "kdgat", 0)
    rawdir = os.path.join(wh, "data/automotive/ds0000")
    files = sorted(os.path.join(rawdir, f) for f in os.listdir(rawdir))
    for r in range(reps):
        run(["sh", "-c", "cat \"$@\" > /dev/null", "cat"] + files, wh, "5 read (cat > /dev/null)", "cat", r)
        reset(wh, "kdgat")
        run(KDGAT, wh, "5 hash cold (first build)", "kdgat", r, count=kdgat_ran)
        # the same 13 stages from scratch without the data: what the cold build costs besides hashing
        reset(w1, "kdgat")
        run(KDGAT, w1, "5 cold 1ds, no data", "kdgat", r, count=kdgat_ran)
        if r == 0:  # the device read is slow and the same every time: once
          run(["sh", "-c", "for f; do dd if=\"$f\" of=/dev/null bs=4M iflag=direct status=none; done", "dd"] + files, wh,
            "5 read O_DIRECT (dd)", "dd", r, check=False)
    for r in range(reps):
        run(KDGAT, wh, "5 warm no-op with data", "kdgat", r, count=kdgat_ran)
        run(KDGAT, w1, "5 no-op 1ds, no data", "kdgat", r, count=kdgat_ran)
    xx = subprocess.run(["dotnet", "run", os.path.join(HERE, "xxhash.cs"), "--", "1024", str(reps)], cwd=work,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    xxhash_gibs = float(xx.stdout.strip().splitlines()[-1]) if xx.returncode == 0 else None

    # ---- end to end: the real sample stages, 1 dataset (n=1) ----
    log("end to end: sample stages")
    we = os.path.join(work, "wsample")
    shutil.rmtree(we, ignore_errors=True)
    os.makedirs(we)
    for f in ["pipeline.proj", "kdgat.yaml", "Directory.Build.rsp"]:
        shutil.copy(os.path.join(REPO, f), we)
    for d in ["targets", "models"]:
        shutil.copytree(os.path.join(REPO, d), os.path.join(we, d))
    e2e_ds = "hcrl_sa"
    run(KDGAT + [f"-p:Dataset={e2e_ds}"], we, f"e2e sample {e2e_ds} cold (n=1)", "kdgat", 0, count=kdgat_ran)
    run(KDGAT + [f"-p:Dataset={e2e_ds}"], we, f"e2e sample {e2e_ds} no-op (n=1)", "kdgat", 0, count=kdgat_ran)

    # ---- case 7: SLURM ----
    slurm_script = os.path.join(REPO, "scripts/slurm/bench-slurm.sh")
    slurm = "SLURM: not measured (executor/cluster not available)"
    if os.path.exists(slurm_script) and shutil.which("sbatch") and \
            subprocess.run(["sbatch", "--version"], capture_output=True).returncode == 0:
        p = subprocess.run(["bash", slurm_script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        slurm = "SLURM (scripts/slurm/bench-slurm.sh):\n\n```\n" + p.stdout.strip() + "\n```"

    elapsed = time.time() - started
    write(a, reps, big, hash_gb, nbytes, xxhash_gibs, slurm, notes, elapsed)


def med(case, tool, key="wall_s"):
    xs = [r[key] for r in RAW if r["case"] == case and r["tool"] == tool and r[key] != ""]
    return statistics.median(xs) if xs else None


def fmt(x, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float):
        return (f"{x:.3f}" if x < 10 else f"{x:.1f}") + unit
    return f"{x}{unit}"


def write(a, reps, big, hash_gb, nbytes, xxhash_gibs, slurm, notes, elapsed):
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "raw.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(RAW[0].keys()))
        w.writeheader()
        w.writerows(RAW)
    cases = []
    for r in RAW:
        if r["case"] not in cases and r["case"] not in ("warmup", "5 setup"):
            cases.append(r["case"])
    L = [f"# KdGat benchmark ({'quick' if a.quick else 'full'})", "",
         f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}; {reps} repetitions per case, tools interleaved "
         f"(order rotated each repetition); medians. Run time {elapsed / 60:.1f} min.", ""]
    L += [f"- {n}" for n in notes]
    L += ["| case | tool | wall s (median) | minus empty project | vs snakemake | vs make | CPU s | CPU minus empty project | stages run | peak RSS MB | n |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        tl = []
        for r in RAW:
            if r["case"] == c and r["tool"] not in tl:
                tl.append(r["tool"])
        sm, mk = med(c, "snakemake"), med(c, "make")
        fw, fc = med(c, "empty project"), med(c, "empty project", "cpu_s")
        for t in tl:
            m = med(c, t)
            net = fmt(m - fw) if fw is not None and t in ("kdgat", NO_CERT) else ""
            netc = fmt(med(c, t, "cpu_s") - fc) if fc is not None and t in ("kdgat", NO_CERT) else ""
            n = sum(1 for r in RAW if r["case"] == c and r["tool"] == t)
            runs = sorted({r["stages_run"] for r in RAW if r["case"] == c and r["tool"] == t and r["stages_run"] != ""})
            L.append(f"| {c} | {t} | {fmt(m)} | {net} | {fmt(m / sm, 'x') if sm and t != 'snakemake' else ''} | "
                     f"{fmt(m / mk, 'x') if mk and t != 'make' else ''} | {fmt(med(c, t, 'cpu_s'))} | {netc} | "
                     f"{'/'.join(map(str, runs))} | {fmt(med(c, t, 'peak_rss_mb'))} | {n} |")
    gb = nbytes / 1e9
    cat, cold, dd = med("5 read (cat > /dev/null)", "cat"), med("5 hash cold (first build)", "kdgat"), med("5 read O_DIRECT (dd)", "dd")
    warm, small = med("5 warm no-op with data", "kdgat"), med("5 no-op 1ds, no data", "kdgat")
    cold0 = med("5 cold 1ds, no data", "kdgat")
    L += ["", f"## Hashing ({gb:g} GB in {max(1, int(hash_gb))} files)", "",
          "| | GB/s |", "|---|---:|",
          f"| read bandwidth, `cat > /dev/null` (page cache warm: the data was just written) | {fmt(gb / cat if cat else None)} |",
          f"| read bandwidth, `dd iflag=direct` (device, no page cache) | {fmt(gb / dd if dd else None)} |",
          f"| XxHash128 in memory, one thread | {fmt(xxhash_gibs * 1.073741824 if xxhash_gibs else None)} |",
          f"| KdGat cold build (whole build: MSBuild start, 13 stages, hash of all data) | {fmt(gb / cold if cold else None)} |",
          "", f"- cold build / cat: {fmt(cat / cold if cold and cat else None, 'x')} of read bandwidth"
          f" (goal >= 0.8x); same build net of a no-op ({fmt(small)} s): {fmt(cat / (cold - small) if cold and small and cold > small else None, 'x')}",
          f"- hashing alone (cold build minus the same cold build without the data, {fmt(cold0)} s):"
          f" {fmt(gb / (cold - cold0) if cold and cold0 and cold > cold0 else None)} GB/s,"
          f" {fmt(cat / (cold - cold0) if cold and cold0 and cat and cold > cold0 else None, 'x')} of `cat`",
          f"- warm no-op with {gb:g} GB minus no-op without: {fmt(warm - small if warm and small else None)} s (goal < 0.1 s)", "",
          "## Goals", ""]
    n6k, n6s = med("2 no-op 6ds", "kdgat"), med("2 no-op 6ds", "snakemake")
    nbk, nbs = med(f"2b no-op {big}ds", "kdgat"), med(f"2b no-op {big}ds", "snakemake")
    n6e = med("2 no-op 6ds", "empty project")

    def goal(ok):
        return "met" if ok else "NOT met"
    if n6k and n6s:
        L.append(f"- no-op 6 datasets no slower than `snakemake -n`: {fmt(n6k)} s vs {fmt(n6s)} s: {goal(n6k <= n6s)}")
    if n6k and n6e:
        L.append(f"- no-op 6 datasets, KdGat's own cost (minus `dotnet msbuild` of an empty project, {fmt(n6e)} s) <= 0.1 s: "
                 f"{fmt(n6k - n6e)} s: {goal(n6k - n6e <= 0.1)}")
    if nbk and nbs:
        L.append(f"- no-op {big} datasets at most half of `snakemake -n`: {fmt(nbk)} s vs {fmt(nbs)} s "
                 f"({fmt(nbk / nbs, 'x')}): {goal(nbk <= nbs / 2)}")
        L.append(f"- no-op {big} datasets at most 0.25x `snakemake -n`: {fmt(nbk / nbs, 'x')}: {goal(nbk <= nbs / 4)}")
    s6k, s6e = med("2s no-op 6ds, MSBuild server", "kdgat"), med("2s no-op 6ds, MSBuild server", "empty project")
    sbk, sbs = med(f"2bs no-op {big}ds, MSBuild server", "kdgat"), med(f"2bs no-op {big}ds, MSBuild server", "snakemake")
    if s6k and s6e:
        L.append(f"- with the MSBuild server (opt-in): no-op 6 datasets, KdGat's own cost (minus an empty project through "
                 f"the same server, {fmt(s6e)} s) <= 0.1 s: {fmt(s6k - s6e)} s: {goal(s6k - s6e <= 0.1)}")
    if sbk and sbs:
        L.append(f"- with the MSBuild server (opt-in): no-op {big} datasets at most 0.25x `snakemake -n`: {fmt(sbk)} s vs "
                 f"{fmt(sbs)} s ({fmt(sbk / sbs, 'x')}): {goal(sbk <= sbs / 4)}")
    c6, cb = med("2 no-op 6ds", NO_CERT), med(f"2b no-op {big}ds", NO_CERT)
    if c6 and n6e and cb and nbs:
        L.append(f"- for comparison, without the no-op certificate (the full check every time): 6 datasets KdGat's own cost "
                 f"{fmt(c6 - n6e)} s; {big} datasets {fmt(cb)} s, {fmt(cb / nbs, 'x')} of `snakemake -n`")
    if cold and cat:
        L.append(f"- cold hashing >= 0.8x read bandwidth: {fmt(cat / cold, 'x')}: {goal(cat / cold >= 0.8)}")
    if warm and small:
        L.append(f"- warm no-op over {gb:g} GB adds < 0.1 s: +{fmt(warm - small)} s: {goal(warm - small < 0.1)}")
    L += ["", slurm, ""]
    text = "\n".join(L)
    open(os.path.join(a.out, "results.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
