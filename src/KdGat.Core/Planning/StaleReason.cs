namespace KdGat.Core.Planning;

/// <summary>Why a stage must run, in words a user acts on. <see cref="Kind"/> is stable for scripts.</summary>
internal sealed record StaleReason(string Kind, string Text)
{
    public static StaleReason NeverRun() => new("never-run", "no manifest (never run, or cleaned)");
    public static StaleReason Corrupt(string problem) => new("manifest-corrupt", $"manifest unreadable ({problem})");
    public static StaleReason UpstreamReruns(string stage) => new("upstream-reruns", $"upstream {stage} is not up to date");
    public override string ToString() => Text;
}
