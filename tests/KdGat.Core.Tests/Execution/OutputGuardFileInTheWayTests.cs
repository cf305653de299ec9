using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution;

/// <summary>
/// An output that was a file (`outputs: [sub]`) and is now a file in a folder of that name
/// (`outputs: [sub/model.ckpt]`): the old file is where the folder must go. A from-scratch build
/// has no such file, so the attempt moves it aside as a leftover (put back by a rollback, dropped by
/// the commit); it was kept in place, and the stage failed ("Not a directory") at every build.
/// </summary>
[Trait("Category", "Unit")]
public sealed class OutputGuardFileInTheWayTests
{
    private static string Yaml(string output) => $$"""
        datasets: [d1]
        cache_store: off
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a:
            command: 'echo {{output}} > {{output}}'
            outputs: [{{output}}]
        """;

    private static async Task<(BuildReport Report, RecordingLog Log)> Build(TestPipeline p)
    {
        var log = new RecordingLog();
        return (await new BuildEngine().RunAsync(p.Request([new("a", [])]), log, default), log);
    }

    [Fact]
    public async Task AnOutputFileWhereAnOutputsFolderNowGoes_IsMovedAside_TheStageRunsAsFromScratch()
    {
        using var p = new TestPipeline(Yaml("sub"), "d1");
        Assert.True((await Build(p)).Report.Succeeded);

        p.WriteConfig(Yaml("sub/model.ckpt"));
        var (r, log) = await Build(p);

        Assert.True(r.Succeeded, string.Join("\n", log.Items.Select(i => $"{i.Code} {i.Message}")));
        Assert.Equal("sub/model.ckpt\n", File.ReadAllText(p.Dir["runs/d1/a/sub/model.ckpt"]));
    }
}
