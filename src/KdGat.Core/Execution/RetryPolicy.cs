using KdGat.Core.Config;

namespace KdGat.Core.Execution;

/// <summary>A retry's resources, and what it had to assume (said in the KDG3009 line), if anything.</summary>
internal sealed record Retry(ResourceSpec Resources, string? Note = null);

/// <summary>
/// Whether a failed attempt is tried again and with what: OUT_OF_MEMORY gets mem x attempt,
/// TIMEOUT gets time x attempt, node failures and preemption retry unchanged, a plain non-zero
/// exit is final (a bug does not fix itself), all within the stage's 'retries'. A stage that sets
/// no mem or time multiplies what SLURM gave its first attempt (the cluster's default): assuming
/// 1024M gave a retry no more memory than the default DefMemPerCPU x cpus, or less (a SLURM review).
/// What an earlier retry raised is kept: a TIMEOUT after an OOM retry keeps the raised memory (it
/// went back to the stage's own and ran out again), and a node failure retries what ran.
/// </summary>
internal static class RetryPolicy
{
    /// <summary>Multiplied when neither the stage nor SLURM says what the attempt had (and locally, where they limit nothing).</summary>
    public const long FallbackMemMb = 1024;
    public const int FallbackMinutes = 60;

    /// <param name="original">The stage's resources.</param>
    /// <param name="ran">What the attempt just ended asked for (an earlier retry of this build may have raised it); null: <paramref name="original"/>.</param>
    /// <param name="granted">What SLURM gave that attempt's job; null for the local executor.</param>
    public static Retry? NextAttempt(ExecState state, int attemptJustEnded, int retries, ResourceSpec original, ResourceSpec? ran = null, Granted? granted = null)
    {
        if (attemptJustEnded > retries) return null;
        var next = attemptJustEnded + 1;
        ran ??= original;
        switch (state)
        {
            case ExecState.OutOfMemory:
            {
                var mem = Base(original.MemMb, ran.MemMb, granted?.MemMb, attemptJustEnded);
                var note = mem is null && granted is not null ? $"assumed mem={FallbackMemMb}M x {next}: the stage sets no resources.mem and SLURM did not say what the job was given" : null;
                return new(ran with { MemMb = Math.Min(Math.Max((mem ?? FallbackMemMb) * next, ran.MemMb ?? 0), ResourceParser.MaxMemMb) }, note);
            }
            case ExecState.Timeout:
            {
                // A job without a time limit cannot hit one: nothing to raise, retried as it was.
                if (original.TimeMinutes is null && ran.TimeMinutes is null && granted?.TimeMinutes == ResourceParser.UnlimitedMinutes)
                    return new(ran, "time unchanged: the job had no time limit (UNLIMITED) to raise");
                var time = Base(original.TimeMinutes, ran.TimeMinutes, granted?.TimeMinutes, attemptJustEnded);
                var note = time is null && granted is not null ? $"assumed time={FallbackMinutes}min x {next}: the stage sets no resources.time and SLURM did not say the job's time limit" : null;
                return new(ran with { TimeMinutes = (int)Math.Min(Math.Max((time ?? FallbackMinutes) * (long)next, ran.TimeMinutes ?? 0), ResourceParser.MaxMinutes) }, note);
            }
            case ExecState.NodeFail or ExecState.Preempted or ExecState.BootFail:
                return new(ran);
            default:
                return null;
        }
    }

    /// <summary>
    /// A TIMEOUT retry whose raised time is above what the job's partition lets one job have
    /// (<paramref name="maxMinutes"/>, its MaxTime) gets that maximum instead, when it is more than the
    /// attempt that timed out had (<paramref name="ranMinutes"/>): as Snakemake's and Nextflow's retries
    /// do, and the line says so. When that attempt already had the maximum the retry stays as raised,
    /// and SLURM's refusal ends it (KDG4002: the stage needs a partition with higher limits). Before,
    /// every retry above MaxTime was that refusal, though the partition allowed more than the first had.
    /// </summary>
    public static Retry WithinPartition(Retry retry, int? maxMinutes, int? ranMinutes, string partition)
    {
        if (retry.Resources.TimeMinutes is not { } asked || maxMinutes is not { } max
            || max == ResourceParser.UnlimitedMinutes || asked == ResourceParser.UnlimitedMinutes || asked <= max) return retry;
        if (ranMinutes is { } ran && ran != ResourceParser.UnlimitedMinutes && ran >= max) return retry;
        var note = $"time={ResourceSpec.TimeText(max)}, the most {partition} allows one job (MaxTime), not time={ResourceSpec.TimeText(asked)}";
        return new(retry.Resources with { TimeMinutes = max }, retry.Note is { } n ? $"{n}; {note}" : note);
    }

    /// <summary>
    /// What a retry multiplies by its attempt number: the stage's own value; else the first attempt's,
    /// known from a raise of an earlier retry (it asked base x its attempt number) or, for an attempt
    /// that asked nothing, from what SLURM gave it; null when none says. A raise kept through a retry for
    /// the other limit was asked at an earlier attempt: the base is then underestimated, which the
    /// caller's floor (never less than what ran) makes up for.
    /// </summary>
    private static long? Base(long? own, long? ran, long? granted, int attemptJustEnded) =>
        own ?? (ran is { } raised ? raised / attemptJustEnded : granted);
}
