#!/usr/bin/env python3
"""Writes a benchmark workspace: the KD-GAT DAG (13 stages a dataset) for N datasets with trivial
stage commands, for one tool: kdgat (pipeline.proj + kdgat.yaml), snakemake (Snakefile) or make
(Makefile). The trivial commands are the ones tests/KdGat.Testing/Sandbox.cs uses: every stage
concatenates what it reads (params, graph cache, upstream models) into its outputs, so a changed
input propagates downstream and the orchestrator, not the stage, is what is measured.

  gen.py --tool kdgat --datasets 6 --out DIR [--raw-bytes N] [--raw-files K]
"""
import argparse, os, re, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# The DAG of pipeline.proj: stage -> (upstream stages it reads, teacher or None, kind)
STAGES = [
    ("preprocess", [], None, "pre"),
    ("vgae_large_autoencoder", ["preprocess"], None, "train"),
    ("gat_large_curriculum", ["vgae_large_autoencoder"], None, "train"),
    ("dqn_large_fusion", ["vgae_large_autoencoder", "gat_large_curriculum"], None, "train"),
    ("vgae_small_autoencoder_kd", ["preprocess"], "vgae_large_autoencoder", "train"),
    ("gat_small_curriculum_kd", ["vgae_small_autoencoder_kd"], "gat_large_curriculum", "train"),
    ("dqn_small_fusion_kd", ["vgae_small_autoencoder_kd", "gat_small_curriculum_kd"], "dqn_large_fusion", "train"),
    ("vgae_small_autoencoder", ["preprocess"], None, "train"),
    ("gat_small_curriculum", ["vgae_small_autoencoder"], None, "train"),
    ("dqn_small_fusion", ["vgae_small_autoencoder", "gat_small_curriculum"], None, "train"),
    ("eval_large_evaluation", ["vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion"], None, "eval"),
    ("eval_small_evaluation_kd", ["vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd"], None, "eval"),
    ("eval_small_evaluation", ["vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion"], None, "eval"),
]
PARAMS = {  # params file each training stage reads (as in kdgat.yaml)
    "vgae_large_autoencoder": "models/vgae/large.yaml", "gat_large_curriculum": "models/gat/large.yaml",
    "dqn_large_fusion": "models/dqn/large.yaml", "vgae_small_autoencoder_kd": "models/vgae/small.yaml",
    "gat_small_curriculum_kd": "models/gat/small.yaml", "dqn_small_fusion_kd": "models/dqn/small.yaml",
    "vgae_small_autoencoder": "models/vgae/small.yaml", "gat_small_curriculum": "models/gat/small.yaml",
    "dqn_small_fusion": "models/dqn/small.yaml",
}


def datasets(n):
    return [f"ds{i:04d}" for i in range(n)]


def write_raw(out, names, raw_bytes, raw_files):
    """Raw data per dataset: frames.csv (tiny), or raw_files files of raw_bytes/raw_files bytes
    (checkpoint-like: incompressible random bytes) for the hashing case."""
    for d in names:
        rd = os.path.join(out, "data", "automotive", d)
        os.makedirs(rd, exist_ok=True)
        if raw_bytes:
            per = raw_bytes // raw_files
            chunk = os.urandom(1 << 24)
            for k in range(raw_files):
                with open(os.path.join(rd, f"shard{k:03d}.ckpt"), "wb") as f:
                    left = per
                    while left > 0:
                        # vary each chunk a little so no two files or chunks are identical
                        b = chunk[: min(left, len(chunk))]
                        f.write(k.to_bytes(8, "little") + left.to_bytes(8, "little") + b[16:])
                        left -= len(b)
        with open(os.path.join(rd, "frames.csv"), "w") as f:
            f.write(f"frames of {d}\n")


def kdgat(out, names):
    for f in ["pipeline.proj", "Directory.Build.rsp"]:
        shutil.copy(os.path.join(REPO, f), os.path.join(out, f))
    for d in ["targets", "models"]:
        shutil.copytree(os.path.join(REPO, d), os.path.join(out, d), dirs_exist_ok=True)
    c = open(os.path.join(REPO, "kdgat.yaml")).read()
    c = re.sub(r"^datasets: .*$", "datasets: [" + ", ".join(names) + "]", c, flags=re.M)
    c = c.replace("generator: '{vars.sample} generate --dataset {dataset} --out {raw_dir}'",
                  "generator: 'mkdir -p {raw_dir} && printf \"frames of %s\\n\" {dataset} > {raw_dir}/frames.csv'")
    # preprocess reads frames.csv only; with --raw-bytes the raw dir is a large declared input
    # (hashed, never read by the command), as a directory of checkpoints would be.
    c = re.sub(r"command: '\{vars\.sample\} preprocess[^']*'",
               "command: 'mkdir -p {cache_dir} && cat {raw_dir}/frames.csv {params_file} > {cache_dir}/graphs.bin'", c)

    def train(m):
        reads = [u + "/model.ckpt" for u in re.findall(r"\{(?:upstream\.\w+|teacher)\}", m.group(0))]
        if m.group(1) == "evaluate":
            return ("command: 'printf \"{{\\\"f1\\\": 0.5, \\\"bytes\\\": %s}}\" $(cat " + " ".join(reads)
                    + " | wc -c) > metrics.json'")
        return "command: 'cat {params_file} {cache_dir}/graphs.bin " + " ".join(reads) + " > model.ckpt && echo {stage} > train_log.json && : > curves.jsonl'"
    c = re.sub(r"command: '\{vars\.sample\} (autoencoder|curriculum|fusion|evaluate)[^']*'", train, c)
    open(os.path.join(out, "kdgat.yaml"), "w").write(c)


