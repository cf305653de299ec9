namespace KdGat.Core.Planning;

/// <summary>Why a stage must run, in words a user acts on. <see cref="Kind"/> is stable for scripts.</summary>
internal sealed record StaleReason(string Kind, string Text)
{
    public static StaleReason NeverRun() => new("never-run", "no manifest (never run, or cleaned)");
    public static StaleReason Corrupt(string problem) => new("manifest-corrupt", $"manifest unreadable ({problem})");
    /// <summary>An interrupted attempt of an older KdGat whose previous result recovery keeps at <paramref name="kept"/> (stored; Execution.OutputGuard.KeepsUnrecoveredAt).</summary>
    public static StaleReason Unrecovered(string kept) => new("unrecovered", $"an interrupted attempt left its journal, and the next build {Execution.OutputGuard.KeepsUnrecoveredText(kept)}");
    public static StaleReason UpstreamReruns(string stage) => new("upstream-reruns", $"upstream {stage} is not up to date");
    public override string ToString() => Text;
}
