using KdGat.Core.Diagnostics;
using KdGat.Core.Graphing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Graphing;

/// <summary>-t:Graph writes the picture of Explain's decisions; an Explain that stopped before it checked anything leaves the last picture.</summary>
[Trait("Category", "Unit")]
public sealed class GraphCommandTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a: { code: ['nothere/**/*.py'], command: 'echo a > out.txt', outputs: [out.txt] }
        """, "d1");

    public void Dispose() => _p.Dispose();

    /// <summary>
    /// -warnAsError:KDG1013 (a code pattern that matches nothing) stops Explain before it checks anything: Graph
    /// wrote an empty picture over the last graph (fxwarnerr's note). Nothing is written now.
    /// </summary>
    [Fact]
    public async Task AnExplainStoppedBeforeItChecked_LeavesTheLastGraph()
    {
        var request = _p.Request([new("a", [])]);
        var first = await GraphCommand.RunAsync(request, null, new RecordingLog());
        Assert.NotNull(first.SvgFile);
        var svg = File.ReadAllBytes(first.SvgFile);
        var dot = File.ReadAllBytes(first.DotFile!);

        var stopped = await GraphCommand.RunAsync(request, null, new RecordingLog { WarningsAsErrors = new HashSet<string> { ErrorCodes.CodePatternMatchesNothing } });

        Assert.False(stopped.Explain.Succeeded);
        Assert.Null(stopped.SvgFile);
        Assert.Equal(svg, File.ReadAllBytes(first.SvgFile));
        Assert.Equal(dot, File.ReadAllBytes(first.DotFile!));
    }
}
