namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // MSBuild's per-instance stamps and up-to-date markers (.kdgat/stamps/).
    /// <summary>Error: a stamp could not be written or a stale instance's up-to-date marker could not be deleted.</summary>
    public const string StampsUnwritable = "KDG1230";
}
