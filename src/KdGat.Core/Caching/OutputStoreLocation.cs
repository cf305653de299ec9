using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Caching;

/// <summary>
/// Where the store is: $KDGAT_CACHE, else cache_store in the config, else .kdgat/store; off/none/false/no/0
/// (any case) disable it, on/true/yes/1 name the default.
/// $KDGAT_CACHE_READONLY=1 opens it read-only (pull-request jobs: restore from it, never write to it).
/// </summary>
internal static class OutputStoreLocation
{
    public const string EnvironmentVariable = "KDGAT_CACHE";
    public const string ReadOnlyVariable = "KDGAT_CACHE_READONLY";

    public static string? Resolve(PipelineConfig config, Func<string, string?>? env = null)
    {
        var value = (env ?? Environment.GetEnvironmentVariable)(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value)) value = config.CacheStore;
        // Switch words in any case: KDGAT_CACHE=OFF or 0 was a store folder named OFF or 0 in the pipeline
        // root, restored from without a word, where the user asked for a from-scratch build (an edge review).
        var word = value?.Trim().ToLowerInvariant();
        if (word is null or "" or "on" or "true" or "yes" or "1") return Path.Combine(config.Root, Pipeline.PipelineLayout.StateDirName, "store");
        if (word is "off" or "none" or "false" or "no" or "0") return null;
        return Path.GetFullPath(Path.Combine(config.Root, value!.Trim()));
    }

    public static OutputStore? Open(PipelineConfig config, Func<string, string?>? env = null, TimeProvider? time = null) =>
        Resolve(config, env) is { } dir ? new OutputStore(dir, IsReadOnly(env)) { Time = time ?? TimeProvider.System } : null;

    /// <summary>$KDGAT_CACHE_READONLY: 1/true/yes or 0/false/no (empty: writable); anything else is KDG1210.</summary>
    public static bool IsReadOnly(Func<string, string?>? env = null)
    {
        var value = (env ?? Environment.GetEnvironmentVariable)(ReadOnlyVariable)?.Trim().ToLowerInvariant();
        return value switch
        {
            null or "" or "0" or "false" or "no" => false,
            "1" or "true" or "yes" => true,
            _ => throw new KdgException(ErrorCodes.CacheReadOnlyValue,
                $"${ReadOnlyVariable}='{value}' is not a yes/no value. Set it to 1 (restore from the output cache, never write to it) or 0, or unset it."),
        };
    }
}
