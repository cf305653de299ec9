using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Graphing;
using KdGat.Core.Reporting;

namespace KdGat.Tasks;

/// <summary>
/// -t:Graph: the stage graph of the selection with each instance's state (Explain's decision, or
/// failed / submitted as the last build left it) as DOT and as an SVG laid out by KdGat.
/// </summary>
public sealed class KdGatGraph : PipelineTask
{
    /// <summary>-p:Stage: only this stage and what it needs.</summary>
    public string? Stage { get; set; }
    public string? VerifyHashes { get; set; }
    /// <summary>-p:GraphFile: the DOT file (default .kdgat/graph.dot); the SVG goes beside it.</summary>
    public string? GraphFile { get; set; }

    private protected override bool Run(MSBuildLog log)
    {
        var request = Request(BuildMode.Explain) with { OnlyStage = Stage, VerifyHashes = ParseBool(nameof(VerifyHashes), VerifyHashes, false) };
        // Explain replaces last-build.json: read what the last build left first.
        var previous = BuildReport.Read(Path.Combine(Root, ".kdgat", "last-build.json"));
        var report = new BuildEngine().RunAsync(request, log, CancellationToken.None).GetAwaiter().GetResult();
        var picture = PipelinePicture.From(report, request.Stages, previous);
        var (dot, svg) = GraphFiles.Write(picture, Root, GraphFile);
        log.Info($"KdGat: stage graph ({picture.Nodes.Count} stage instance(s)) written to {dot} and {svg}");
        return report.Succeeded;
    }
}
