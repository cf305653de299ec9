using System.Text.Json.Nodes;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// A store entry is restored only for the declared outputs it was made with: an output declared
/// since (here an optional one the command always wrote) is not in it, and a restore would drop it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CacheDeclaredOutputsTests : IDisposable
{
    private readonly TempDir _store = new();
    private readonly TestPipeline _p;

    public CacheDeclaredOutputsTests() => _p = new TestPipeline(Yaml(optional: false), "d1");

    public void Dispose()
    {
        _p.Dispose();
        _store.Dispose();
    }

    private string Yaml(bool optional) => $$"""
        datasets: [d1]
        cache_store: '{{_store.Path}}'
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a:
            command: 'echo x > metrics.json; echo extra > extra.txt'
            outputs: [metrics.json]
        {{(optional ? "    optional_outputs: [extra.txt]" : "")}}
        """;

    private static async Task<string> Run(TestPipeline p, BuildMode mode = BuildMode.Build)
    {
        var log = new RecordingLog();
        var r = await new BuildEngine().RunAsync(p.Request([new("a", [])]) with { Mode = mode }, log, default);
        return Assert.Single(r.Stages).Outcome;
    }

    [Fact]
    public async Task OptionalOutputDeclaredAfterTheEntryWasMade_RunsAndKeepsIt_ExplainAgrees()
    {
        Assert.Equal(Outcome.Ran, await Run(_p));
        _p.WriteConfig(Yaml(optional: true));

        Assert.Equal(Outcome.WouldRun, await Run(_p, BuildMode.Explain));
        Assert.Equal(Outcome.Ran, await Run(_p));
        Assert.Equal("extra\n", File.ReadAllText(_p.Dir["runs/d1/a/extra.txt"]));
        Assert.Equal(Outcome.UpToDate, await Run(_p));

        // A fresh clone sharing the store restores the new entry, with the optional output.
        using var clone = new TestPipeline(Yaml(optional: true), "d1");
        Assert.Equal(Outcome.WouldRestore, await Run(clone, BuildMode.Explain));
        Assert.Equal(Outcome.Restored, await Run(clone));
        Assert.Equal("extra\n", File.ReadAllText(clone.Dir["runs/d1/a/extra.txt"]));
    }

    [Fact]
    public async Task SameDeclaredOutputs_Restores()
    {
        Assert.Equal(Outcome.Ran, await Run(_p));
        using var clone = new TestPipeline(Yaml(optional: false), "d1");
        Assert.Equal(Outcome.WouldRestore, await Run(clone, BuildMode.Explain));
        Assert.Equal(Outcome.Restored, await Run(clone));
    }

    [Fact]
    public async Task EntryOfAnOlderKdGat_WithoutDeclaredOutputs_IsACacheMiss()
    {
        Assert.Equal(Outcome.Ran, await Run(_p));
        var entry = Assert.Single(Directory.EnumerateFiles(Path.Combine(_store.Path, "entries"), "entry.json", SearchOption.AllDirectories));
        var json = JsonNode.Parse(File.ReadAllText(entry))!.AsObject();
        json.Remove("declared");
        File.WriteAllText(entry, json.ToJsonString());

        using var clone = new TestPipeline(Yaml(optional: false), "d1");
        Assert.Equal(Outcome.WouldRun, await Run(clone, BuildMode.Explain));
        Assert.Equal(Outcome.Ran, await Run(clone));
        using var third = new TestPipeline(Yaml(optional: false), "d1");
        Assert.Equal(Outcome.Restored, await Run(third)); // the clone's run replaced the entry
    }
}
