using KdGat.Core.IO;

namespace KdGat.Core.Graphing;

/// <summary>Writes the DOT file and the SVG beside it (same name, .svg), each atomically.</summary>
public static class GraphFiles
{
    public const string DefaultDotFile = ".kdgat/graph.dot";

    /// <param name="dotFile">-p:GraphFile, relative to the pipeline root; empty for .kdgat/graph.dot.</param>
    /// <returns>Full paths of the DOT and SVG files.</returns>
    public static (string Dot, string Svg) Write(PipelinePicture picture, string root, string? dotFile)
    {
        var dot = Path.GetFullPath(Path.Combine(root, string.IsNullOrWhiteSpace(dotFile) ? DefaultDotFile : dotFile.Trim()));
        var svg = Path.ChangeExtension(dot, ".svg");
        if (svg == dot) svg = dot + ".svg"; // -p:GraphFile=x.svg: keep the DOT text out of it
        AtomicFile.WriteAllText(dot, DotWriter.Write(picture), durable: false);
        AtomicFile.WriteAllText(svg, SvgWriter.Write(picture), durable: false);
        return (dot, svg);
    }
}
