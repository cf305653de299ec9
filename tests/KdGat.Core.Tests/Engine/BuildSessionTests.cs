using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Manifests;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// What the plan task leaves the build task in one MSBuild build (BuildSession): the loaded
/// pipeline, the hash cache, parsed manifests. A change between the two (a user's target between
/// the plan and the stage targets) must reach the build's decision as if nothing were shared.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BuildSessionTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private static readonly string[] GatLargeDownstream =
        ["d1/dqn_large_fusion", "d1/dqn_small_fusion_kd", "d1/eval_large_evaluation", "d1/eval_small_evaluation_kd", "d1/gat_large_curriculum", "d1/gat_small_curriculum_kd"];

    private async Task<string[]> PlanThenBuild(BuildSession session, Action between)
    {
        var plan = await new BuildEngine(session: session).PlanAsync(_p.Request(KdGatGraph.Stages), GraphSources.None, new RecordingLog(), default);
        Assert.All(plan, e => Assert.True(e.Current, e.Stage)); // the plan saw everything up to date
        between();
        var report = await new BuildEngine(session: session).RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        Assert.True(report.Succeeded);
        return report.Stages.Where(s => s.Outcome is Outcome.Ran or Outcome.Restored).Select(s => $"{s.Dataset}/{s.Stage}").Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task ChangesBetweenThePlanAndTheBuild_ReachTheBuild()
    {
        Assert.True((await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default)).Succeeded);
        var session = new BuildSession();

        // Nothing changed: nothing runs.
        Assert.Empty(await PlanThenBuild(session, () => { }));
        // A parameter changed in kdgat.yaml: the build loads the pipeline again.
        Assert.Equal(GatLargeDownstream, await PlanThenBuild(session,
            () => _p.WriteConfig(KdGatGraph.Yaml(new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }))));
        // An output edited by hand, same length: the build hashes it again.
        var output = _p.Dir["runs/d1/gat_large_curriculum/out.txt"];
        Assert.Equal(["d1/gat_large_curriculum"], await PlanThenBuild(session,
            () => File.WriteAllText(output, new string('x', File.ReadAllText(output).Length))));
        // A manifest replaced by another that records something else: the build reads it again.
        var manifest = _p.Dir["runs/d1/preprocess/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName];
        var other = _p.Dir["runs/d1/vgae_large_autoencoder/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName];
        Assert.Contains("d1/preprocess", await PlanThenBuild(session, () => File.Copy(other, manifest, overwrite: true)));
    }

    [Fact]
    public void Load_IsReusedOnlyWhileEveryConfigurationFileHasTheSameBytes()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo {params.lr} > out.txt', outputs: [out.txt], params_file: models/a.yaml }
            """, "d1");
        p.Dir.Write("models/a.yaml", "lr: 0.1\n");
        var request = p.Request([new("a", [])]);
        var session = new BuildSession();

        var first = session.Load(request);
        Assert.Same(first, session.Load(request));
        File.WriteAllText(p.ConfigFile, File.ReadAllText(p.ConfigFile)); // rewritten, same bytes
        Assert.Same(first, session.Load(request));
        Assert.NotSame(first, session.Load(request with { Datasets = "d1" })); // another request

        File.WriteAllText(p.Dir["models/a.yaml"], "lr: 0.2\n"); // a params file, not kdgat.yaml
        var changed = session.Load(request);
        Assert.NotSame(first, changed);
        Assert.Equal("0.2", changed.Instances.Single().Config.Params["lr"].ToString());
    }

    /// <summary>
    /// A long-lived MSBuild process (the MSBuild server) runs build after build, each with a new
    /// session: the pipeline an earlier build loaded is used again (LoadedPipelineCache) only while
    /// every file it was read from has the same bytes and every variable it expanded the same value.
    /// In this class only: its tests run one at a time, and no other test class makes sessions.
    /// </summary>
    [Fact]
    public void ALaterBuildOfTheProcess_GetsTheLoadedPipeline_OnlyWhileItsFilesAndVariablesAreTheSame()
    {
        var variable = "KDGAT_TEST_ACCOUNT_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        using var p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo {params.lr} > out.txt', outputs: [out.txt], params_file: models/a.yaml, resources: { account: '${{{variable}}}' } }
            """, "d1");
        p.Dir.Write("models/a.yaml", "lr: 0.1\n");
        var request = p.Request([new("a", [])]);
        try
        {
            Environment.SetEnvironmentVariable(variable, "lab-a");
            var first = new BuildSession().Load(request);
            Assert.Same(first, new BuildSession().Load(request)); // the next build

            Environment.SetEnvironmentVariable(variable, "lab-b");
            var otherAccount = new BuildSession().Load(request);
            Assert.NotSame(first, otherAccount);
            Assert.Equal("lab-b", otherAccount.Instances.Single().Config.Resources.Account);
            Assert.Same(otherAccount, new BuildSession().Load(request));

            File.WriteAllText(p.Dir["models/a.yaml"], "lr: 0.2\n");
            var otherParams = new BuildSession().Load(request);
            Assert.NotSame(otherAccount, otherParams);
            Assert.Equal("0.2", otherParams.Instances.Single().Config.Params["lr"].ToString());
        }
        finally { Environment.SetEnvironmentVariable(variable, null); }
    }

    /// <summary>
    /// A declared path that goes up ('..') out of a folder that became a symlink since the process
    /// loaded the pipeline is KDG1018 in the next build, as in a new process: the MSBuild server
    /// handed out the kept pipeline, whose files had the same bytes, and hashed another file than
    /// the command reads (found by review). Within one build the same holds for the build task.
    /// </summary>
    [Fact]
    public void ALaterBuildOfTheProcess_LoadsAgain_WhenAFolderBeforeDotDotBecameASymlink()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'cat data/lnk/../extra.csv > out.txt', inputs: ['data/lnk/../extra.csv'], outputs: [out.txt] }
            """, "d1");
        p.Dir.Write("data/extra.csv", "a\n");
        Directory.CreateDirectory(p.Dir["data/lnk"]);
        using var elsewhere = new TempDir();
        Directory.CreateDirectory(elsewhere["sub"]);
        var request = p.Request([new("a", [])]);
        var session = new BuildSession();
        var first = session.Load(request);
        Assert.Same(first, new BuildSession().Load(request)); // the next build

        Directory.Delete(p.Dir["data/lnk"]);
        Directory.CreateSymbolicLink(p.Dir["data/lnk"], elsewhere["sub"]);

        Assert.Equal(ErrorCodes.PathUpThroughSymlink, Assert.Throws<KdgException>(() => session.Load(request)).Code);
        Assert.Equal(ErrorCodes.PathUpThroughSymlink, Assert.Throws<KdgException>(() => new BuildSession().Load(request)).Code);
    }

    /// <summary>
    /// The fingerprint of a command naming {tools} follows the tools' content; a pipeline kept by the
    /// process must not carry the tools an earlier build saw past a rebuild of them (a csproj of
    /// the sample alone leaves the tasks' assemblies, so KDG1209, as they were; found by review).
    /// </summary>
    [Fact]
    public void ALaterBuildOfTheProcess_LoadsAgain_WhenTheToolsWereRebuilt()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'dotnet {tools}/KdGat.Sample.dll train', outputs: [out.txt] }
            """, "d1");
        p.Dir.Write("tools/KdGat.Sample.dll", "v1");
        var request = p.Request([new("a", [])]);
        var first = new BuildSession().Load(request);
        var before = first.Instances.Single().RenderCommandForFingerprint();
        Assert.Same(first, new BuildSession().Load(request));

        p.Dir.Write("tools/KdGat.Sample.dll", "v2");
        var rebuilt = new BuildSession().Load(request);

        Assert.NotSame(first, rebuilt);
        Assert.NotEqual(before, rebuilt.Instances.Single().RenderCommandForFingerprint());
    }

    [Fact]
    public void TheProcessKeepsTheLastTwoPipelines()
    {
        using var p = new TestPipeline("""
            datasets: [d1, d2, d3]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo > out.txt', outputs: [out.txt] }
            """, "d1", "d2", "d3");
        KdGat.Core.Engine.BuildRequest For(string dataset) => p.Request([new("a", [])]) with { Datasets = dataset };
        var d1 = new BuildSession().Load(For("d1"));
        var d2 = new BuildSession().Load(For("d2"));
        Assert.Same(d1, new BuildSession().Load(For("d1"))); // alternating between two selections keeps both
        Assert.Same(d2, new BuildSession().Load(For("d2")));
        new BuildSession().Load(For("d3"));
        Assert.NotSame(d1, new BuildSession().Load(For("d1"))); // the least recently used went
    }

    [Fact]
    public async Task ManifestCache_ParsesAFileVersionOnce_AndReadsAReplacedOneAgain()
    {
        Assert.True((await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default)).Succeeded);
        var path = _p.Dir["runs/d1/preprocess/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName];
        var cache = new ManifestCache();

        var first = cache.Read(path);
        Assert.Equal(ManifestStore.ReadStatus.Ok, first.Status);
        Assert.Same(first.Manifest, cache.Read(path).Manifest);

        // Replaced by rename with the same bytes: a new file version, read again, and its bytes
        // are those already parsed.
        var tmp = path + ".tmp";
        File.Copy(path, tmp);
        File.Move(tmp, path, overwrite: true);
        Assert.Same(first.Manifest, cache.Read(path).Manifest);
        Assert.Equal(1, cache.Parsed);

        // Other bytes (the same manifest from another build) are parsed.
        var edited = File.ReadAllText(path).Replace(first.Manifest!.BuildId, "another-build");
        File.WriteAllText(tmp, edited);
        File.Move(tmp, path, overwrite: true);
        var again = cache.Read(path);
        Assert.Equal("another-build", again.Manifest!.BuildId);
        Assert.Equal(2, cache.Parsed);

        File.WriteAllText(path, "{ damaged");
        Assert.Equal(ManifestStore.ReadStatus.Corrupt, cache.Read(path).Status);
        File.Delete(path);
        Assert.Equal(ManifestStore.ReadStatus.Missing, cache.Read(path).Status);
    }

    /// <summary>
    /// A later build in the same process (MSBuild server) takes a manifest parsed by an earlier one
    /// only when the file's bytes are those parsed: here a manifest rewritten between the builds
    /// with the very same identity (size, times and inode put back, as a coarse NFS clock and a
    /// reused inode can) is parsed anew, so the second build sees what the file now says.
    /// </summary>
    [Fact]
    public async Task ManifestCache_AcrossBuilds_TakesAParseOnlyForTheSameBytes()
    {
        Assert.True((await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default)).Succeeded);
        var path = _p.Dir["runs/d1/preprocess/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName];
        var earlier = new ManifestCache();
        var first = earlier.Read(path).Manifest!;

        var later = new ManifestCache();
        Assert.Same(first, later.Read(path).Manifest);
        Assert.Equal(0, later.Parsed);

        // Rewritten in place with bytes of the same length and the mtime put back: inode and size
        // are the same, and on a file system with 1 s timestamps so would be the ctime.
        var mtime = File.GetLastWriteTimeUtc(path);
        var text = File.ReadAllText(path);
        var swapped = text.Replace(first.BuildId, new string('x', first.BuildId.Length));
        Assert.NotEqual(text, swapped);
        using (var f = new FileStream(path, FileMode.Open, FileAccess.Write)) f.Write(System.Text.Encoding.UTF8.GetBytes(swapped));
        File.SetLastWriteTimeUtc(path, mtime);

        var third = new ManifestCache();
        Assert.Equal(new string('x', first.BuildId.Length), third.Read(path).Manifest!.BuildId);
        Assert.Equal(1, third.Parsed);
    }
}
