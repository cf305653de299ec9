using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;

namespace KdGat.Core.Graphing;

/// <summary>-t:Graph: Explain the selection, map its report onto a picture, write DOT and SVG.</summary>
internal static class GraphCommand
{
    /// <summary>Files null: nothing written (Explain stopped before it checked anything, or -question).</summary>
    public sealed record Result(BuildReport Explain, PipelinePicture Picture, string? DotFile, string? SvgFile)
    {
        /// <summary>-question: the files a run without it would write that differ from what is there.</summary>
        public IReadOnlyList<string> WouldChange { get; init; } = [];
    }

    /// <param name="graphFile">-p:GraphFile (relative to the root); empty for .kdgat/graph.dot.</param>
    /// <param name="lookOnly">-question: write nothing, say in <see cref="Result.WouldChange"/> what would change.</param>
    public static async Task<Result> RunAsync(BuildRequest request, string? graphFile, IBuildLog log, CancellationToken cancel = default, bool lookOnly = false)
    {
        // Failed and submitted instances come from the newest real build's report. Graph only looks:
        // its Explain publishes no report, so last-build.json stays the last build's.
        GraphFiles.Paths(request.Root, graphFile);
        var previous = BuildReport.LatestBuild(Path.Combine(Path.GetFullPath(request.Root), Pipeline.PipelineLayout.StateDirName));
        var explain = await new BuildEngine().RunAsync(request with { Mode = BuildMode.Explain, PublishReport = false, SaveHashCache = !lookOnly }, log, cancel).ConfigureAwait(false);
        var picture = PipelinePicture.From(explain, request.Stages, previous);
        // Stopped before anything was checked (a load-time warning -warnAsError made an error): an empty picture
        // replaced the last graph (a review); the files stay as they were.
        if (!explain.Succeeded && explain.Stages.Count == 0) return new Result(explain, picture, null, null);
        if (lookOnly) return new Result(explain, picture, null, null) { WouldChange = GraphFiles.WouldChange(picture, request.Root, graphFile) };
        var (dot, svg) = GraphFiles.Write(picture, request.Root, graphFile);
        return new Result(explain, picture, dot, svg);
    }
}
