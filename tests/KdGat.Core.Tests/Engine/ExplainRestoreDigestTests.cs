using System.Text.Json.Nodes;
using KdGat.Core.Engine;
using KdGat.Core.Manifests;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// Explain's would-restore predicts the downstream with the digest a restore will give the stage,
/// computed as a run computes it, not the one the store entry recorded (an entry written before
/// params.json counted records the older formula's digest).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ExplainRestoreDigestTests
{
    private static string Yaml(string note) => UpstreamParamsFileTests.Yaml(note, store: "store");

    [Fact]
    public async Task AnEntryWithAnOlderDigest_ExplainPredictsWhatTheBuildDoes()
    {
        using var d = NewRoot(Yaml("first"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));
        var aManifest = ManifestStore.Read(d["runs/d1/a/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName]).Manifest!;
        var legacy = Fingerprinter.OutputsDigest(aManifest.Outputs, null);
        // The entry for a@first as an older KdGat (with declared outputs, before params.json counted) wrote it.
        var entry = Assert.Single(Directory.EnumerateFiles(d["store"], "entry.json", SearchOption.AllDirectories), f => File.ReadAllText(f).Contains(aManifest.Fingerprint));
        var json = JsonNode.Parse(File.ReadAllText(entry))!.AsObject();
        var key = json.Select(kv => kv.Key).Single(k => k.Contains("digest", StringComparison.OrdinalIgnoreCase));
        json[key] = legacy;
        File.WriteAllText(entry, json.ToJsonString());

        SetConfig(d, Yaml("second"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));
        // b as it stood after an older KdGat's build: up to date against a's legacy digest of the same bytes.
        var bPath = d["runs/d1/b/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName];
        var b = ManifestStore.Read(bPath).Manifest!;
        var comps = b.Components with { Upstream = new(new Dictionary<string, string> { ["a"] = legacy }, StringComparer.Ordinal) };
        ManifestStore.Write(bPath, b with { Components = comps, Fingerprint = comps.Digest() });

        SetConfig(d, Yaml("first"));
        var explain = await new BuildEngine().RunAsync(Request(d, BuildMode.Explain), new KdGat.Core.Diagnostics.RecordingLog(), CancellationToken.None);
        var predicted = explain.Stages.ToDictionary(s => s.Stage, s => s.Outcome);
        var build = await BuildAsync(d);
        var actual = build.Stages.ToDictionary(s => s.Stage, s => s.Outcome);
        Assert.Equal((Outcome.WouldRestore, Outcome.Restored), (predicted["a"], actual["a"]));
        Assert.Equal(actual["b"] == Outcome.UpToDate ? Outcome.UpToDate : actual["b"] == Outcome.Restored ? Outcome.WouldRestore : Outcome.WouldRun, predicted["b"]);
    }
}
