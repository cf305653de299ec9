namespace KdGat.Tasks.Tracking;

/// <summary>
/// Brings the run index up to date with the records (after every build, and before Clean deletes manifests), or rebuilds
/// it from scratch (-t:RebuildIndex). Also archives the stage manifests, so a rerun never loses
/// the previous one.
/// </summary>
public sealed class KdGatIndex : TrackingTask
{
    public bool Rebuild { get; set; }
    public bool Quiet { get; set; }

    /// <summary>Before Clean: a configuration or -p: selection KdGat refuses (KDG1xxx) is Clean's to say, once.</summary>
    public bool LoadErrorsSaidNext { get; set; }

    private protected override bool WarnOnly => Quiet;
    private protected override bool LoadErrorsSaidLater => LoadErrorsSaidNext;

    private protected override string Target => Rebuild ? "RebuildIndex" : "the run index update";

    private protected override bool RunTracking(MSBuildLog log)
    {
        // -question: a rebuild always changes the index, so it is not opened at all; the update after a build or before
        // Clean is bookkeeping that the next tracking target does (every reader ingests what is new).
        if (FailIfNotIncremental) return Rebuild ? NotUpToDate(log, "-question", Target, "drop the run index and index every record again", "written") : true;
        using var t = OpenTracker(log);
        var r = Rebuild ? t.Index.Rebuild() : t.Sync();
        if (Rebuild || !Quiet || r.Added > 0)
            Print($"KdGat: run index {t.Index.Location.DbPath}: {(Rebuild ? "rebuilt with" : "added")} {r.Added} run(s); {t.Index.Count()} indexed from {r.Files} record file(s){(r.Damaged > 0 ? $", {r.Damaged} unreadable" : "")}");
        return true;
    }
}
