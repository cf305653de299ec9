using KdGat.Core.Config;

namespace KdGat.Core.Execution;

/// <summary>
/// Whether a failed attempt is tried again and with what: OUT_OF_MEMORY gets mem x attempt,
/// TIMEOUT gets time x attempt, node failures and preemption retry unchanged, a plain non-zero
/// exit is final (a bug does not fix itself), all within the stage's 'retries'.
/// </summary>
internal static class RetryPolicy
{
    public static ResourceSpec? NextAttempt(ExecState state, int attemptJustEnded, int retries, ResourceSpec original)
    {
        if (attemptJustEnded > retries) return null;
        var next = attemptJustEnded + 1;
        return state switch
        {
            ExecState.OutOfMemory => original with { MemMb = Math.Min((original.MemMb ?? 1024) * next, Config.ResourceParser.MaxMemMb) },
            ExecState.Timeout => original with { TimeMinutes = (int)Math.Min((original.TimeMinutes ?? 60) * (long)next, Config.ResourceParser.MaxMinutes) },
            ExecState.NodeFail or ExecState.Preempted or ExecState.BootFail => original,
            _ => null,
        };
    }
}
