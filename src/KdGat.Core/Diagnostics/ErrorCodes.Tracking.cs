namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // 5xxx: run tracking (records, the SQLite index, Status/History/Compare/Report).
    /// <summary>Warning: the index was damaged, from a newer KdGat, or in the wrong journal mode; moved aside and rebuilt from the records.</summary>
    public const string IndexRebuilt = "KDG5001";
    /// <summary>Warning: a run record file cannot be read; it is left out of the index.</summary>
    public const string RecordDamaged = "KDG5002";
    /// <summary>Error: the index cannot be created at all (e.g. unwritable directory), or an explicit index path holds another pipeline's index or a file KdGat did not make.</summary>
    public const string IndexUnusable = "KDG5003";
    /// <summary>Warning: after a build the run index could not be updated (full disk, read-only, unusable path); the build's result stands.</summary>
    public const string IndexUpdateFailed = "KDG5004";
    /// <summary>Error: an existing index cannot be opened or replaced where it is (read-only file system, permissions, a passing network error); left as it is, never moved aside as damaged.</summary>
    public const string IndexCannotOpen = "KDG5031";
    /// <summary>Error: Status, History, Compare or Report cannot use the run index (full disk, read-only, unusable path).</summary>
    public const string IndexReadFailed = "KDG5005";
    /// <summary>Error: History needs -p:Stage.</summary>
    public const string HistoryNeedsStage = "KDG5010";
    /// <summary>Error: -p:RunId names no recorded run.</summary>
    public const string UnknownRunId = "KDG5012";
    /// <summary>Error: a tracking property (-p:Limit, -p:ReportFile, ...) has a bad value.</summary>
    public const string TrackingBadProperty = "KDG5013";
    /// <summary>Warning (the targets' own): -p:RunId given to Status, Compare or Report, which show current results, not that run's.</summary>
    public const string RunIdIsHistorys = "KDG5014";
    /// <summary>Warning: Compare found no metrics to compare yet.</summary>
    public const string NothingToCompare = "KDG5020";
    /// <summary>Warning: a stage is stale because its last attempt failed; shown by Status with the log.</summary>
    public const string LastAttemptFailed = "KDG5021";
    /// <summary>Two KdGatVariant items (Compare/Report columns) with the same name and different stages.</summary>
    public const string DuplicateVariant = "KDG5022";
    /// <summary>Warning: a stage's metrics.json holds more than a run record keeps (too many metrics, too long names, or a file over the read cap); the record keeps what fits.</summary>
    public const string MetricsOverLimit = "KDG5023";
    /// <summary>Warning: a stage's metrics.json is there but is not a JSON object (not JSON, an array, cut short): no metrics recorded for the run.</summary>
    public const string MetricsUnreadable = "KDG5024";
    /// <summary>Warning: no output of a stage is named metrics.json and several of its output folders have one at their top: none is read, no metrics recorded for the run.</summary>
    public const string MetricsInSeveralFolders = "KDG5025";
    /// <summary>Warning: a name in Compare's -p:Metrics matches no metric the table could show (a typo such as 'acc'); the others are shown.</summary>
    public const string UnknownMetric = "KDG5026";
    /// <summary>A Compare/Report variant names no stage of the pipeline (a KdGatVariant item's Stages, or a *DependsOn target that is no stage's target); a warning for Status.</summary>
    public const string UnknownVariantStage = "KDG5027";
    /// <summary>Warning: a current manifest could not be archived in .kdgat/manifests (full disk or quota, permissions) as a tracking target opened the index; the live one is kept and archived later.</summary>
    public const string ManifestNotArchived = "KDG5028";
}
