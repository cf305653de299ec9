using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Caching;

/// <summary>
/// Where the store is: $KDGAT_CACHE, else cache_store in the config, else .kdgat/store; none or a no
/// word (<see cref="YesNo"/>) disables it, a yes word names the default.
/// $KDGAT_CACHE_READONLY, a yes word, opens it read-only (pull-request jobs: restore from it, never write to it).
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
        var word = value?.Trim();
        bool? on = string.IsNullOrEmpty(word) ? true : word.Equals("none", StringComparison.OrdinalIgnoreCase) ? false : YesNo.Read(word);
        if (on is { } useStore) return useStore ? Path.Combine(config.Root, Pipeline.PipelineLayout.StateDirName, "store") : null;
        return Path.GetFullPath(Path.Combine(config.Root, word!));
    }

    public static OutputStore? Open(PipelineConfig config, Func<string, string?>? env = null, TimeProvider? time = null) =>
        Resolve(config, env) is { } dir ? new OutputStore(dir, IsReadOnly(env)) { Time = time ?? TimeProvider.System } : null;

    /// <summary>$KDGAT_CACHE_READONLY: a yes or no word (<see cref="YesNo"/>; empty: writable); anything else is KDG1210.</summary>
    public static bool IsReadOnly(Func<string, string?>? env = null)
    {
        var value = (env ?? Environment.GetEnvironmentVariable)(ReadOnlyVariable);
        if (string.IsNullOrWhiteSpace(value)) return false;
        return YesNo.Read(value) ?? throw new KdgException(ErrorCodes.CacheReadOnlyValue,
            $"${ReadOnlyVariable}='{ConsoleText.Printable(value.Trim())}' is not a yes/no value ({YesNo.Words}). Set it to 1 (restore from the output cache, never write to it) or 0, or unset it.");
    }
}
