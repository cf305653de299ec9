using KdGat.Core.Engine;
using KdGat.Core.Manifests;
using KdGat.Core.Planning;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// A downstream opens an upstream's output by its path within the run dir. The outputs digest keyed
/// required outputs by position and file name only: best/m.txt and last/m.txt swapped in the outputs
/// list with their contents, or an output moved from best/ to final/ with the same bytes, left the
/// downstream up to date reading the wrong file or none (a review).
/// </summary>
[Trait("Category", "Unit")]
public sealed class UpstreamOutputPathTests
{
    private static string Yaml(string aCommand, string aOutputs, string bReads) => $$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        cache_store: off
        defaults: { retries: 0 }
        stages:
          a:
            command: '{{aCommand}}'
            outputs: [{{aOutputs}}]
          b:
            command: 'cat {upstream.a}/{{bReads}} > out.txt'
            outputs: [out.txt]
        """;

    [Fact]
    public async Task TwoOutputsOfOneNameSwappedWithTheirContents_RerunTheDownstream()
    {
        using var d = NewRoot(Yaml("mkdir -p best last && echo X > best/m.txt && echo Y > last/m.txt", "best/m.txt, last/m.txt", "best/m.txt"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));

        SetConfig(d, Yaml("mkdir -p best last && echo Y > best/m.txt && echo X > last/m.txt", "last/m.txt, best/m.txt", "best/m.txt"));
        var r = await BuildAsync(d);

        Assert.True(r.Succeeded);
        Assert.Equal(["a", "b"], With(r, Outcome.Ran));
        Assert.Equal("Y\n", File.ReadAllText(d["runs/d1/b/out.txt"]));
    }

    [Fact]
    public async Task AnOutputMovedToAnotherSubfolderWithTheSameBytes_RerunsTheDownstream()
    {
        using var d = NewRoot(Yaml("mkdir -p best && echo Y > best/m.txt", "best/m.txt", "best/m.txt"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));

        // Naming {upstream.a}/best/m.txt, which a no longer declares, is KDG1042 at load now; a program that finds
        // the file itself in a folder it is handed reads the old path as before.
        var finds = Yaml("mkdir -p final && echo Y > final/m.txt", "final/m.txt", "best/m.txt").Replace("cat {upstream.a}/best/m.txt > out.txt", "cd {upstream.a}/best && cat m.txt > \"$OLDPWD/out.txt\"", StringComparison.Ordinal);
        Assert.Contains("$OLDPWD", finds);
        SetConfig(d, finds);
        var r = await BuildAsync(d);

        Assert.Equal(["a"], With(r, Outcome.Ran));
        Assert.Equal(["b"], With(r, Outcome.Failed)); // as from scratch: best/m.txt is not there
    }

    /// <summary>
    /// An upstream's manifest written before outputs were keyed by their path within the run dir (its digest keys
    /// file names) stays valid, and a downstream that runs against it commits: the check of its upstream after the
    /// run keys the outputs as that manifest does (keyed the new way, every such rerun was a false KDG3017).
    /// </summary>
    [Fact]
    public async Task AnUpstreamManifestOfFileNameKeys_StaysValid_AndTheDownstreamCommitsAgainstIt()
    {
        using var d = NewRoot(Yaml("mkdir -p best && echo Y > best/m.txt", "best/m.txt", "best/m.txt"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));
        var path = d["runs/d1/a/kdgat.manifest.json"];
        var m = ManifestStore.Read(path).Manifest!;
        var old = m.Outputs.Select(o => o with { Within = null }).ToList();
        ManifestStore.Write(path, m with { Outputs = old, OutputsDigest = Fingerprinter.OutputsDigest(old, m.ParamsFile) });

        var r = await BuildAsync(d);

        Assert.True(r.Succeeded);
        Assert.Equal(["b"], With(r, Outcome.Ran)); // its upstream's digest is the older one now
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran));
    }

    /// <summary>
    /// A cache entry made before outputs were keyed by their path within the run dir records none: restored, its
    /// outputs are keyed where they lie now, as a run keys them, so the digest is the run's (keyed by file name, two
    /// outputs of one name swapped would pass, and the downstream would rerun for nothing).
    /// </summary>
    [Fact]
    public async Task AnOlderCacheEntryRestored_KeysItsOutputsAsARunDoes()
    {
        static string Cached(string v) => Yaml($"mkdir -p best && echo {v} > best/m.txt", "best/m.txt", "best/m.txt").Replace("cache_store: off", "cache_store: store", StringComparison.Ordinal);
        using var d = NewRoot(Cached("X"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));
        SetConfig(d, Cached("Y"));
        Assert.True((await BuildAsync(d)).Succeeded);
        foreach (var entry in Directory.EnumerateFiles(d["store"], "entry.json", SearchOption.AllDirectories))
        {
            File.WriteAllText(entry, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(entry), ",\\s*\"within\":\\s*\"[^\"]*\"", ""));
            Assert.DoesNotContain("\"within\"", File.ReadAllText(entry));
        }

        SetConfig(d, Cached("X"));
        var r = await BuildAsync(d);

        Assert.Equal(["a", "b"], With(r, Outcome.Restored)); // b's entry was made against a's digest as a run keys it
        Assert.Equal("X\n", File.ReadAllText(d["runs/d1/b/out.txt"]));
    }

    /// <summary>An output directly in the run dir records no path within it: its digest, and every manifest's, is as before.</summary>
    [Fact]
    public async Task AnOutputDirectlyInTheRunDir_IsKeyedByItsNameAsBefore()
    {
        using var d = NewRoot(Yaml("mkdir -p best && echo Y > best/m.txt && echo Z > m.txt", "m.txt, best/m.txt", "m.txt"));
        Assert.True((await BuildAsync(d)).Succeeded);

        var manifest = File.ReadAllText(d["runs/d1/a/kdgat.manifest.json"]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(manifest, "\"within\""));
        Assert.Contains("\"within\": \"best/m.txt\"", manifest);
    }
}
