using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>The content-addressed output store: reuse across clones, going back to old parameters, damage, concurrency, GC.</summary>
[Trait("Category", "EndToEnd")]
public sealed class CacheTests : IDisposable
{
    private readonly string _store = Path.Combine(Path.GetTempPath(), "kdgat-e2e-store-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_store, recursive: true); } catch (IOException) { }
    }

    private Sandbox Clone()
    {
        var s = Sandbox.Trivial();
        s.Env["KDGAT_CACHE"] = _store;
        return s;
    }

    private static Dictionary<string, byte[]> Outputs(Sandbox s) =>
        Directory.EnumerateFiles(Path.Combine(s.Dir, "experimentruns"), "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(s.Dir, "data", "cache"), "*", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/.kdgat/") && !f.Contains("/logs/") && !f.EndsWith("kdgat.manifest.json"))
            .ToDictionary(f => Path.GetRelativePath(s.Dir, f), File.ReadAllBytes);

    [Fact]
    public void SecondCloneSharingTheStore_RestoresAllThirteen_ByteIdentical()
    {
        using var first = Clone();
        Assert.Equal(0, first.Build("-p:Dataset=hcrl_sa").ExitCode);

        using var second = Clone();
        // The user's raw data is there (Explain never generates it, and a fingerprint needs it).
        Sandbox.CopyTree(Path.Combine(first.Dir, "data", "automotive"), Path.Combine(second.Dir, "data", "automotive"));
        Assert.Equal(0, second.Build("-t:Explain", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(13, Sandbox.With(second.LastBuild(), Outcome.WouldRestore).Length);

        var r = second.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Sandbox.With(second.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Sandbox.With(second.LastBuild(), Outcome.Restored).Length);

        var a = Outputs(first);
        var b = Outputs(second);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (path, bytes) in a) Assert.True(bytes.AsSpan().SequenceEqual(b[path]), path);

        Assert.Equal(0, second.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(13, Sandbox.With(second.LastBuild(), Outcome.UpToDate).Length);
    }

    [Fact]
    public void ParameterChangedAndChangedBack_ThirdBuildRunsNothing()
    {
        using var s = Clone();
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        var original = File.ReadAllText(gat);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        File.WriteAllText(gat, original.Replace("lr: 0.001", "lr: 0.002"));
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(6, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);

        File.WriteAllText(gat, original);
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(6, Sandbox.With(s.LastBuild(), Outcome.Restored).Length);
    }

    [Fact]
    public void FlippedByteInStoreEntry_IsEvicted_AndTheStageRuns()
    {
        using var first = Clone();
        Assert.Equal(0, first.Build("-p:Dataset=hcrl_sa", "-t:Large").ExitCode);
        var entry = Entries().Single(e => e.Stage == "gat_large_curriculum");
        var payload = Path.Combine(entry.Dir, "o0");
        var bytes = File.ReadAllBytes(payload);
        bytes[^2] ^= 0x01;
        File.WriteAllBytes(payload + ".new", bytes);
        File.Move(payload + ".new", payload, overwrite: true); // a new inode: the first clone's own output stays intact

        using var second = Clone();
        var r = second.Build("-p:Dataset=hcrl_sa", "-t:Large");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): warning KDG2004", r.Output); // at the stage's entry (was KdGat's own targets file)
        Assert.Equal(["hcrl_sa/gat_large_curriculum"], Sandbox.With(second.LastBuild(), Outcome.Ran));
        Assert.Equal(File.ReadAllBytes(Path.Combine(first.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt")),
                     File.ReadAllBytes(Path.Combine(second.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt")));
        // The rerun put a good entry back.
        var fresh = Entries().Single(e => e.Stage == "gat_large_curriculum");
        Assert.Equal(File.ReadAllBytes(Path.Combine(first.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt")), File.ReadAllBytes(Path.Combine(fresh.Dir, "o0")));
    }

    [Fact]
    public void FourConcurrentBuildsOnOneStore_AllSucceed_WithIdenticalOutputs()
    {
        var clones = Enumerable.Range(0, 4).Select(_ => Clone()).ToArray();
        try
        {
            var builds = clones.Select(c => (Process: c.Start(["-p:Dataset=\"hcrl_sa;hcrl_ch\""], out var output), Output: output)).ToArray();
            foreach (var (p, output) in builds)
            {
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), output.ToString());
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, output.ToString());
                Assert.DoesNotContain("KDG2004", output.ToString());
                p.Dispose();
            }
            var reference = Outputs(clones[0]);
            foreach (var c in clones.Skip(1))
            {
                var other = Outputs(c);
                Assert.Equal(reference.Keys.Order(), other.Keys.Order());
                foreach (var (path, bytes) in reference) Assert.True(bytes.AsSpan().SequenceEqual(other[path]), path);
            }
            Assert.Empty(Directory.Exists(Path.Combine(_store, "tmp")) ? Directory.EnumerateFileSystemEntries(Path.Combine(_store, "tmp")) : []);
        }
        finally
        {
            foreach (var c in clones) c.Dispose();
        }
    }

    [Fact]
    public void CacheGc_WithSizeLimit_KeepsTheMostRecentlyUsedEntries()
    {
        using var s = Clone();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_ch").ExitCode); // a later process: its entries are stamped later
        var recent = Entries().Where(e => e.Dataset == "hcrl_ch").ToArray();
        Assert.Equal(13, recent.Length);
        var limit = recent.Sum(e => e.Bytes);

        var gc = s.Build("-t:CacheGc", $"-p:CacheMaxSize={Math.Max(1, limit / 1024)}K");
        Assert.True(gc.ExitCode == 0, gc.ToString());
        var left = Entries().ToArray();
        Assert.True(left.Sum(e => e.Bytes) <= limit);
        Assert.All(left, e => Assert.Equal("hcrl_ch", e.Dataset));
        Assert.NotEmpty(left);
    }

    [Fact]
    public void CacheGc_WithoutALimit_IsAUserError()
    {
        using var s = Clone();
        var r = s.Build("-t:CacheGc");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1205", r.Output);
        Assert.Contains("CacheMaxSize", r.Output);
        Assert.DoesNotContain("   at ", r.Output);
    }

    [Fact]
    public void Clean_ForcesARealRun_EvenWhenTheStoreHasTheResult()
    {
        using var s = Clone();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-t:Large").ExitCode);
        Assert.Equal(0, s.Build("-t:Clean", "-p:Dataset=hcrl_sa", "-p:Stage=dqn_large_fusion").ExitCode);

        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-t:Large").ExitCode);
        Assert.Equal(["hcrl_sa/dqn_large_fusion", "hcrl_sa/eval_large_evaluation"], Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.NotEmpty(Entries());   // Clean never deletes store entries
    }

    private sealed record Entry(string Dir, string Stage, string Dataset, long Bytes);

    private IEnumerable<Entry> Entries() =>
        Directory.EnumerateFiles(Path.Combine(_store, "entries"), "entry.json", SearchOption.AllDirectories).Select(f =>
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(f));
            var root = doc.RootElement;
            return new Entry(Path.GetDirectoryName(f)!, root.GetProperty("stage").GetString()!, root.GetProperty("dataset").GetString()!,
                root.GetProperty("outputs").EnumerateArray().Sum(o => o.GetProperty("size").GetInt64()));
        });
}
