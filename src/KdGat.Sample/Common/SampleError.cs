namespace KdGat.Sample.Common;

/// <summary>
/// A problem the user can fix (bad argument, missing or malformed file, bad data). Program prints
/// it as one line, "kdgat-sample: error: FILE(LINE): WHAT; FIX" (or "FILE: WHAT; FIX" without a
/// line), and exits 2, without a stack trace: the trace would only bury the one line that says
/// what to do, and KdGat shows the last stderr lines of a failed stage on the console.
/// </summary>
internal sealed class SampleError(string what, string file, string fix, long? line = null)
    : Exception(line is { } n ? $"{file}({n}): {what}; {fix}" : $"{file}: {what}; {fix}")
{
    public string What { get; } = what;
    public string File { get; } = file;
    public string Fix { get; } = fix;
    public long? Line { get; } = line;

    /// <summary>Stands in for the file name when the problem is on the command line.</summary>
    public const string CommandLine = "command line";
}
