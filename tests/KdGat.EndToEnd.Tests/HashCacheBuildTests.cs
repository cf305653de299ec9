using System.Text.RegularExpressions;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>.kdgat/hash-cache.tsv as builds use it.</summary>
[Trait("Category", "EndToEnd")]
public sealed class HashCacheBuildTests
{
    [Fact]
    public void CorruptedHashInACacheLine_IsRehashedByTheNextBuild_NotTrusted()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        // A second build settles the cache (linking outputs into the store changed their ctime after they were hashed;
        // rows of files changed within the racy margin of a build are not saved, so it waits that long first).
        Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
        var file = Path.Combine(s.Dir, ".kdgat", "hash-cache.tsv");
        var lines = File.ReadAllLines(file);
        var i = Array.FindIndex(lines, l => l.EndsWith("experimentruns/hcrl_sa/gat_large_curriculum/model.ckpt", StringComparison.Ordinal));
        Assert.True(i > 0, "no hash-cache row for the model");
        // One flipped hex digit of the hash; size, times, inode and device all still match the file.
        lines[i] = Regex.Replace(lines[i], @"\t([0-9a-f])([0-9a-f]{31})\t", m => $"\t{(m.Groups[1].Value == "0" ? "1" : "0")}{m.Groups[2].Value}\t");
        File.WriteAllLines(file, lines);

        var r = s.Build("-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
    }
}
