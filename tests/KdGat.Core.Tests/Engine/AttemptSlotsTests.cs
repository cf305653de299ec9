using KdGat.Core.Engine;

namespace KdGat.Core.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class AttemptSlotsTests
{
    [Fact]
    public async Task ASlotFreedRightAfterTheCancel_DoesNotStartAWaiter_AndStaysFree()
    {
        var slots = new AttemptSlots(1);
        await slots.AcquireAsync(CancellationToken.None); // the running attempt
        using var cts = new CancellationTokenSource();
        var waiter = slots.AcquireAsync(cts.Token);      // a stage queued for the slot

        cts.Cancel();     // Ctrl+C
        slots.Release();  // the attempt it stopped frees its slot
        // A bare SemaphoreSlim hands that slot to the cancelled waiter (1999 of 2000 times here).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        Assert.True(slots.AcquireAsync(CancellationToken.None).IsCompletedSuccessfully, "the slot was not given back");
    }

    [Fact]
    public async Task WithoutACancel_AWaiterGetsTheFreedSlot()
    {
        var slots = new AttemptSlots(1);
        await slots.AcquireAsync(CancellationToken.None);
        var waiter = slots.AcquireAsync(CancellationToken.None);
        Assert.False(waiter.IsCompleted);

        slots.Release();

        await waiter.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
