using System.Text.RegularExpressions;
using KdGat.Testing;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>The live report's switches with real msbuild: default file, -p:ReportFile, -p:LiveReport=false, bad values.</summary>
[Trait("Category", "EndToEnd")]
public sealed class LiveReportBuildTests
{
    [Fact]
    public void Build_LeavesAFinishedReport_ByDefault_OrWhereToldOrNone_BadValuesAreKdg4021()
    {
        using var s = TrackingSandbox.Create();
        var page = Path.Combine(s.Dir, ".kdgat", "report.html");
        s.Ok("-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:LiveReport=false");
        Assert.False(File.Exists(page));

        s.Ok("-p:Dataset=hcrl_sa");
        var html = File.ReadAllText(page);
        Assert.Equal(13, Regex.Matches(html, "<g class=\"node\"").Count);
        Assert.Contains("data-id=\"hcrl_sa/preprocess\" data-state=\"up-to-date\"", html);
        Assert.Contains("data-id=\"hcrl_sa/eval_large_evaluation\" data-state=\"ran\"", html);
        Assert.Contains("data-id=\"hcrl_sa/eval_large_evaluation\" data-state=\"ran\"><text", html); // its timeline bar
        Assert.Contains("data-state=\"done\"", html);
        Assert.DoesNotContain("http-equiv=\"refresh\"", html);

        Directory.CreateDirectory(Path.Combine(s.Dir, "pages"));
        var bad = s.Build("-p:Dataset=hcrl_sa", "-p:ReportFile=pages");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("KDG4021", bad.Output);
        bad = s.Build("-p:Dataset=hcrl_sa", "-p:LiveReportRefresh=0");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("KDG4021", bad.Output);

        // Status rewrites the same file (from the run index): nothing runs, so it does not reload.
        File.Delete(page);
        s.Ok("-t:Status", "-p:Dataset=hcrl_sa", "-p:ReportFile=pages/status.html");
        var status = File.ReadAllText(Path.Combine(s.Dir, "pages", "status.html"));
        Assert.Contains("data-id=\"hcrl_sa/eval_large_evaluation\" data-state=\"up-to-date\"", status);
        Assert.DoesNotContain("http-equiv=\"refresh\"", status);
        Assert.False(File.Exists(page));
    }
}
