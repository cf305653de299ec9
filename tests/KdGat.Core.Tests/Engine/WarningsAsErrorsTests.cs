using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// -warnAsError: MSBuild fails its build on a warning it makes an error, so KdGat's verdict (the report,
/// last-build.json, on_success/on_failure) fails too. A -warnAsError:KDG1013 build stopped with exit 1 but
/// ran its stages, ran on_success and wrote "succeeded": true, the opposite of the exit code (rvswitches).
/// The build's log answers which codes are errors (MSBuildLog asks MSBuild's IBuildEngine8).
/// </summary>
[Trait("Category", "Unit")]
public sealed class WarningsAsErrorsTests : IDisposable
{
    private readonly TestPipeline _p;

    public WarningsAsErrorsTests() => _p = Pipeline("code: ['nothere/**/*.py'], ");

    public void Dispose() => _p.Dispose();

    private static TestPipeline Pipeline(string stageKeys, string command = "echo a > out.txt") => new($$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        on_success: 'echo success >> hook.txt'
        on_failure: 'echo failure >> hook.txt'
        stages:
          a: { {{stageKeys}}command: '{{command}}', outputs: [out.txt] }
        """, "d1");

    private static async Task<(BuildReport Report, RecordingLog Log)> Build(TestPipeline p, params string[] warningsAsErrors)
    {
        var log = new RecordingLog { WarningsAsErrors = warningsAsErrors.ToHashSet() };
        return (await new BuildEngine().RunAsync(p.Request([new("a", [])]), log, default), log);
    }

    private static string Hook(TestPipeline p) => File.Exists(p.Dir["hook.txt"]) ? File.ReadAllText(p.Dir["hook.txt"]) : "";

    [Fact]
    public async Task LoadTimeWarningMadeAnError_StopsBeforeTheStages_AndTheReportAndHookSayFailed()
    {
        var (r, log) = await Build(_p, ErrorCodes.CodePatternMatchesNothing);

        Assert.Contains(log.Items, d => d.Code == ErrorCodes.CodePatternMatchesNothing);
        Assert.False(r.Succeeded);
        Assert.Empty(r.Stages); // nothing was checked
        Assert.False(File.Exists(_p.Dir["runs/d1/a/out.txt"]));
        Assert.False(BuildReport.Read(_p.Dir[".kdgat/last-build.json"])!.Succeeded);
        Assert.Equal("failure\n", Hook(_p));
        Assert.Contains(log.Items, d => d.Severity == Severity.Message && d.Message.Contains("nothing was checked or run: KDG1013 above is an error in this build (-warnAsError)"));

        var (again, _) = await Build(_p); // a warning again: the same pipeline builds

        Assert.True(again.Succeeded);
        Assert.Equal([Outcome.Ran], again.Stages.Select(s => s.Outcome));
        Assert.Equal("failure\nsuccess\n", Hook(_p));
    }

    [Fact]
    public async Task WarningDuringTheBuildMadeAnError_FailsTheVerdict_AndTheStageKeepsItsResult()
    {
        // KDG3016: the command left a background process that the build killed (the stage's result is still good).
        using var p = Pipeline("", "(sleep 30) & echo a > out.txt");

        var (r, log) = await Build(p, ErrorCodes.LeftoversKilled);

        Assert.Contains(log.Items, d => d.Code == ErrorCodes.LeftoversKilled);
        Assert.Equal([Outcome.Ran], r.Stages.Select(s => s.Outcome));
        Assert.False(r.Succeeded);
        Assert.False(BuildReport.Read(p.Dir[".kdgat/last-build.json"])!.Succeeded);
        Assert.Equal("failure\n", Hook(p));

        var (again, _) = await Build(p, ErrorCodes.LeftoversKilled);

        Assert.Equal([Outcome.UpToDate], again.Stages.Select(s => s.Outcome)); // committed: only the verdict failed
        Assert.True(again.Succeeded);
    }

    [Fact]
    public async Task WarningsThatStayWarnings_ChangeNothing()
    {
        var (r, log) = await Build(_p, ErrorCodes.LeftoversKilled);

        Assert.Contains(log.Items, d => d.Code == ErrorCodes.CodePatternMatchesNothing && d.Severity == Severity.Warning);
        Assert.True(r.Succeeded);
        Assert.Equal([Outcome.Ran], r.Stages.Select(s => s.Outcome));
        Assert.Equal("success\n", Hook(_p));
    }
}
