namespace KdGat.Core.Diagnostics;

public static partial class ErrorCodes
{
    // Output cache modes (CI).
    /// <summary>Error: KDGAT_CACHE_READONLY is set to something other than 1/0/true/false.</summary>
    public const string CacheReadOnlyValue = "KDG1210";
    /// <summary>Error: CacheGc was asked to trim a store opened read-only (KDGAT_CACHE_READONLY=1).</summary>
    public const string CacheReadOnlyGc = "KDG1211";
}
