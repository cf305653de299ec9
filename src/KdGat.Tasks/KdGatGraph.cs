using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Graphing;

namespace KdGat.Tasks;

/// <summary>
/// -t:Graph: the stage graph of the selection with each instance's state (Explain's decision, or
/// failed / submitted as the last build left it) as DOT and as an SVG laid out by KdGat.
/// </summary>
public sealed class KdGatGraph : PipelineTask, Microsoft.Build.Framework.IIncrementalTask
{
    /// <summary>Set by MSBuild under -question: write nothing; the files that would change fail it (KDG1218).</summary>
    public bool FailIfNotIncremental { get; set; }

    /// <summary>-p:Stage: only this stage and what it needs.</summary>
    public string? Stage { get; set; }
    public string? VerifyHashes { get; set; }
    /// <summary>-p:GraphFile: the DOT file (default .kdgat/graph.dot); the SVG goes beside it.</summary>
    public string? GraphFile { get; set; }

    private protected override bool Run(MSBuildLog log)
    {
        var request = Request(BuildMode.Explain) with { OnlyStage = Stage, VerifyHashes = ParseBool(nameof(VerifyHashes), VerifyHashes, false) };
        var r = GraphCommand.RunAsync(request, GraphFile, log, lookOnly: FailIfNotIncremental).GetAwaiter().GetResult(); // MSBuild tasks are synchronous: the one blocking point
        if (r.DotFile is not null) log.Info($"KdGat: stage graph ({r.Picture.Nodes.Count} stage instance(s)) written to {r.DotFile} and {r.SvgFile}");
        if (r.WouldChange.Count > 0) return NotUpToDate(log, "-question", "Graph", $"write {string.Join(" and ", r.WouldChange)} (missing, or another picture)", "written");
        return r.Explain.Succeeded;
    }
}
