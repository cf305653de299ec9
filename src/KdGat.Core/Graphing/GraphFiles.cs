using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Graphing;

/// <summary>Writes the DOT file and the SVG beside it (same name, .svg), each atomically.</summary>
internal static class GraphFiles
{
    public const string DefaultDotFile = ".kdgat/graph.dot";

    /// <param name="dotFile">-p:GraphFile, relative to the pipeline root; empty for .kdgat/graph.dot.</param>
    /// <returns>Full paths of the DOT and SVG files.</returns>
    public static (string Dot, string Svg) Write(PipelinePicture picture, string root, string? dotFile)
    {
        var (dot, svg) = Paths(root, dotFile);
        AtomicFile.WriteAllText(dot, DotWriter.Write(picture), durable: false);
        AtomicFile.WriteAllText(svg, SvgWriter.Write(picture), durable: false);
        return (dot, svg);
    }

    /// <summary>-question: the files <see cref="Write"/> would change (missing, or other bytes); nothing is written.</summary>
    public static IReadOnlyList<string> WouldChange(PipelinePicture picture, string root, string? dotFile)
    {
        var (dot, svg) = Paths(root, dotFile);
        return new[] { (Path: dot, Text: DotWriter.Write(picture)), (Path: svg, Text: SvgWriter.Write(picture)) }
            .Where(f => ReplaceableFile.Current(f.Path) != f.Text).Select(f => f.Path).ToArray();
    }

    /// <summary>Where the files go; a directory there is refused before anything is explained.</summary>
    public static (string Dot, string Svg) Paths(string root, string? dotFile)
    {
        var given = Path.GetFullPath(Path.Combine(root, string.IsNullOrWhiteSpace(dotFile) ? DefaultDotFile : dotFile.Trim()));
        // -p:GraphFile=x.svg names the picture: the DOT goes beside it as x.dot.
        var dot = given.EndsWith(".svg", StringComparison.OrdinalIgnoreCase) ? Path.ChangeExtension(given, ".dot") : given;
        var svg = Path.ChangeExtension(dot, ".svg");
        foreach (var path in new[] { dot, svg }.Where(Directory.Exists))
            throw new KdgException(ErrorCodes.FileAccess,
                $"-p:GraphFile '{dotFile}' names a directory ('{path}'); give a file name such as {Path.Combine(dotFile?.Trim() ?? "", "graph.dot")} (the SVG goes beside it).");
        foreach (var (path, signature) in new[] { (dot, ReplaceableFile.DotSignature), (svg, ReplaceableFile.SvgSignature) })
            if (!ReplaceableFile.MayReplace(path, signature))
                throw new KdgException(ErrorCodes.FileAccess, ReplaceableFile.Refusal("GraphFile", dotFile?.Trim() ?? "", path));
        return (dot, svg);
    }
}
