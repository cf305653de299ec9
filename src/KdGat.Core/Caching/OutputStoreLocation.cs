using KdGat.Core.Config;

namespace KdGat.Core.Caching;

/// <summary>Where the store is: $KDGAT_CACHE, else cache_store in the config, else .kdgat/store; "off" disables it.</summary>
public static class OutputStoreLocation
{
    public const string EnvironmentVariable = "KDGAT_CACHE";

    public static string? Resolve(PipelineConfig config, Func<string, string?>? env = null)
    {
        var value = (env ?? Environment.GetEnvironmentVariable)(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value)) value = config.CacheStore;
        if (string.IsNullOrWhiteSpace(value)) return Path.Combine(config.Root, ".kdgat", "store");
        if (value.Trim() is "off" or "none" or "false") return null;
        return Path.GetFullPath(Path.Combine(config.Root, value.Trim()));
    }

    public static OutputStore? Open(PipelineConfig config, Func<string, string?>? env = null) =>
        Resolve(config, env) is { } dir ? new OutputStore(dir) : null;
}
