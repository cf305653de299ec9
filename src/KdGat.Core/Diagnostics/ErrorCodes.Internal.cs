namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // A bug in KdGat itself, not in the pipeline: the last resort of every task.
    /// <summary>Error: a KdGat task failed unexpectedly; the exception's stack trace is in .kdgat/crash/ (and the detailed log), not on the console.</summary>
    public const string InternalError = "KDG9001";
}
