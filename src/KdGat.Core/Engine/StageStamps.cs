using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Engine;

/// <summary>
/// What MSBuild compares for a stage target's Inputs and Outputs, per dataset:
/// <c>.kdgat/stamps/{dataset}/fingerprints</c> (a line per stage with the fingerprints from the
/// content check, rewritten only when one differs) and <c>{stage}.current</c>, which exists only
/// while the content check of this very build says the stage's instances in that dataset are up
/// to date, and is never older than the stamp. The planning target refreshes both right before
/// the stage targets, so MSBuild skips a stage target only after a content check said "up to
/// date"; a missing marker or a stamp with a newer time only makes MSBuild run the target, and
/// the build task checks content again anyway. One stamp per dataset, not per instance: MSBuild
/// compares every stamp with a marker in each of the 13 stage targets (7,800 pairs per target at
/// 600 datasets, now 600).
/// </summary>
internal static partial class StageStamps
{
    /// <summary>One planned stage target of one dataset: the dataset's stamp (Inputs), the stage's marker (Outputs) and the content check's verdict.</summary>
    public sealed record Entry(string Dataset, string Stage, string Stamp, string Marker, string Outcome, IReadOnlyList<string> Reasons)
    {
        public bool Current => Outcome == Engine.Outcome.UpToDate;
    }

    public static string StampPath(string stateDir, string dataset) => Path.Combine(stateDir, "stamps", dataset, "fingerprints");
    public static string MarkerPath(string stateDir, string dataset, string stage) => Path.Combine(stateDir, "stamps", dataset, stage + ".current");

    /// <summary>
    /// Writes the datasets' stamps, creates the markers of up-to-date stage targets and deletes
    /// those of all others. One stage target stands for all instances of its stage in a dataset
    /// (every grid point of a sweep): its stamp line holds all their fingerprints, and it is current
    /// only when every one of them is. Stages this plan did not cover (-p:Stage) keep their lines.
    /// </summary>
    public static IReadOnlyList<Entry> Refresh(string stateDir, IEnumerable<InstanceResult> results, TimeProvider? time = null)
    {
        var entries = new List<Entry>();
        foreach (var dataset in results.GroupBy(r => r.Instance.Dataset))
        {
            var stamp = StampPath(stateDir, dataset.Key);
            var targets = dataset.GroupBy(r => r.Instance.Name).Select(target =>
            {
                var instances = target.OrderBy(r => r.Instance.Variant, StringComparer.Ordinal).ToArray();
                var stale = instances.FirstOrDefault(r => r.Outcome != Outcome.UpToDate);
                var e = new Entry(dataset.Key, target.Key, stamp, MarkerPath(stateDir, dataset.Key, target.Key),
                    stale?.Outcome ?? Outcome.UpToDate,
                    instances.Where(r => r.Outcome != Outcome.UpToDate)
                        .SelectMany(r => r.Reasons.Select(x => instances.Length > 1 ? $"{r.Instance.Variant}: {x.Text}" : x.Text)).ToArray());
                var line = string.Join(' ', instances.Select(r =>
                    (instances.Length > 1 ? r.Instance.Variant + "=" : "") + (r.Fingerprint ?? $"({r.Outcome}: {string.Join("; ", r.Reasons.Select(x => x.Text))})")));
                return (Entry: e, Line: line.ReplaceLineEndings(" ").Replace('\t', ' '));
            }).ToArray();
            try
            {
                // A stale target's marker goes before anything else can fail, so it never keeps one.
                foreach (var (e, _) in targets)
                    if (!e.Current && File.Exists(e.Marker)) File.Delete(e.Marker);
                Directory.CreateDirectory(Path.GetDirectoryName(stamp)!);
                var before = ReadOrNull(stamp);
                var lines = Lines(before);
                foreach (var (e, line) in targets) lines[e.Stage] = line;
                WriteIfDifferent(stamp, before, string.Concat(lines.Select(kv => $"{kv.Key}\t{kv.Value}\n")));
                var now = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime;
                var stampTime = File.GetLastWriteTimeUtc(stamp);
                foreach (var (e, line) in targets)
                    if (e.Current) MarkCurrent(e.Marker, stampTime, line, now);
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
                throw new KdgException(ErrorCodes.StampsUnwritable,
                    $"{dataset.Key}: cannot update its MSBuild stamp or up-to-date markers under '{Path.GetDirectoryName(stamp)}' ({x.Message}). Nothing was run. Fix the permissions of (or free space under) .kdgat/stamps/, or delete that directory, and build again.{IO.GroupAccess.Advice(x, dataset.First().Instance.Layout.Root)}");
            }
            entries.AddRange(targets.Select(t => t.Entry));
        }
        return entries;
    }

