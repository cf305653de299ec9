namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // MSBuild's per-instance stamps and up-to-date markers (.kdgat/stamps/).
    /// <summary>Error: a stamp could not be written or a stale instance's up-to-date marker could not be deleted.</summary>
    public const string StampsUnwritable = "KDG1230";
    /// <summary>Warning: a stage's Needs differ from the graph a no-op certificate's plan was made with (the change came from something the plan's certificate does not observe), so MSBuild may have skipped its target; the build checked every instance in full.</summary>
    public const string StageGraphUnobserved = "KDG1231";
}
