using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.IO;
using KdGat.Core.Reporting;

namespace KdGat.Core.Graphing;

/// <summary>-t:Graph: Explain the selection, map its report onto a picture, write DOT and SVG.</summary>
public static class GraphCommand
{
    public sealed record Result(BuildReport Explain, PipelinePicture Picture, string DotFile, string SvgFile);

    /// <param name="graphFile">-p:GraphFile (relative to the root); empty for .kdgat/graph.dot.</param>
    public static Result Run(BuildRequest request, string? graphFile, IBuildLog log)
    {
        // Explain replaces last-build.json; Graph only looks, so it puts the last build's report back
        // (and reads it first: its failed and submitted instances are shown as such).
        var lastBuild = Path.Combine(Path.GetFullPath(request.Root), ".kdgat", "last-build.json");
        var saved = File.Exists(lastBuild) ? File.ReadAllBytes(lastBuild) : null;
        var previous = saved is null ? null : BuildReport.Read(lastBuild);
        BuildReport explain;
        try
        {
            explain = new BuildEngine().RunAsync(request with { Mode = BuildMode.Explain }, log, CancellationToken.None).GetAwaiter().GetResult();
        }
        finally
        {
            if (saved is not null) AtomicFile.WriteAllBytes(lastBuild, saved);
        }
        var picture = PipelinePicture.From(explain, request.Stages, previous);
        var (dot, svg) = GraphFiles.Write(picture, request.Root, graphFile);
        return new Result(explain, picture, dot, svg);
    }
}
