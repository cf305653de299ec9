using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Engine;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Caching;

/// <summary>
/// Where the output store may be. Written whenever a stage succeeds: inside the raw data it made
/// the preprocess stage rerun on every build (a hostile-input pass), inside runs Clean deletes it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class StorePlacementTests
{
    [Theory]
    [InlineData("raw/d1/store", "raw data of dataset d1")]
    [InlineData("runs/d1/store", "runs of dataset d1")]
    [InlineData("cache/d1/store", "cache dir of dataset d1")]
    [InlineData(".", "is the pipeline root")]
    [InlineData("tools/store", "KdGat's tools")]
    public async Task AStoreWhereItChangesWhatStagesReadOrCleanDeletes_IsKdg1204(string store, string what)
    {
        using var d = NewRoot(Yaml("1", cache: true).Replace("cache_store: store", $"cache_store: '{store}'"));
        var e = await Assert.ThrowsAsync<KdgException>(() => BuildAsync(d));
        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Contains(what, e.Message);
        Assert.EndsWith("kdgat.yaml", e.File);
        // at the cache_store value (it was the file alone: a review)
        var line = File.ReadAllLines(e.File!).ToList().FindIndex(l => l.StartsWith("cache_store:", StringComparison.Ordinal)) + 1;
        Assert.Equal((line, "cache_store: ".Length + 1), (e.Line, e.Column));
        Assert.False(Directory.Exists(d["runs/d1/a"])); // refused before anything ran
    }

    [Theory]
    [InlineData("store")]
    [InlineData(".kdgat/store")]
    [InlineData("raw/store")] // beside the raw dirs, in none of them
    [InlineData("runs/store")] // beside the datasets' runs, in none of them (a dataset named store would be refused then)
    public async Task AStoreOfItsOwn_IsUsed(string store)
    {
        using var d = NewRoot(Yaml("1", cache: true).Replace("cache_store: store", $"cache_store: '{store}'"));
        Assert.True((await BuildAsync(d)).Succeeded);
        Assert.True(Directory.Exists(Path.GetFullPath(Path.Combine(d.Path, store, "entries"))));
    }

    /// <summary>KDGAT_CACHE=/scratch/$USER with the pipelines under it: the store contains the root, and only adds entries/ and tmp/.</summary>
    [Fact]
    public async Task AStoreAboveThePipeline_IsUsed()
    {
        using var outer = new KdGat.Core.Tests.Support.TempDir();
        var root = Path.Combine(outer.Path, "proj");
        Directory.CreateDirectory(Path.Combine(root, "raw", "d1"));
        File.WriteAllText(Path.Combine(root, "raw", "d1", "frames.csv"), "frames\n");
        File.WriteAllText(Path.Combine(root, "kdgat.yaml"), Yaml("1", cache: true).Replace("cache_store: store", "cache_store: '..'"));
        var r = await new BuildEngine().RunAsync(new BuildRequest { Root = root, ConfigFile = "kdgat.yaml", ToolsDir = Path.Combine(root, "tools"), Stages = Stages }, new RecordingLog(), default);
        Assert.True(r.Succeeded);
        Assert.True(Directory.Exists(Path.Combine(outer.Path, "entries")));
    }
}
