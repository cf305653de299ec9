using KdGat.Core.Caching;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Tasks;

/// <summary>Trims the content-addressed output store by size and/or age since last use, least recently used first.</summary>
public sealed class KdGatCacheGc : ChangingTask
{
    [FromProperty("CacheMaxSize")] public string? MaxSize { get; set; }
    [FromProperty("CacheMaxAge")] public string? MaxAge { get; set; }

    private protected override string Changes => "evict entries from the output cache";

    private protected override bool Change(MSBuildLog log)
    {
        foreach (var warning in KdGat.Core.Engine.EnvironmentProperties.Warnings(Request())) log.Report(warning);
        var config = ConfigLoader.Load(ConfigFile, Root);
        var r = CacheCollector.Collect(config, MaxSize, MaxAge, TimeProvider.System.GetUtcNow(), Given);
        if (r.Kept.Count > 0)
            log.Report(new Diagnostic(Severity.Warning, ErrorCodes.CacheEntriesKept,
                $"KdGat: CacheGc: {r.Kept.Count} cache entr{(r.Kept.Count == 1 ? "y" : "ies")} could not be removed, as this user may not write {(r.Kept.Count == 1 ? "it" : "them")} ({r.Kept[0]}{(r.Kept.Count > 1 ? ", ..." : "")}); kept, and counted below.{Core.IO.GroupAccess.Advice(r.Kept[0], OutputStoreLocation.Resolve(config))}"));
        log.Info($"KdGat: CacheGc: {r.EntriesBefore} entries ({Mb(r.BytesBefore)}) -> {r.EntriesAfter} entries ({Mb(r.BytesAfter)}); evicted {r.Evicted}, freed {Mb(r.BytesFreed)} in {OutputStoreLocation.Resolve(config)}");
        return true;
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024.0):0.0} MiB";
}
