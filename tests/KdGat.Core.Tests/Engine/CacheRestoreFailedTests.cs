using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// KDG2009 with a real file error, no injected fault: a clone's dataset cache dir holds a file where
/// the folder of an output must go (another stage's or the user's: the attempt never moves it), so
/// the restore cannot place the entry. That says nothing against the entry: it is kept, the stage
/// runs, the build succeeds. Permissions cannot make the error here (the tests may run as root).
/// </summary>
[Trait("Category", "Unit")]
public sealed class CacheRestoreFailedTests : IDisposable
{
    private readonly TempDir _store = new();
    public void Dispose() => _store.Dispose();

    // The command clears the way itself, so only the restore meets the file.
    private string Yaml => $$"""
        datasets: [d1]
        cache_store: '{{_store.Path}}'
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a:
            command: 'rm -f {cache_dir}/sub; mkdir -p {cache_dir}/sub; echo made here > {cache_dir}/sub/model.ckpt'
            outputs: ['{cache_dir}/sub/model.ckpt']
        """;

    [Fact]
    public async Task AFileWhereAnOutputsFolderGoes_IsKdg2009_TheEntryIsKeptAndTheStageRuns()
    {
        using (var first = new TestPipeline(Yaml, "d1"))
            Assert.Equal(Outcome.Ran, Assert.Single((await new BuildEngine().RunAsync(first.Request([new("a", [])]), new RecordingLog(), default)).Stages).Outcome);
        var entryFiles = Directory.GetFiles(Path.Combine(_store.Path, "entries"), "*", SearchOption.AllDirectories);
        Assert.NotEmpty(entryFiles);
        var before = entryFiles.ToDictionary(f => f, FileIdentity.Of);

        using var clone = new TestPipeline(Yaml, "d1");
        clone.Dir.Write("cache/d1/sub", "not a folder\n");
        var log = new RecordingLog();
        var r = await new BuildEngine().RunAsync(clone.Request([new("a", [])]), log, default);

        var said = string.Join("\n", log.Items.Select(i => $"{i.Code} {i.Message}"));
        Assert.True(r.Succeeded, said);
        var warning = Assert.Single(log.Items, i => i.Code == ErrorCodes.CacheRestoreFailed);
        Assert.Contains("the entry is kept and the stage runs", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(log.Items, i => i.Code == ErrorCodes.CacheEntryDamaged);
        Assert.Equal(Outcome.Ran, Assert.Single(r.Stages).Outcome);
        Assert.Equal("made here\n", File.ReadAllText(clone.Dir["cache/d1/sub/model.ckpt"]));
        // Kept as it was: every file of the store's entries there, with the same identity (not evicted, not replaced).
        Assert.Equal(before, Directory.GetFiles(Path.Combine(_store.Path, "entries"), "*", SearchOption.AllDirectories).ToDictionary(f => f, FileIdentity.Of));
    }
}
