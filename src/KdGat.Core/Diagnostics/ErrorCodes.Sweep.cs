namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // sweep: a stage instantiated over a grid of parameter values and seeds.
    /// <summary>A sweep: entry is malformed: not a mapping of names to non-empty lists of plain values, a bad dimension name, a duplicate value.</summary>
    public const string SweepInvalid = "KDG1030";
    /// <summary>A swept value has characters that break run dir names, job names or the Sweep selection (only letters, digits, '.', '_', '-', '+').</summary>
    public const string SweepUnsafeValue = "KDG1031";
    /// <summary>A stage's grid (its own dimensions times the ones it inherits from its upstreams) has more instances per dataset than the limit.</summary>
    public const string SweepTooLarge = "KDG1032";
    /// <summary>-p:Sweep is malformed, names a dimension no stage sweeps, or a value not in that dimension's grid.</summary>
    public const string SweepSelection = "KDG1033";
    /// <summary>Two points of one stage's grid give the same job and record id (names differing only by '=' and '_' placement).</summary>
    public const string SweepIdClash = "KDG1034";
    /// <summary>Two stage instances of one build, of different stages or datasets, get the same attempt/record id and job name (stage 'a.b_1' and stage 'a' at b=1; stage 'a-b' of dataset 'x' and 'b' of 'x-a') or the same run dir.</summary>
    public const string InstanceIdClash = "KDG1035";
    /// <summary>Error: one build would have more stage instances than KdGat plans at once (datasets times stages times sweep points): refused before they use unbounded memory.</summary>
    public const string TooManyInstances = "KDG1036";
    /// <summary>Error: a placeholder stands where KdGat cannot tell how the shell quotes it (after a here-document, a case statement, backticks, $'...', inside ${...} or a comment).</summary>
    public const string PlaceholderUnquotable = "KDG1037";
}
