using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution;

/// <summary>
/// A batch job's outputs are collected when a build next looks (with -p:Wait=false, possibly hours
/// later): an output edited in between was committed and cached as the job's result, and reported
/// up to date (a SLURM pass). The job's done-marker is its script's last write, on the same file
/// server as the outputs, so an output whose mtime and ctime are both later than the marker's was
/// written after the job ended. Times here can only refuse a result (the stage reruns), never accept one.
/// </summary>
internal static class OutputWrittenAfter
{
    /// <summary>Coarse file-system timestamps (1-2 s on some) must not refuse a job's own last write.</summary>
    public static readonly long SlackNs = 2_000_000_000L;

    /// <summary>The first declared output (or file inside one) changed after <paramref name="marker"/> was written, or null.</summary>
    /// <param name="appeared">Outputs the latency wait saw appear after the job ended (NFS makes another node's files visible late): not compared.</param>
    public static string? Marker(StageInstance s, string marker, IReadOnlyCollection<string> appeared)
    {
        if (FileIdentity.Of(marker) is not { CtimeNs: > 0 } end) return null; // no marker (or no ctime): nothing to compare with
        var limit = Math.Max(end.CtimeNs, end.MtimeNs) + SlackNs;
        foreach (var output in s.Outputs.Except(appeared))
            foreach (var file in Directory.Exists(output) ? PathHasher.EnumerateContentFiles(output) : [output])
                // Only files on the marker's file system: another server's clock cannot be compared with its.
                // Content changes move mtime and ctime; a hard-linking backup, chmod or an xattr moves ctime only.
                if (FileIdentity.Of(file) is { CtimeNs: var ctime, MtimeNs: var mtime, Device: var device } && device == end.Device && ctime > limit && mtime > limit)
                    return PathText.ToStored(s.Layout.Root, file);
        return null;
    }
}
