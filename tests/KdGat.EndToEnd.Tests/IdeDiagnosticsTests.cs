using System.Text.RegularExpressions;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// Diagnostics an IDE's error list can use: stage errors at the stage's entry in kdgat.yaml
/// (file(line,col)), the cause from the stage's stderr in the message, a changed parameter at its
/// line in the params file.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class IdeDiagnosticsTests
{
    [Fact]
    public void FailedStage_PointsAtItsConfigEntry_AndCarriesTheEndOfItsStderr()
    {
        using var s = Sandbox.Trivial();
        s.PrefixCommand("gat_large_curriculum", "for i in $(seq 1 30); do echo noise $i >&2; done; echo \"line 22479: expected 4 columns\" >&2; exit 2; ");

        var r = s.Build("-t:Large", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        var config = File.ReadAllLines(s.Config);
        foreach (var code in new[] { "KDG3001", "KDG3003", "KDG3010" })
        {
            var m = Regex.Match(r.Output, $@"^(?<file>\S*kdgat\.yaml)\((?<line>\d+),(?<col>\d+)\): (error|warning) {code}:", RegexOptions.Multiline);
            Assert.True(m.Success, $"{code} not at a kdgat.yaml position:\n{r.Output}");
            var stage = code == "KDG3003" ? "(dqn|eval)_large_\\w+" : "gat_large_curriculum";
            Assert.Matches($"^  {stage}:$", EntryOf(config, int.Parse(m.Groups["line"].Value)));
        }
        Assert.DoesNotContain("KdGat.Pipeline.targets(", r.Output);
        var failure = Regex.Matches(r.Output, @"error KDG3001: (.*)$", RegexOptions.Multiline).Select(x => x.Groups[1].Value).ToArray();
        Assert.Contains(failure, l => l.Contains("line 22479: expected 4 columns"));
        Assert.Contains(failure, l => l.Contains("noise 30"));
        Assert.DoesNotContain(failure, l => l.Contains("noise 20")); // only the last lines
    }

    [Fact]
    public void ChangedParameter_NamesItsFileAndLine()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-t:Large", "-p:Dataset=hcrl_sa").ExitCode);
        var gatLarge = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        var lines = File.ReadAllLines(gatLarge);
        var lrLine = Array.FindIndex(lines, l => l.StartsWith("lr: ")) + 1;
        File.WriteAllText(gatLarge, File.ReadAllText(gatLarge).Replace("lr: 0.001", "lr: 0.002"));

        var r = s.Build("-t:Explain", "-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"parameter lr changed (0.001 -> 0.002) in models/gat/large.yaml({lrLine},1)", r.Output);
        var own = s.LastBuild().Stages.Single(x => x.Stage == "gat_large_curriculum" && x.Dataset == "hcrl_sa");
        Assert.Contains(own.Reasons, x => x.Contains($"models/gat/large.yaml({lrLine},1)"));
    }

    /// <summary>The stage entry (a "  name:" line under stages:) that holds config line <paramref name="line"/> (1-based).</summary>
    private static string EntryOf(string[] config, int line)
    {
        for (var i = line - 1; i >= 0; i--)
            if (Regex.IsMatch(config[i], @"^  \w+:\s*$")) return config[i];
        return "";
    }
}
