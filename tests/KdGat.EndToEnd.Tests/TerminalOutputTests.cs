using System.Text.RegularExpressions;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// What a user sees in a real terminal. Builds run under `script` (a pseudo-terminal), so MSBuild
/// picks its loggers as it does for a person: the terminal logger with -tl:on, the classic console
/// logger with -tl:off, and whatever `dotnet msbuild` chooses by default.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class TerminalOutputTests
{
    private static readonly string[] Stages =
    [
        "preprocess", "vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion", "eval_large_evaluation",
        "vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd", "eval_small_evaluation_kd",
        "vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion", "eval_small_evaluation",
    ];

    /// <param name="rsp">
    /// Whether Directory.Build.rsp (-tlp:verbosity=detailed) is there: a repository on the KdGat.Sdk
    /// package has none, and the terminal logger then showed no table and no Clean line (found by review).
    /// </param>
    [Theory]
    [InlineData("-tl:on", true)]
    [InlineData("-tl:on", false)]
    [InlineData("-tl:off", true)]
    [InlineData("", true)]
    public void EveryStageThatRuns_AndTheTables_AreVisibleInATerminal(string logger, bool rsp)
    {
        using var s = Sandbox.Trivial();
        if (!rsp) File.Delete(Path.Combine(s.Dir, "Directory.Build.rsp"));

        var build = InTerminal(s, logger, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        foreach (var stage in Stages)
        {
            Assert.Matches(new Regex($@"hcrl_sa/{stage}: running: \S.*", RegexOptions.Multiline), build.Output); // start, with its reason
            Assert.Matches(new Regex($@"hcrl_sa/{stage}: ran in \d+\.\d s", RegexOptions.Multiline), build.Output); // end, with its duration
        }
        if (logger == "-tl:on")
        {
            // Live: the terminal logger printed the lines while the project ran, not in its end-of-project block.
            var ended = Regex.Match(build.Output, @"^\s*pipeline\b.*succeeded", RegexOptions.Multiline);
            Assert.True(ended.Success, build.Output);
            Assert.True(build.Output.IndexOf("hcrl_sa/preprocess: ran in", StringComparison.Ordinal) < ended.Index, build.Output);
        }

        File.AppendAllText(Path.Combine(s.Dir, "models", "gat", "large.yaml"), "\nextra_knob: 1\n");
        var explain = InTerminal(s, logger, "-t:Explain", "-p:Dataset=hcrl_sa");
        Assert.True(explain.ExitCode == 0, explain.ToString());
        AssertTable(explain.Output, "decision");
        Assert.Matches(new Regex(@"hcrl_sa/gat_large_curriculum\s+would-run\s+\S"), explain.Output);

        var status = InTerminal(s, logger, "-t:Status", "-p:Dataset=hcrl_sa");
        Assert.True(status.ExitCode == 0, status.ToString());
        AssertTable(status.Output, "state");

        var clean = InTerminal(s, logger, "-t:Clean", "-p:Dataset=hcrl_sa");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Matches(new Regex(@"KdGat: Clean removed \d+ path\(s\) for hcrl_sa"), clean.Output);
    }

    /// <summary>
    /// A build waiting for another build's stage lock says so while it waits, with the terminal logger
    /// too: that logger shows a warning (KDG2002) only when its project ends, so the wait looked like a hang.
    /// </summary>
    [Fact]
    public void WaitingForAnotherBuildsStageLock_IsSaidLiveWithTheTerminalLogger()
    {
        using var s = Sandbox.Trivial();
        s.PrefixCommand("preprocess", "touch started; sleep 10; ");
        using var first = s.Start(["-p:Dataset=hcrl_sa"], out var firstOutput);
        var started = Path.Combine(s.RunDir("hcrl_sa", "preprocess"), "started");
        for (var waited = 0; !File.Exists(started) && waited < 1200 && !first.HasExited; waited++) Thread.Sleep(100);
        Assert.True(File.Exists(started), firstOutput.ToString());

        var second = InTerminal(s, "-tl:on", "-t:Evaluate", "-p:Dataset=hcrl_sa");

        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(4)));
        first.WaitForExit();
        Assert.True(second.ExitCode == 0, second.ToString());
        var ended = Regex.Match(second.Output, @"^\s*pipeline\b.*succeeded", RegexOptions.Multiline);
        Assert.True(ended.Success, second.Output);
        var waiting = second.Output.IndexOf("hcrl_sa/preprocess: waiting for the stage lock", StringComparison.Ordinal);
        Assert.True(waiting >= 0 && waiting < ended.Index, second.Output); // printed while the project ran
    }

    /// <summary>A header line naming the columns, then one row per stage instance.</summary>
    private static void AssertTable(string output, string column)
    {
        Assert.Matches(new Regex($@"^\s*stage instance\s+{column}\b", RegexOptions.Multiline), output);
        foreach (var stage in Stages)
            Assert.Matches(new Regex($@"^\s*hcrl_sa/{stage}\s+\S", RegexOptions.Multiline), output);
    }

    /// <summary>Runs the sandbox's msbuild command line under `script`; returns the terminal text without escape sequences.</summary>
    private static ProcessResult InTerminal(Sandbox s, string logger, params string[] args)
    {
        var words = s.MSBuildArgs(logger.Length > 0 ? [.. args, logger] : args).Prepend("dotnet");
        var command = string.Join(' ', words.Select(w => "'" + w.Replace("'", "'\\''") + "'"));
        var r = ProcessRunner.Run("script", ["-qec", command, "/dev/null"], s.Dir, TimeSpan.FromMinutes(5), s.Env);
        return r with { Output = PlainText(r.Output) };
    }

    private static string PlainText(string terminal) =>
        Regex.Replace(Regex.Replace(terminal, @"\x1B\][^\x07\x1B]*(\x07|\x1B\\)|\x1B\[[0-9;?]*[ -/]*[@-~]|\x1B[=>]", ""), @"\r(?!\n)", "\n").Replace("\r", "");
}
