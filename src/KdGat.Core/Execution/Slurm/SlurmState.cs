namespace KdGat.Core.Execution.Slurm;

/// <summary>What a SLURM job state string means for KdGat: still going, or ended with an <see cref="ExecState"/>.</summary>
internal static class SlurmState
{
    /// <summary>True for PENDING, RUNNING, CONFIGURING, COMPLETING, SUSPENDED, REQUEUED..., i.e. anything that may still change.</summary>
    public static bool IsActive(string state) => Normalize(state) is "PENDING" or "RUNNING" or "CONFIGURING" or "COMPLETING"
        or "SUSPENDED" or "REQUEUED" or "REQUEUE_FED" or "REQUEUE_HOLD" or "RESIZING" or "SIGNALING" or "STAGE_OUT" or "STOPPED" or "RESV_DEL_HOLD";

    /// <summary>The job has its allocation and runs (or is finishing): RUNNING, COMPLETING, SIGNALING, STAGE_OUT.</summary>
    public static bool IsRunning(string state) => Normalize(state) is "RUNNING" or "COMPLETING" or "SIGNALING" or "STAGE_OUT";

    /// <summary>Who sacct says cancelled a job ("CANCELLED by 1234" -> "1234"), or null.</summary>
    public static string? CancelledBy(string state) =>
        state.IndexOf(" by ", StringComparison.Ordinal) is var at and >= 0 ? state[(at + 4)..].Trim() : null;

    /// <summary>
    /// Maps a terminal state. A job SLURM cancels because its dependency failed (--kill-on-invalid-dep)
    /// is CANCELLED with reason Dependency; so is a job someone cancelled while it waited on one, but
    /// sacct then says who: "CANCELLED by 1234". Only the former is an upstream's failure.
    /// </summary>
    public static ExecState ToExecState(string state, string? reason) => Normalize(state) switch
    {
        "CANCELLED" when state.Contains(" by ", StringComparison.Ordinal) => ExecState.Cancelled,
        "COMPLETED" => ExecState.Completed,
        "OUT_OF_MEMORY" => ExecState.OutOfMemory,
        "TIMEOUT" or "DEADLINE" => ExecState.Timeout,
        "NODE_FAIL" => ExecState.NodeFail,
        "PREEMPTED" => ExecState.Preempted,
        "BOOT_FAIL" => ExecState.BootFail,
        "CANCELLED" when reason is not null && reason.Contains("Dependency", StringComparison.OrdinalIgnoreCase) => ExecState.UpstreamFailed,
        "CANCELLED" => ExecState.Cancelled,
        _ => ExecState.Failed, // FAILED, SPECIAL_EXIT, REVOKED, anything unknown
    };

    /// <summary>"CANCELLED by 0" -> "CANCELLED"; "RUNNING+" -> "RUNNING".</summary>
    /// <summary>
    /// A pending job's reason that never clears by waiting: the request is beyond what its partition,
    /// account or QOS lets one job have (SLURM's default EnforcePartLimits=NO queues such a job instead
    /// of refusing it at sbatch), or names what does not exist. The build waited for ever, saying only
    /// "pending" (a review). Not here: PartitionNodeLimit, ReqNodeNotAvail (also nodes down or drained),
    /// group and per-user limits (they clear as other jobs end).
    /// </summary>
    public static bool NeverStarts(string? reason) =>
        reason is "PartitionConfig" or "PartitionTimeLimit" or "BadConstraints" or "InvalidAccount" or "InvalidQOS"
        || reason is not null && System.Text.RegularExpressions.Regex.IsMatch(reason, @"^(QOS|Assoc)Max\w*PerJob\w*$");

    /// <summary>A pending reason worth showing: not the everyday ones (waiting for priority, resources, an upstream).</summary>
    public static bool IsNotable(string? reason) =>
        reason is not (null or "" or "None" or "Priority" or "Resources" or "Dependency" or "BeginTime" or "JobArrayTaskLimit");

    public static string Normalize(string state)
    {
        var s = state.Trim();
        var space = s.IndexOf(' ');
        if (space > 0) s = s[..space];
        return s.TrimEnd('+').ToUpperInvariant();
    }

    /// <summary>sacct's "3:0" (exit code : signal) -> 3; a real signal alone gives 128+signal ("0:15" -> 143); "0:125" (cgroup OOM) -> 0.</summary>
    public static int ParseExitCode(string text)
    {
        var parts = text.Split(':');
        var code = parts.Length > 0 && int.TryParse(parts[0], out var c) ? c : 0;
        var sig = parts.Length > 1 && int.TryParse(parts[1], out var g) ? g : 0;
        return code != 0 ? code : sig is > 0 and < 65 ? 128 + sig : 0;
    }

    /// <summary>sacct Elapsed: [D-]HH:MM:SS or MM:SS(.mmm) -> seconds.</summary>
    public static double ParseElapsed(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return 0;
        var days = 0;
        var dash = text.IndexOf('-');
        if (dash > 0 && int.TryParse(text[..dash], out days)) text = text[(dash + 1)..];
        double total = 0;
        foreach (var p in text.Split(':'))
            total = total * 60 + (double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0);
        return days * 86400 + total;
    }

    /// <summary>
    /// sacct ReqMem in MB for the whole job: "2G", "2048M"; SLURM before 21.08 writes "2048Mc" per CPU
    /// (times AllocCPUS) or "2048Mn" per node (a KdGat job has one node). Null when unreadable or 0 (no limit).
    /// </summary>
    public static long? ParseReqMemMb(string reqMem, string allocCpus)
    {
        var t = reqMem.Trim();
        var perCpu = t.EndsWith('c');
        if (perCpu || t.EndsWith('n')) t = t[..^1];
        if (Config.ResourceParser.ParseMemMb(t) is not { } mb) return null;
        if (!perCpu) return mb;
        return int.TryParse(allocCpus.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var cpus) && cpus > 0
            ? Math.Min(mb * cpus, Config.ResourceParser.MaxMemMb) : null;
    }

    /// <summary>sacct MaxRSS: "322240K", "1.5M", "2G", "" -> KiB.</summary>
    public static long ParseRssKb(string text)
    {
        var t = text.Trim();
        if (t.Length == 0) return 0;
        var unit = char.ToUpperInvariant(t[^1]);
        var mult = unit switch { 'K' => 1.0, 'M' => 1024.0, 'G' => 1024.0 * 1024, 'T' => 1024.0 * 1024 * 1024, _ => 1.0 / 1024 };
        var num = char.IsLetter(t[^1]) ? t[..^1] : t;
        return double.TryParse(num, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? (long)Math.Round(v * mult) : 0;
    }
}
