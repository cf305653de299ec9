using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>optional_outputs: absent is fine, present is hashed, an edit makes the stage rerun.</summary>
[Trait("Category", "EndToEnd")]
public sealed class OptionalOutputTests
{
    private const string Stage = "vgae_large_autoencoder";

    /// <summary>The stage writes extra.txt only when its parameter 'extra' is 1.</summary>
    private static Sandbox WithOptionalExtra(int extra)
    {
        var s = Sandbox.Trivial();
        s.PrefixCommand(Stage, "if [ {params.extra} = 1 ]; then echo extra > extra.txt; fi; ");
        s.EditConfig(c => c.Replace($"  {Stage}:\n", $"  {Stage}:\n    optional_outputs: [extra.txt]\n    params: {{ extra: {extra} }}\n"));
        return s;
    }

    [Fact]
    public void AbsentOptionalOutput_BuildsAndNoOpRebuildRunsNothing()
    {
        using var s = WithOptionalExtra(0);
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("KDG3002", r.Output);
        Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", Stage), "extra.txt")));

        var again = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void PresentOptionalOutput_IsHashed_AndAnEditOrDeletionReruns()
    {
        using var s = WithOptionalExtra(1);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var dir = s.RunDir("hcrl_sa", Stage);
        var extra = Path.Combine(dir, "extra.txt");
        Assert.Contains("extra.txt", File.ReadAllText(Path.Combine(dir, "kdgat.manifest.json")));

        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));

        File.WriteAllText(extra, "edited by hand\n");
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"hcrl_sa/{Stage}", Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal("extra\n", File.ReadAllText(extra));

        File.Delete(extra);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.DoesNotContain($"hcrl_sa/{Stage}", Sandbox.With(s.LastBuild(), Outcome.UpToDate));
        Assert.Equal("extra\n", File.ReadAllText(extra)); // rerun or restored with it from the cache
    }
}
