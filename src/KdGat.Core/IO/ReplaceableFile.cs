namespace KdGat.Core.IO;

/// <summary>
/// A file KdGat writes where the user says (-p:ReportFile, -p:GraphFile) replaces only nothing, an
/// empty file, or what KdGat wrote there before: -p:ReportFile=kdgat.yaml replaced the configuration
/// with the HTML report, and -p:GraphFile=kdgat.yaml with DOT (a review). What KdGat wrote is told
/// by a signature in the file's first bytes.
/// </summary>
internal static class ReplaceableFile
{
    /// <summary>In the head every HTML page of KdGat's has (Tracking.ReportPage.Head).</summary>
    public const string HtmlSignature = "body{font-family:DejaVu Sans,Arial,sans-serif;margin:16px 24px";
    /// <summary>The first line of the DOT file -t:Graph writes (Graphing.DotWriter).</summary>
    public const string DotSignature = "digraph kdgat {";
    /// <summary>The arrow head every SVG -t:Graph has written defines first (Graphing.SvgWriter; its root element's class came later).</summary>
    public const string SvgSignature = "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">";

    private const int HeadBytes = 4096;

    /// <summary>
    /// The text of the file KdGat would replace at <paramref name="path"/>, for -question to compare with what it would write;
    /// null when there is none or it cannot be read (then it differs).
    /// </summary>
    public static string? Current(string path)
    {
        try { return File.Exists(path) ? SmallFile.ReadAllText(path, 1L << 30) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Whether <paramref name="path"/> is missing, empty, or a regular file whose first bytes hold <paramref name="signature"/>.</summary>
    public static bool MayReplace(string path, string signature)
    {
        var stat = Hashing.PathStat.Of(path);
        if (stat.Kind == Hashing.PathKind.Missing) return true;
        if (stat.Kind != Hashing.PathKind.File) return false; // a directory, a FIFO, a device: never ours
        try
        {
            var head = SmallFile.Head(path, HeadBytes);
            return head.Length == 0 || System.Text.Encoding.UTF8.GetString(head).Contains(signature, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // unreadable: not known to be ours
        }
    }

    /// <summary>The refusal's text: which property named which file, and what to do.</summary>
    /// <param name="source">Where the value came from (<see cref="Engine.EnvironmentProperties.Given"/>): null or "-p:NAME", or an environment variable.</param>
    public static string Refusal(string property, string given, string path, string? source = null) =>
        $"{Engine.EnvironmentProperties.WithValue(source, property, given)} names {path}, a file KdGat did not write, so it is not replaced. Give another file name, or move that file away first.";
}
