namespace KdGat.Core.Engine;

/// <summary>
/// Bounds the attempts that run at once (-p:MaxParallelStages, one per core by default). A cancel
/// wins over a slot freed at the same moment: SemaphoreSlim may hand the slot an attempt stopped
/// by the cancel frees to a waiter whose token is already cancelled (its cancellation runs later,
/// on the thread pool), and that stage then started after Ctrl+C, only to be killed at once.
/// </summary>
internal sealed class AttemptSlots(int count)
{
    private readonly SemaphoreSlim _slots = new(count);

    public async Task AcquireAsync(CancellationToken cancel)
    {
        await _slots.WaitAsync(cancel).ConfigureAwait(false);
        if (!cancel.IsCancellationRequested) return;
        _slots.Release();
        throw new OperationCanceledException(cancel);
    }

    public void Release() => _slots.Release();
}
