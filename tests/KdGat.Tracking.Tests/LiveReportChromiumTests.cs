using System.Text.Json;
using KdGat.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KdGat.Tracking.Tests;

/// <summary>
/// The live report during a real build, in headless Chromium: a page loaded once (file://, as
/// from a portal's file browser) shows a stage running with its pid and its epoch curve, then,
/// with no navigation by the test, the same tab shows it ran: the page reloaded itself (its
/// per-tab load counter went up), and the finished build's page stops reloading. The stage waits
/// for a file the test creates, so nothing depends on timing.
/// </summary>
[Trait("Category", "Browser")]
public sealed class LiveReportChromiumTests
{
    private const string Stage = "gat_large_curriculum";
    private const string Key = "hcrl_sa/" + Stage;
    private readonly ITestOutputHelper _out;
    public LiveReportChromiumTests(ITestOutputHelper output) => _out = output;

    private static string NodeState(string id) =>
        $"(function () {{ var g = document.querySelector('#stage-graph g.node[data-id=\"{id}\"]'); return g ? g.getAttribute('data-state') : null; }})()";

    [Fact]
    public void LiveReport_ShowsStateChangesWithoutAManualReload_ThenStopsReloading()
    {
        var chromium = HeadlessChromium.Require(_out);
        using var s = TrackingSandbox.Create();
        // Two epochs written at once, then wait (polling) until the test says go.
        s.PrefixCommand(Stage, "printf '{{\"epoch\":1,\"loss\":0.9}}\\n{{\"epoch\":2,\"loss\":0.5}}\\n' > {run_dir}/curves.jsonl; while [ ! -e {root}/go.flag ]; do sleep 0.05; done; ");
        var report = Path.Combine(s.Dir, "out", "live.html");
        var build = s.Start(["-p:Dataset=hcrl_sa", "-p:ReportFile=out/live.html", "-p:LiveReportRefresh=1"], out var output);
        try
        {
            WaitForFile(report, html => html.Contains($"data-id=\"{Key}\" data-state=\"running\""), build, output);
            if (chromium is null) { File.WriteAllText(Path.Combine(s.Dir, "go.flag"), ""); Assert.True(build.WaitForExit(180_000)); return; }

            using var browser = HeadlessChromium.Open(chromium, Path.Combine(s.Dir, "chromium-profile"), report);
            browser.WaitFor("document.documentElement.getAttribute('data-rendered')", v => v.ValueKind == JsonValueKind.String, "the first load");
            Assert.Equal("running", browser.Evaluate(NodeState(Key))?.GetString());
            Assert.Equal(13, browser.Evaluate("document.querySelectorAll('#stage-graph g.node').length")?.GetInt32());
            Assert.Contains("pid ", browser.Evaluate($"document.querySelector('#stage-graph g.node[data-id=\"{Key}\"]').textContent")?.GetString());
            Assert.Equal(1, browser.Evaluate($"document.querySelectorAll('.curves[data-id=\"{Key}\"] svg.curve[data-metric=\"loss\"] polyline').length")?.GetInt32());
            Assert.Equal("1", browser.Evaluate("document.querySelector('meta[http-equiv=\"refresh\"]').content")?.GetString());
            var firstLoads = int.Parse(browser.Evaluate("document.documentElement.getAttribute('data-loads')")!.Value.GetString()!);
            // Each document has its own time origin: a new one in this tab, which the test never
            // navigates, is a reload the page did itself. (The data-loads count rides on
            // sessionStorage, which a starved renderer can hand to the next document late; it is
            // logged, not asserted.)
            var firstDocument = browser.Evaluate("String(performance.timeOrigin)")!.Value.GetString();

            File.WriteAllText(Path.Combine(s.Dir, "go.flag"), "");
            browser.WaitFor(NodeState(Key), v => v.ValueKind == JsonValueKind.String && v.GetString() == "ran", $"{Key} to show 'ran' in the same tab");
            var loads = int.Parse(browser.WaitFor("document.documentElement.getAttribute('data-loads')", v => v.ValueKind == JsonValueKind.String, "a load count").GetString()!);
            _out.WriteLine($"loads of the tab: {firstLoads} at first, {loads} when {Key} showed ran");
            Assert.NotEqual(firstDocument, browser.Evaluate("String(performance.timeOrigin)")!.Value.GetString());

            Assert.True(build.WaitForExit(180_000), "build did not finish:\n" + output);
            build.WaitForExit();
            Assert.True(build.ExitCode == 0, output.ToString());
            browser.WaitFor("(function () { var p = document.getElementById('build-state'); return p && p.getAttribute('data-state'); })()",
                v => v.ValueKind == JsonValueKind.String && v.GetString() == "done", "the finished page");
            Assert.Equal(0, browser.Evaluate("document.querySelectorAll('meta[http-equiv=\"refresh\"]').length")?.GetInt32());
            Assert.Equal("ran", browser.Evaluate(NodeState(Key))?.GetString());
        }
        finally
        {
            File.WriteAllText(Path.Combine(s.Dir, "go.flag"), "");
            if (!build.HasExited && !build.WaitForExit(120_000)) build.Kill(entireProcessTree: true);
            build.Dispose();
        }
    }

    private static void WaitForFile(string file, Func<string, bool> ok, System.Diagnostics.Process build, System.Text.StringBuilder output)
    {
        bool Shown() => File.Exists(file) && ok(File.ReadAllText(file));
        if (!Eventually.Within(TimeSpan.FromMinutes(3), () => Shown() || build.HasExited, TimeSpan.FromMilliseconds(50)))
            throw new Xunit.Sdk.XunitException($"report never showed the stage running:\n{output}");
        if (!Shown()) throw new Xunit.Sdk.XunitException($"build ended before the report showed the stage running:\n{output}");
    }
}
