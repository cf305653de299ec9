namespace KdGat.Sample.Common;

/// <summary>
/// A problem the user can fix (bad argument, missing or malformed file). Program prints it as
/// "kdgat-sample: error: WHAT, FILE, FIX" and exits 2, without a stack trace: the trace would only
/// bury the one line that says what to do.
/// </summary>
internal sealed class SampleError(string what, string file, string fix) : Exception($"{what}, {file}, {fix}")
{
    public string What { get; } = what;
    public string File { get; } = file;
    public string Fix { get; } = fix;

    /// <summary>Stands in for the file name when the problem is on the command line.</summary>
    public const string CommandLine = "command line";
}
