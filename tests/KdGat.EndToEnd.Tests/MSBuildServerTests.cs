using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// Builds through the real MSBuild server (DOTNET_CLI_USE_MSBUILD_SERVER=1, -nodeReuse:true): one
/// process runs build after build and keeps KdGat's task assemblies loaded, as a reused node or an
/// IDE does. MSBuild never loads the same path twice, so after the tools are rebuilt in place the
/// old code would judge staleness; the tasks must notice and stop (KDG1209). Its Dispose shuts the
/// user's MSBuild server down (there is one per user and SDK): run it where no one else uses one.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class MSBuildServerTests : IDisposable
{
    private readonly Sandbox _s = Sandbox.Trivial();
    private string ToolsCopy => Path.Combine(_s.Dir, "tools-copy");

    public MSBuildServerTests()
    {
        Directory.CreateDirectory(ToolsCopy);
        foreach (var file in Directory.EnumerateFiles(Tools.Path, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(ToolsCopy, Path.GetRelativePath(Tools.Path, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        _s.Env["DOTNET_CLI_USE_MSBUILD_SERVER"] = "1";
        // Both are set for every test build, and each keeps the client from using a server (dotnet test sets the second).
        _s.Env["MSBUILDDISABLENODEREUSE"] = "0";
        _s.Env["MSBUILDENSURESTDOUTFORTASKPROCESSES"] = "0";
    }

    public void Dispose()
    {
        ProcessRunner.Run("dotnet", ["build-server", "shutdown", "--msbuild"], _s.Dir, TimeSpan.FromMinutes(1), _s.Env);
        _s.Dispose();
    }

    private ProcessResult Build() => _s.Build("-nodeReuse:true", $"-p:KdGatToolsDir={ToolsCopy}/", "-p:Dataset=hcrl_sa");

    /// <summary>What the bootstrap does: a new file at the same path (MSBuild's Copy writes one; IdeTests).</summary>
    private void Replace(string name, string with)
    {
        var path = Path.Combine(ToolsCopy, name);
        File.Delete(path);
        File.Copy(with, path);
    }

    /// <summary>Whether a live process (the server) has this sandbox's copy of KdGat.Core mapped, i.e. loaded.</summary>
    private bool ServerHoldsTheTools()
    {
        var core = Path.Combine(ToolsCopy, "KdGat.Core.dll");
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId) continue;
            try { if (File.ReadAllText(Path.Combine(proc, "maps")).Contains(core, StringComparison.Ordinal)) return true; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // ended or not ours
        }
        return false;
    }

    /// <summary>
    /// The server keeps the manifests it parsed for its next build, by their bytes. A manifest
    /// rewritten between two builds with its size, inode and mtime kept (what a second writer on an
    /// NFS home with 1 s timestamps can leave) must be read as it now is: here its recorded output
    /// hash no longer matches its outputs digest, so the stage is damaged and brought up to date
    /// again (from the output cache: its outputs are the ones stored).
    /// </summary>
    [Fact]
    public void ManifestRewrittenBetweenServerBuilds_WithItsIdentityKept_IsReadAsItNowIs()
    {
        var first = Build();
        Assert.True(first.ExitCode == 0, first.ToString());
        for (var i = 0; i < 3 && !ServerHoldsTheTools(); i++) Assert.Equal(0, Build().ExitCode);
        Assert.True(ServerHoldsTheTools(), "no MSBuild server has KdGat's tasks loaded, so this test shows nothing\n" + first);
        var noop = Build(); // the server has now parsed every manifest of this pipeline
        Assert.True(noop.ExitCode == 0, noop.ToString());
        Assert.Empty(Sandbox.With(_s.LastBuild(), Outcome.Ran));

        var manifest = Path.Combine(_s.RunDir("hcrl_sa", "eval_large_evaluation"), "kdgat.manifest.json");
        var mtime = File.GetLastWriteTimeUtc(manifest);
        var text = File.ReadAllText(manifest);
        var hash = System.Text.RegularExpressions.Regex.Match(text, "\"hash\": \"([0-9a-f]{32})\"").Groups[1].Value;
        var other = new string(hash.Select(c => c == '0' ? '1' : '0').ToArray());
        using (var f = new FileStream(manifest, FileMode.Open, FileAccess.Write)) f.Write(System.Text.Encoding.UTF8.GetBytes(text.Replace(hash, other)));
        File.SetLastWriteTimeUtc(manifest, mtime);

        var after = Build();

        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Contains("KDG2001", after.Output);
        Assert.Equal(["hcrl_sa/eval_large_evaluation"], Sandbox.With(_s.LastBuild(), Outcome.Restored));
        Assert.Equal(12, Sandbox.With(_s.LastBuild(), Outcome.UpToDate).Length);
    }

    /// <summary>
    /// MSBuild's project cache in the server parses a project file again only when its time changed:
    /// pipeline.proj edited with its time kept (cp -p, rsync -a, touch -r) was evaluated as the old
    /// text, and a stage given one more upstream was reported up to date. Now KDG1229, nothing runs,
    /// until the file's time changes: then MSBuild reads it and the stage runs.
    /// </summary>
    [Fact]
    public void PipelineEditedUnderARunningServer_WithItsTimeKept_IsKdg1229_UntilItsTimeChanges()
    {
        var first = Build();
        Assert.True(first.ExitCode == 0, first.ToString());
        for (var i = 0; i < 3 && !ServerHoldsTheTools(); i++) Assert.Equal(0, Build().ExitCode);
        Assert.True(ServerHoldsTheTools(), "no MSBuild server has KdGat's tasks loaded, so this test shows nothing\n" + first);
        var noop = Build(); // the server has now evaluated pipeline.proj and planned from it
        Assert.True(noop.ExitCode == 0, noop.ToString());
        Assert.Empty(Sandbox.With(_s.LastBuild(), Outcome.Ran));

        var proj = Path.Combine(_s.Dir, "pipeline.proj");
        var time = File.GetLastWriteTimeUtc(proj);
        var text = File.ReadAllText(proj);
        var edited = text
            .Replace("<KdGatStage Include=\"eval_large_evaluation\" Needs=\"preprocess;", "<KdGatStage Include=\"eval_large_evaluation\" Needs=\"vgae_small_autoencoder;preprocess;")
            .Replace("<Target Name=\"eval_large_evaluation\" DependsOnTargets=\"preprocess_stage;", "<Target Name=\"eval_large_evaluation\" DependsOnTargets=\"vgae_small_autoencoder;preprocess_stage;");
        Assert.NotEqual(text, edited);
        File.WriteAllText(proj, edited);
        File.SetLastWriteTimeUtc(proj, time);
        var report = File.ReadAllBytes(Path.Combine(_s.Dir, ".kdgat", "last-build.json"));

        var stale = Build();

        Assert.NotEqual(0, stale.ExitCode);
        Assert.True(stale.Output.Contains("error KDG1229"), stale.ToString());
        Assert.Contains(proj, stale.Output);
        Assert.Equal(report, File.ReadAllBytes(Path.Combine(_s.Dir, ".kdgat", "last-build.json")));

        File.SetLastWriteTimeUtc(proj, time.AddSeconds(1)); // touch
        var again = Build();
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(["hcrl_sa/eval_large_evaluation"], Sandbox.With(_s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void ToolsRebuiltUnderARunningServer_AreKdg1209_AndNothingRuns_TheSameBuildAgainRuns()
    {
        var first = Build();
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(13, Sandbox.With(_s.LastBuild(), Outcome.Ran).Length);
        // A client that cannot reach a server in time builds in its own process; the no-op goes again.
        for (var i = 0; i < 3 && !ServerHoldsTheTools(); i++) Assert.Equal(0, Build().ExitCode);
        Assert.True(ServerHoldsTheTools(), "no MSBuild server has KdGat's tasks loaded, so this test shows nothing\n" + first);

        // Another build of KdGat.Core in the tools dir (any other assembly stands for it), and a stale stage.
        var original = Path.Combine(_s.Dir, "KdGat.Core.dll.original");
        File.Copy(Path.Combine(ToolsCopy, "KdGat.Core.dll"), original);
        Replace("KdGat.Core.dll", typeof(Assert).Assembly.Location);
        File.AppendAllText(_s.RawFile("hcrl_sa"), "one more frame\n");
        var report = File.ReadAllBytes(Path.Combine(_s.Dir, ".kdgat", "last-build.json"));

        var stale = Build();

        Assert.NotEqual(0, stale.ExitCode);
        Assert.True(stale.Output.Contains("error KDG1209"), stale.ToString());
        Assert.Contains("build-server shutdown", stale.Output);
        Assert.Equal(report, File.ReadAllBytes(Path.Combine(_s.Dir, ".kdgat", "last-build.json")));

        // The same build of KdGat.Core copied back (a new file, same code): the server's tasks are current again.
        Replace("KdGat.Core.dll", original);
        var again = Build();
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("hcrl_sa/preprocess", Sandbox.With(_s.LastBuild(), Outcome.Ran));

        // A package beside KdGat's own (a patch release leaves KdGat.Core's build as it was) counts too.
        File.AppendAllText(_s.RawFile("hcrl_sa"), "and another\n");
        report = File.ReadAllBytes(Path.Combine(_s.Dir, ".kdgat", "last-build.json"));
        Replace("YamlDotNet.dll", typeof(Assert).Assembly.Location);
        var package = Build();
        Assert.NotEqual(0, package.ExitCode);
        Assert.Contains("YamlDotNet.dll", package.Output);
        Assert.Contains("error KDG1209", package.Output);
        Assert.Equal(report, File.ReadAllBytes(Path.Combine(_s.Dir, ".kdgat", "last-build.json")));
    }
}
