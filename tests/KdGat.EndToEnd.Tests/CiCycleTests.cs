using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// The CI recipe of the README, with real msbuild: job A builds and saves the caches it names
/// (.kdgat/tools, .kdgat/store, optionally the full state), job B restores them in a clone at
/// another path. Clones here carry src/ (so the tools bootstrap really checks its stamp) and
/// generate their raw data inside the clone.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CiCycleTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "kdgat-ci-cache-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_cache, recursive: true); } catch (IOException) { }
    }

    private static readonly string[] GatSubtree =
    [
        "hcrl_sa/dqn_large_fusion", "hcrl_sa/dqn_small_fusion_kd", "hcrl_sa/eval_large_evaluation",
        "hcrl_sa/eval_small_evaluation_kd", "hcrl_sa/gat_large_curriculum", "hcrl_sa/gat_small_curriculum_kd",
    ];

    /// <summary>A checkout as CI has it: pipeline, config, models and the tool sources.</summary>
    private static Sandbox Checkout()
    {
        var s = Sandbox.Trivial();
        Sandbox.CopyTree(Path.Combine(Repo.Root, "src"), Path.Combine(s.Dir, "src"));
        foreach (var f in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.Copy(Path.Combine(Repo.Root, f), Path.Combine(s.Dir, f));
        return s;
    }

    /// <summary>The README command, with the tools in the clone's own .kdgat/tools (bootstrap on, as in CI).</summary>
    private static ProcessResult Build(Sandbox s) =>
        ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-nologo", "-v:m", "-p:Dataset=hcrl_sa"], s.Dir, TimeSpan.FromMinutes(5), s.Env);

    private static void Copy(string from, string to) => Sandbox.CopyTree(from, to);

    private static string[] Files(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f) + "=" + new FileInfo(f).Length)
            .Order(StringComparer.Ordinal).ToArray();

    /// <summary>Job A: a clone whose tools cache was already warm (a previous run), builds and saves tools and store.</summary>
    private Sandbox JobA()
    {
        var a = Checkout();
        Copy(Tools.Path, Path.Combine(a.Dir, ".kdgat", "tools"));
        var r = Build(a);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("KdGat: building tools", r.Output);
        Assert.Equal(13, Sandbox.With(a.LastBuild(), Outcome.Ran).Length);
        Copy(Path.Combine(a.Dir, ".kdgat", "tools"), Path.Combine(_cache, "tools"));
        Copy(Path.Combine(a.Dir, ".kdgat", "store"), Path.Combine(_cache, "store"));
        return a;
    }

    [Fact]
    public void ToolsAndStoreRestoredInAnotherClone_CompileNothingRunNothing_AndAPullRequestChangeRunsItsSubtreeReadOnly()
    {
        using var a = JobA();

        using var b = Checkout();
        Copy(Path.Combine(_cache, "tools"), Path.Combine(b.Dir, ".kdgat", "tools"));
        Copy(Path.Combine(_cache, "store"), Path.Combine(b.Dir, ".kdgat", "store"));
        var restored = Build(b);

        Assert.True(restored.ExitCode == 0, restored.ToString());
        Assert.DoesNotContain("KdGat: building tools", restored.Output);
        Assert.False(Directory.Exists(Path.Combine(b.Dir, "src", "KdGat.Tasks", "obj")), "the tools were compiled again");
        Assert.Empty(Sandbox.With(b.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Sandbox.With(b.LastBuild(), Outcome.Restored).Length);

        // A pull-request job: read-only cache, one parameter changed.
        var store = Files(Path.Combine(b.Dir, ".kdgat", "store"));
        b.Env["KDGAT_CACHE_READONLY"] = "1";
        var gat = Path.Combine(b.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: 0.002"));
        var pr = Build(b);

        Assert.True(pr.ExitCode == 0, pr.ToString());
        Assert.Equal(GatSubtree, Sandbox.With(b.LastBuild(), Outcome.Ran));
        Assert.Equal(7, Sandbox.With(b.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(store, Files(Path.Combine(b.Dir, ".kdgat", "store")));
    }

    [Fact]
    public void FullStateRestoredInAnotherClone_IsUpToDate_AndKeepsNoRowOfTheOtherPath()
    {
        using var a = JobA();
        foreach (var dir in new[] { "experimentruns", "data/cache", ".kdgat" })
            Copy(Path.Combine(a.Dir, dir), Path.Combine(_cache, "state", dir));

        using var b = Checkout();
        foreach (var dir in new[] { "experimentruns", "data/cache", ".kdgat" })
            Copy(Path.Combine(_cache, "state", dir), Path.Combine(b.Dir, dir));
        var r = Build(b);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("KdGat: building tools", r.Output);
        Assert.Equal(13, Sandbox.With(b.LastBuild(), Outcome.UpToDate).Length);
        Assert.DoesNotContain(a.Dir, File.ReadAllText(Path.Combine(b.Dir, ".kdgat", "hash-cache.tsv")));
    }

    [Fact]
    public void MovedCheckout_HashesNothingAgain()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        // A second build settles the cache (linking outputs into the store changed their ctime after they were hashed;
        // rows of files changed within the racy margin of a build are not saved, so it waits that long first).
        Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
        var cacheFile = Path.Combine(s.Dir, ".kdgat", "hash-cache.tsv");
        var before = File.ReadAllText(cacheFile);
        var moved = s.Dir + "-moved";
        Directory.Move(s.Dir, moved); // a rename keeps inodes and ctimes: every row must still hit
        try
        {
            var r = ProcessRunner.Run("dotnet", s.MSBuildArgs(["-p:Dataset=hcrl_sa"]), moved, TimeSpan.FromMinutes(5), s.Env);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(13, Sandbox.With(BuildReport.Read(Path.Combine(moved, ".kdgat", "last-build.json"))!, Outcome.UpToDate).Length);
            Assert.Equal(before, File.ReadAllText(Path.Combine(moved, ".kdgat", "hash-cache.tsv"))); // no miss, so no rewrite
        }
        finally { Directory.Move(moved, s.Dir); }
    }
}
