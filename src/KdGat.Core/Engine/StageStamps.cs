using KdGat.Core.Diagnostics;

namespace KdGat.Core.Engine;

/// <summary>
/// What MSBuild compares for a stage target's Inputs and Outputs, per instance:
/// <c>.kdgat/stamps/{dataset}/{stage}.fingerprint</c> (the fingerprint from the content check,
/// rewritten only when it differs) and <c>{stage}.current</c>, which exists only while the content
/// check of this very build says the instance is up to date. The planning target refreshes both
/// for every instance it hands to MSBuild right before the stage targets, so MSBuild skips a stage
/// target only after a content check said "up to date"; a missing marker or a stamp with a newer
/// time only makes MSBuild run the target, and the build task checks content again anyway.
/// </summary>
internal static class StageStamps
{
    /// <summary>One planned instance: its stamp (Inputs), its marker (Outputs) and the content check's verdict.</summary>
    public sealed record Entry(string Dataset, string Stage, string Stamp, string Marker, string Outcome, IReadOnlyList<string> Reasons)
    {
        public bool Current => Outcome == Engine.Outcome.UpToDate;
    }

    public static string StampPath(string stateDir, string dataset, string stage) => Path.Combine(stateDir, "stamps", dataset, stage + ".fingerprint");
    public static string MarkerPath(string stateDir, string dataset, string stage) => Path.Combine(stateDir, "stamps", dataset, stage + ".current");

    /// <summary>
    /// Writes stamps, creates the markers of up-to-date stage targets and deletes those of all
    /// others. One stage target stands for all instances of its stage in a dataset (every grid
    /// point of a sweep): its stamp holds all their fingerprints, and it is current only when every
    /// one of them is.
    /// </summary>
    public static IReadOnlyList<Entry> Refresh(string stateDir, IEnumerable<InstanceResult> results, TimeProvider? time = null)
    {
        var entries = new List<Entry>();
        foreach (var target in results.GroupBy(r => (r.Instance.Dataset, r.Instance.Name)))
        {
            var (dataset, stage) = target.Key;
            var instances = target.OrderBy(r => r.Instance.Variant, StringComparer.Ordinal).ToArray();
            var stale = instances.FirstOrDefault(r => r.Outcome != Outcome.UpToDate);
            var e = new Entry(dataset, stage, StampPath(stateDir, dataset, stage), MarkerPath(stateDir, dataset, stage),
                stale?.Outcome ?? Outcome.UpToDate,
                instances.Where(r => r.Outcome != Outcome.UpToDate)
                    .SelectMany(r => r.Reasons.Select(x => instances.Length > 1 ? $"{r.Instance.Variant}: {x.Text}" : x.Text)).ToArray());
            try
            {
                // A stale target's marker goes before anything else can fail, so it never keeps one.
                if (!e.Current && File.Exists(e.Marker)) File.Delete(e.Marker);
                Directory.CreateDirectory(Path.GetDirectoryName(e.Stamp)!);
                var content = string.Concat(instances.Select(r =>
                    (instances.Length > 1 ? r.Instance.Variant + " " : "") + (r.Fingerprint ?? $"{r.Outcome}: {string.Join("; ", r.Reasons.Select(x => x.Text))}") + "\n"));
                WriteIfDifferent(e.Stamp, content);
                if (e.Current) MarkCurrent(e.Marker, e.Stamp, content, time ?? TimeProvider.System);
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
                throw new KdgException(ErrorCodes.StampsUnwritable,
                    $"{dataset}/{stage}: cannot update its MSBuild stamp or up-to-date marker under '{Path.GetDirectoryName(e.Stamp)}' ({x.Message}). Nothing was run. Fix the permissions of (or free space under) .kdgat/stamps/, or delete that directory, and build again.");
            }
            entries.Add(e);
        }
        return entries;
    }

    /// <summary>WriteOnlyWhenDifferent: an unchanged fingerprint keeps the stamp's time.</summary>
    private static void WriteIfDifferent(string path, string content)
    {
        if (ReadOrNull(path) == content) return;
        var tmp = $"{path}.{Guid.NewGuid():N}.tmp"; // two builds at once (two terminals) never share a temp file
        File.WriteAllText(tmp, content);
        File.Move(tmp, path, overwrite: true);
    }

    private static string? ReadOrNull(string path)
    {
        try { return File.ReadAllText(path); }
        catch (FileNotFoundException) { return null; }
    }

    /// <summary>
    /// The marker of an up-to-date instance, never older than its stamp (a stamp touched into the
    /// future would otherwise make MSBuild run the target for nothing).
    /// </summary>
    private static void MarkCurrent(string marker, string stamp, string content, TimeProvider time)
    {
        var stampTime = File.GetLastWriteTimeUtc(stamp);
        if (File.Exists(marker) && File.GetLastWriteTimeUtc(marker) >= stampTime) return;
        File.WriteAllText(marker, content);
        var now = time.GetUtcNow().UtcDateTime;
        try { File.SetLastWriteTimeUtc(marker, stampTime > now ? stampTime : now); }
        catch (FileNotFoundException) { } // a concurrent build found the instance stale: no marker, MSBuild runs the target
    }
}
