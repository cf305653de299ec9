using System.Globalization;
using System.Text.RegularExpressions;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Caching;

/// <summary>CacheGc: parses -p:CacheMaxSize / -p:CacheMaxAge and trims the store, least recently used first.</summary>
internal static partial class CacheCollector
{
    /// <param name="given">Where a property's value came from, for errors about it: -p:CacheMaxSize, or the environment variable (KDG1225, <see cref="Engine.BuildRequest.Given"/>).</param>
    public static OutputStore.GcResult Collect(PipelineConfig config, string? maxSize, string? maxAge, DateTimeOffset now, Func<string, string>? given = null)
    {
        var bytes = ParseSize(maxSize, given?.Invoke("CacheMaxSize"));
        var age = ParseAge(maxAge, given?.Invoke("CacheMaxAge"));
        if (bytes is null && age is null)
            throw new KdgException(ErrorCodes.BadProperty, "CacheGc needs a limit: -p:CacheMaxSize=20G (size, e.g. 500M, 20G, 1T) and/or -p:CacheMaxAge=30d (age since last use, e.g. 12h, 30d).");
        var store = OutputStoreLocation.Open(config)
            ?? throw new KdgException(ErrorCodes.CacheOff, $"the output cache is off (cache_store or ${OutputStoreLocation.EnvironmentVariable} is 'off'); there is nothing to collect.", config.File);
        if (store.ReadOnly)
            throw new KdgException(ErrorCodes.CacheReadOnlyGc, $"the output cache {store.Root} is read-only (${OutputStoreLocation.ReadOnlyVariable}=1); CacheGc does not trim it. Unset ${OutputStoreLocation.ReadOnlyVariable} to collect.");
        return store.Collect(bytes, age, now);
    }

    public static long? ParseSize(string? text, string? given = null)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var m = SizePattern().Match(text.Trim());
        // A number alone is refused, not read as bytes: -p:CacheMaxSize=20 meant 20G and evicted almost the whole cache (a user review).
        if (!m.Success)
            throw new KdgException(ErrorCodes.BadProperty, $"{Engine.EnvironmentProperties.WithValue(given, "CacheMaxSize", text)} is not a size{(NumberAlone().IsMatch(text.Trim()) ? " (a number needs its unit: a number alone would be bytes, and evict almost everything)" : "")}. " +
                "Use a number with K, M, G or T (KiB..TiB; 20G, 20GB, 20Gi and 20GiB are the same), e.g. 500M or 20G, or B for bytes (4096B). Nothing was evicted.");
        var unit = m.Groups[2].Value.Length == 0 ? 0 : "KMGT".IndexOf(char.ToUpperInvariant(m.Groups[2].Value[0])) + 1;
        return (long)(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * Math.Pow(1024, unit));
    }

    private const int MaxAgeDays = 36_500;

    public static TimeSpan? ParseAge(string? text, string? given = null)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var m = AgePattern().Match(text.Trim());
        if (!m.Success)
            throw new KdgException(ErrorCodes.BadProperty, $"{Engine.EnvironmentProperties.WithValue(given, "CacheMaxAge", text)} is not an age. Use a number with m, h or d, e.g. 90m, 12h or 30d.");
        var minutes = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * m.Groups[2].Value switch { "m" => 1, "h" => 60, _ => 24 * 60 };
        // 99999999999999d overflowed TimeSpan: KDG9001 (a review).
        if (minutes > MaxAgeDays * 24 * 60)
            throw new KdgException(ErrorCodes.BadProperty, $"{Engine.EnvironmentProperties.WithValue(given, "CacheMaxAge", text)} is more than {MaxAgeDays}d. Leave CacheMaxAge out for no age limit, or use a smaller age, e.g. 365d.");
        return TimeSpan.FromMinutes(minutes);
    }

    /// <summary>A number and its unit: K, M, G or T (binary; an "i" and a "B" after it change nothing), or B alone for bytes.</summary>
    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(?:([KMGTkmgt])i?[Bb]?|[Bb])$")]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^\d+(?:\.\d+)?$")]
    private static partial Regex NumberAlone();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)([mhd])$")]
    private static partial Regex AgePattern();
}