def rd(stage):
    return f"experimentruns/{{dataset}}/{stage}"


def out_of(stage, kind):
    if kind == "pre":
        return "data/cache/{dataset}/graphs.bin"
    if kind == "eval":
        return rd(stage) + "/metrics.json"
    return rd(stage) + "/model.ckpt"


def recipe(stage, ups, teacher, kind):
    """(inputs, shell) with {dataset} placeholders: the same trivial command as the KdGat config."""
    reads = [rd(u) + "/model.ckpt" for u in ups + ([teacher] if teacher else []) if u != "preprocess"]
    if kind == "pre":
        ins = ["data/automotive/{dataset}/frames.csv"]
        return ins, "mkdir -p data/cache/{dataset} && echo window=50 stride=25 | cat data/automotive/{dataset}/frames.csv - > data/cache/{dataset}/graphs.bin"
    if kind == "eval":
        return reads, ("mkdir -p " + rd(stage) + " && printf '{{\"f1\": 0.5, \"bytes\": %s}}' $(cat " + " ".join(reads)
                       + " | wc -c) > " + rd(stage) + "/metrics.json")
    ins = [PARAMS[stage], "data/cache/{dataset}/graphs.bin"] + reads
    return ins, ("mkdir -p " + rd(stage) + " && cat " + " ".join(ins) + " > " + rd(stage) + "/model.ckpt && echo "
                 + stage + " > " + rd(stage) + "/train_log.json")


def snakefile(out, names):
    shutil.copytree(os.path.join(REPO, "models"), os.path.join(out, "models"), dirs_exist_ok=True)
    lines = ["# Generated by bench/gen.py: the KD-GAT DAG with trivial commands.",
             "DATASETS = " + repr(names), ""]
    finals = [out_of(s, k).replace("{dataset}", "{d}") for s, _, _, k in STAGES if k == "eval"]
    lines += ["rule all:", "    input: " + ", ".join(f"expand('{f}', d=DATASETS)" for f in finals), ""]
    for s, ups, t, k in STAGES:
        ins, sh = recipe(s, ups, t, k)
        outs = [out_of(s, k)] + ([rd(s) + "/train_log.json"] if k == "train" else [])
        lines += [f"rule {s}:",
                  "    input: " + ", ".join(repr(i) for i in ins),
                  "    output: " + ", ".join(repr(o) for o in outs),
                  "    shell: " + repr(sh.replace("{", "{{").replace("}", "}}").replace("{{dataset}}", "{wildcards.dataset}")), ""]
    open(os.path.join(out, "Snakefile"), "w").write("\n".join(lines))


def makefile(out, names):
    shutil.copytree(os.path.join(REPO, "models"), os.path.join(out, "models"), dirs_exist_ok=True)
    finals = [out_of(s, k) for s, _, _, k in STAGES if k == "eval"]
    lines = ["# Generated by bench/gen.py: the KD-GAT DAG with trivial commands (pattern rules, % = dataset).",
             "DATASETS := " + " ".join(names), "",
             "all: " + " ".join(f"$(patsubst %,{f.replace('{dataset}', '%')},$(DATASETS))" for f in finals), "",
             ".SUFFIXES:", ".DELETE_ON_ERROR:", ""]
    for s, ups, t, k in STAGES:
        ins, sh = recipe(s, ups, t, k)
        sh = sh.replace("$", "$$").replace("{dataset}", "$*")
        lines += [out_of(s, k).replace("{dataset}", "%") + ": " + " ".join(i.replace("{dataset}", "%") for i in ins),
                  f"\t@echo RUN {s} $*; " + sh, ""]
    open(os.path.join(out, "Makefile"), "w").write("\n".join(lines))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tool", choices=["kdgat", "snakemake", "make"], required=True)
    p.add_argument("--datasets", type=int, default=6)
    p.add_argument("--out", required=True)
    p.add_argument("--raw-bytes", type=int, default=0, help="bytes of checkpoint-like raw data per dataset")
    p.add_argument("--raw-files", type=int, default=10)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names = datasets(a.datasets)
    write_raw(a.out, names, a.raw_bytes, a.raw_files)
    {"kdgat": kdgat, "snakemake": snakefile, "make": makefile}[a.tool](a.out, names)


if __name__ == "__main__":
    main()