    /// <summary>The stamp's lines by stage (an unreadable line is dropped: it only makes the stamp rewritten).</summary>
    private static SortedDictionary<string, string> Lines(string? stamp)
    {
        var lines = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (stamp ?? "").Split('\n'))
            if (line.Split('\t', 2) is [var stage, var value] && stage.Length > 0) lines[stage] = value;
        return lines;
    }

    /// <summary>WriteOnlyWhenDifferent: unchanged fingerprints keep the stamp's time.</summary>
    /// <param name="before">What the stamp holds now (null: no stamp).</param>
    private static void WriteIfDifferent(string path, string? before, string content)
    {
        if (before == content) return;
        RemoveOldTemps(path);
        if (before is null && File.Exists(path)) File.Delete(path); // not a small regular file (a FIFO), which AtomicFile refuses to replace
        // Atomic (a temp per writer: two builds at once never share one), and a failed write removes its temp
        // (File.WriteAllText of "fingerprints.{guid}.tmp" left it on a full disk: a review). No fsync: MSBuild
        // only compares the stamp's time, and the content check decides what runs.
        AtomicFile.WriteAllText(path, content, durable: false);
    }

    /// <summary>Deletes the "fingerprints.{guid}.tmp" files KdGat before AtomicFile left on a failed write; nothing reads them.</summary>
    private static void RemoveOldTemps(string stamp)
    {
        try
        {
            foreach (var f in Directory.EnumerateFiles(Path.GetDirectoryName(stamp)!, Path.GetFileName(stamp) + ".*.tmp"))
                if (OldTempName().IsMatch(Path.GetFileName(f))) File.Delete(f);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the write says what is wrong
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^fingerprints\.[0-9a-f]{32}\.tmp\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex OldTempName();

    /// <summary>The stamp's text; null when there is none or it is not a small regular file (a FIFO hung the build, a link to /dev/zero took 4 GB: a review), which is then written anew.</summary>
    private static string? ReadOrNull(string path)
    {
        // KdGat's own file, rewritten right after: its stat is not an observation of the check
        // (recorded, the stamp's rewrite made the no-op certificate see two answers and never be written).
        using var _ = NoOp.FileObservations.Pause();
        try { return SmallFile.ReadAllText(path); }
        catch (IOException) { return null; }
    }

    /// <summary>
    /// The marker of an up-to-date stage target, never older than its dataset's stamp (a stamp
    /// touched into the future, or rewritten for another stage, would otherwise make MSBuild run
    /// the target for nothing).
    /// </summary>
    /// <remarks>
    /// Written atomically: File.WriteAllText left a 0-byte marker on a full disk and stopped the build with
    /// KDG1230 (a review). A marker that cannot be written is left out, with no error: without it MSBuild
    /// runs the target, and the build task's content check decides as it always does.
    /// </remarks>
    private static void MarkCurrent(string marker, DateTime stampTime, string content, DateTime now)
    {
        if (File.Exists(marker) && File.GetLastWriteTimeUtc(marker) >= stampTime) return;
        try { AtomicFile.WriteAllText(marker, content + "\n", durable: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        try { File.SetLastWriteTimeUtc(marker, stampTime > now ? stampTime : now); }
        catch (FileNotFoundException) { } // a concurrent build found the instance stale: no marker, MSBuild runs the target
    }
}
