namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // 402x: the live HTML report a build rewrites while it runs.
    /// <summary>Warning: the live report could not be written (permissions, full disk); the build goes on without it and its result is unchanged.</summary>
    public const string LiveReportWriteFailed = "KDG4020";
    /// <summary>Error: -p:ReportFile names a directory, or -p:LiveReportRefresh is not a number of seconds from 1 to 3600.</summary>
    public const string LiveReportBadProperty = "KDG4021";
}
