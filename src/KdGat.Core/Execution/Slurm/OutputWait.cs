namespace KdGat.Core.Execution.Slurm;

/// <summary>
/// slurm.latency_wait: a job that ended COMPLETED wrote its outputs on a compute node; on a shared
/// file system (NFS attribute caches) they may show up here a little later. Poll for them before
/// they count as missing (KDG3002), as Snakemake's --latency-wait does.
/// </summary>
internal static class OutputWait
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(0.5);

    /// <summary>Files or directories that exist.</summary>
    public static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    /// <summary>True once every path exists; false when some are still missing after <paramref name="limit"/> (polled every <see cref="Interval"/>).</summary>
    public static async Task<bool> UntilPresentAsync(IReadOnlyList<string> paths, TimeSpan limit, Func<string, bool> exists,
        Func<TimeSpan, CancellationToken, Task> delay, CancellationToken cancel)
    {
        var polls = (int)Math.Ceiling(limit / Interval);
        for (var i = 0; ; i++)
        {
            var missing = paths.Where(p => !exists(p)).ToArray();
            if (missing.Length == 0) return true;
            if (i >= polls || cancel.IsCancellationRequested) return false;
            // Listing the parent refreshes an NFS client's cached view of the directory.
            foreach (var dir in missing.Select(Path.GetDirectoryName).Distinct())
                if (dir is not null && Directory.Exists(dir)) _ = Directory.EnumerateFileSystemEntries(dir).Take(1).Count();
            try { await delay(Interval, cancel).ConfigureAwait(false); }
            catch (OperationCanceledException) { return false; }
        }
    }
}
