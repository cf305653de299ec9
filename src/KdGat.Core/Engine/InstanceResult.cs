using System.Diagnostics.CodeAnalysis;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;

namespace KdGat.Core.Engine;

/// <summary>How one stage instance ended in this build, and the output digest downstream stages fingerprint.</summary>
internal sealed record InstanceResult : InstanceEnd
{
    [SetsRequiredMembers]
    public InstanceResult(StageInstance instance, string outcome, IReadOnlyList<StaleReason> reasons)
    {
        Instance = instance;
        Outcome = outcome;
        Reasons = reasons;
    }

    public StageInstance Instance { get; init; }
    public IReadOnlyList<StaleReason> Reasons { get; init; }
    /// <summary>Digest of the outputs as they now stand; null when the instance has no good result.</summary>
    public string? OutputsDigest { get; init; }
    /// <summary>Explain: the fingerprint computed now, when it could be (not when an upstream would rerun first).</summary>
    public string? Fingerprint { get; init; }
    /// <summary>Where its last attempt ran (process or batch job); <see cref="JobId"/> is the recorded form.</summary>
    public Execution.AttemptHandle? Handle { get; init; }
    public string? JobId => Handle?.RecordedId;
    public string? ErrorCode { get; init; }
    /// <summary>Where in the configuration the error is (a declared input's or output's line); null: the stage's entry.</summary>
    public (int Line, int Column)? ErrorAt { get; init; }
    /// <summary>Cancelled with its SLURM job left running (-p:CancelOnAbort=false): a later build collects it.</summary>
    public bool JobLeftRunning { get; init; }
    /// <summary>The outputs were produced by a run or restore of this build (not collected from an earlier build's job).</summary>
    public bool Fresh { get; init; }
    /// <summary>Ran as a batch job: when that job ended, by SLURM's accounting (null when it did not say).</summary>
    public DateTimeOffset? JobEnded { get; init; }
    /// <summary>Explain: this instance would run, so its downstream would see new outputs.</summary>
    public bool WouldChange => Outcome == Engine.Outcome.WouldRun;

    /// <summary>Its row in the build report: the shared part copied, the instance and reasons as text.</summary>
    public InstanceReport ToReport() => new(this, Instance.Dataset, Instance.Name)
    {
        Variant = Instance.Sweep.IsEmpty ? null : Instance.Variant,
        Reasons = Reasons.Select(x => x.Text).ToArray(),
        ReasonKinds = Reasons.Select(x => x.Kind).Distinct().ToArray(),
        Seconds = Seconds is { } s ? Math.Round(s, 3) : null,
        JobId = JobId,
    };
}
