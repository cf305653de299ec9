namespace KdGat.Core.Engine;

/// <summary>
/// How far one stage instance has got, as its downstream sees it: handed to a batch system
/// (job id, so a dependent can be submitted at once with afterok) or ended (<see cref="Final"/>).
/// With the local executor only the end is ever signalled.
/// </summary>
internal sealed class InstanceProgress
{
    private readonly TaskCompletionSource<Handoff?> _handoff = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InstanceProgress(Pipeline.StageInstance instance) => Instance = instance;

    /// <param name="Fresh">Submitted by this build (false: an earlier build's job this build re-attached to).</param>
    public sealed record Handoff(string JobId, bool Fresh);

    public Pipeline.StageInstance Instance { get; }
    public Task<InstanceResult> Final { get; set; } = null!;
    /// <summary>Completes with the first job id, or null when the instance ended without one.</summary>
    public Task<Handoff?> Ready => _handoff.Task;

    public void Submitted(string jobId, bool fresh) => _handoff.TrySetResult(new Handoff(jobId, fresh));
    public void Ended() => _handoff.TrySetResult(null);
}
