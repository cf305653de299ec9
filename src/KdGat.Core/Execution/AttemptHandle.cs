using System.Globalization;

namespace KdGat.Core.Execution;

/// <summary>
/// What an attempt became outside this process: a local process group or a batch (SLURM) job.
/// Journalled as "pid:123" / "slurm:456" (the form earlier KdGat versions wrote); this type is the
/// only place that writes or reads that form, so the engine and tracking never parse strings.
/// </summary>
internal readonly record struct AttemptHandle
{
    private const string ProcessPrefix = "pid:", BatchPrefix = "slurm:";

    private AttemptHandle(bool isBatchJob, string id) => (IsBatchJob, Id) = (isBatchJob, id);

    /// <summary>True for a batch job (it outlives the build); false for a local process group (dies with it, or is stopped).</summary>
    public bool IsBatchJob { get; }
    /// <summary>The pid or the batch job id.</summary>
    public string Id { get; }

    public static AttemptHandle Process(int pid) => new(false, pid.ToString(CultureInfo.InvariantCulture));
    public static AttemptHandle BatchJob(string jobId) => new(true, jobId);

    /// <summary>The journalled form back to a handle; null for null or a form this version does not know.</summary>
    public static AttemptHandle? Parse(string? text) =>
        text is null ? null
        : text.StartsWith(BatchPrefix, StringComparison.Ordinal) && text.Length > BatchPrefix.Length ? BatchJob(text[BatchPrefix.Length..])
        : text.StartsWith(ProcessPrefix, StringComparison.Ordinal) && text.Length > ProcessPrefix.Length ? new AttemptHandle(false, text[ProcessPrefix.Length..])
        : null;

    /// <summary>The journalled form.</summary>
    public override string ToString() => (IsBatchJob ? BatchPrefix : ProcessPrefix) + Id;

    /// <summary>As records and tables show it: the bare job id for a batch job, "pid:N" for a process (as before).</summary>
    public string RecordedId => IsBatchJob ? Id : ToString();

    /// <summary>For messages: "job 456", "pid 123".</summary>
    public string Describe() => IsBatchJob ? $"job {Id}" : $"pid {Id}";
}
