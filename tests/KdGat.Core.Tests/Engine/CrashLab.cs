using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// A two-stage pipeline (a writes a file in its run dir and a directory in the cache dir; b reads
/// a) for crash tests: templates of its states to copy, builds with a crash plan, and snapshots of
/// everything a result consists of (outputs and params.json; not manifests, logs or records,
/// which carry build ids and times).
/// </summary>
internal static class CrashLab
{
    public static readonly IReadOnlyList<StageDeclaration> Stages = [new("a", []), new("b", ["a"])];

    public static string Yaml(string v, bool cache, string aPrefix = "", string bPrefix = "") => $$"""
        datasets: [d1]
        paths:
          runs: runs
          raw: raw/{dataset}
          cache: cache/{dataset}
        cache_store: {{(cache ? "store" : "off")}}
        defaults: { retries: 0 }
        stages:
          a:
            command: '{{aPrefix}}mkdir -p {cache_dir} && echo a {params.v} > {cache_dir}/g.bin && (echo a {params.v}; cat {params_file}) > model.ckpt'
            params: { v: '{{v}}' }
            outputs: [model.ckpt, '{cache_dir}']
          b:
            command: '{{bPrefix}}(echo b; cat {upstream.a}/model.ckpt) > out.txt'
            outputs: [out.txt]
        """;

    /// <summary>A fresh pipeline root in a temp dir (raw data only).</summary>
    public static TempDir NewRoot(string yaml)
    {
        var d = new TempDir();
        d.Write("kdgat.yaml", yaml);
        d.Write("raw/d1/frames.csv", "frames\n");
        return d;
    }

    public static void SetConfig(TempDir d, string yaml) => File.WriteAllText(d["kdgat.yaml"], yaml);

    /// <summary>Copies a whole pipeline root (manifests hold root-relative paths, so the copy is as built as the original).</summary>
    public static TempDir Copy(TempDir template)
    {
        var d = new TempDir();
        CopyTree(template.Path, d.Path);
        return d;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from))
            if (!f.EndsWith("/lock", StringComparison.Ordinal)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var sub in Directory.EnumerateDirectories(from)) CopyTree(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    /// <summary>One build (one dataset, one stage at a time, so the operation order is the same every time) under a crash plan.</summary>
    public static BuildRequest Request(TempDir root, BuildMode mode = BuildMode.Build) =>
        new() { Root = root.Path, ConfigFile = "kdgat.yaml", ToolsDir = root["tools"], Stages = Stages, MaxParallelStages = 1, Mode = mode };

    public static async Task<BuildReport> BuildAsync(TempDir root, CrashPoints.Plan? plan = null, RecordingLog? log = null)
    {
        CrashPoints.Current = plan; // flows into this build's tasks only
        try
        {
            return await new BuildEngine().RunAsync(Request(root), log ?? new RecordingLog(), CancellationToken.None);
        }
        finally
        {
            CrashPoints.Current = null;
        }
    }

    /// <summary>The numbered file operations of a build from a copy of <paramref name="template"/> with config <paramref name="yaml"/>.</summary>
    public static async Task<List<string>> OperationsAsync(TempDir template, string yaml)
    {
        using var d = Copy(template);
        SetConfig(d, yaml);
        var counting = new CrashPoints.Plan(0, CrashPoints.Mode.Crash);
        var r = await BuildAsync(d, counting);
        Assert.True(r.Succeeded);
        return counting.Seen;
    }

    /// <summary>The operation number at which <paramref name="stage"/>'s attempt commits: the rename of its run record.</summary>
    public static int CommitOperation(List<string> ops, string stage) =>
        ops.FindIndex(o => o.Contains(" rename ", StringComparison.Ordinal) && o.Contains($"/.kdgat/records/d1/{stage}/", StringComparison.Ordinal)) + 1;

    /// <summary>Every file of the result, relative path to content.</summary>
    public static SortedDictionary<string, string> Snapshot(TempDir d)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in new[] { "runs/d1/a", "runs/d1/b", "cache/d1" })
        {
            if (!Directory.Exists(d[dir])) continue;
            foreach (var f in Directory.EnumerateFiles(d[dir], "*", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(d.Path, f);
                // A temp file of a write the in-process "crash" interrupted carries this (live) process's id, so only a real restart would remove it.
                if (rel.Contains("/logs/", StringComparison.Ordinal) || rel.EndsWith(StageInstance.ManifestFileName, StringComparison.Ordinal)
                    || AtomicFile.IsTempName(Path.GetFileName(f))) continue;
                result[rel] = File.ReadAllText(f);
            }
        }
        return result;
    }

    public static string[] With(BuildReport r, string outcome) =>
        r.Stages.Where(s => s.Outcome == outcome).Select(s => s.Stage).Order(StringComparer.Ordinal).ToArray();
}
