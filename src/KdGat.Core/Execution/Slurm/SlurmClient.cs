using System.Globalization;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Execution.Slurm;

/// <summary>A job's state as squeue (live) and sacct (accounting: exit code, elapsed, MaxRSS) report it.</summary>
internal sealed record JobStatus(string JobId, string State, string? Reason)
{
    public int ExitCode { get; init; }
    public double ElapsedSeconds { get; init; }
    public long MaxRssKb { get; init; }
    public DateTimeOffset? Start { get; init; }
    public DateTimeOffset? End { get; init; }
    public double CpuSeconds { get; init; }
    public string? Node { get; init; }
    /// <summary>The memory the job was given (sacct ReqMem, for the whole job); null when sacct did not say.</summary>
    public long? ReqMemMb { get; init; }
    /// <summary>The job's time limit (sacct Timelimit; <see cref="Config.ResourceParser.UnlimitedMinutes"/> for none); null when sacct did not say.</summary>
    public int? TimeLimitMinutes { get; init; }
    public bool IsActive => SlurmState.IsActive(State);
}

/// <summary>
/// sbatch, squeue, sacct and scancel, each called once per batch of jobs (never a process per job
/// per poll). Queries return null on failure so the caller retries; submission retries transient
/// errors itself and, before each retry, looks for the job a timed-out call may have created.
/// </summary>
internal sealed class SlurmClient
{
    private readonly ICommandRunner _run;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    public SlurmClient(ICommandRunner? runner = null, Func<TimeSpan, CancellationToken, Task>? delay = null, TimeProvider? time = null)
    {
        _run = runner ?? new ProcessCommandRunner();
        var clock = time ?? TimeProvider.System;
        _delay = delay ?? ((d, c) => Time.Clock.Delay(clock, d, c));
    }

    /// <summary>Messages of a controller that is busy, restarting or unreachable: worth retrying.</summary>
    public static bool IsTransient(string text) =>
        new[] { "Socket timed out", "timed out", "Unable to contact slurm controller", "temporarily unavailable", "Transport endpoint",
                "Connection refused", "Zero Bytes were transmitted", "try again", "Slurm backup controller in standby", "slurm_persist_conn",
                "Connection reset", "Resource temporarily unavailable", "Communication connection failure" }
            .Any(m => text.Contains(m, StringComparison.OrdinalIgnoreCase));

    /// <summary>Submits a script; returns the job id. Throws KdgException (KDG4002/KDG4003) when sbatch refuses or keeps failing.</summary>
    /// <param name="cancel">Cancels the sbatch call itself (the executor passes none: a call is never cut off half-way).</param>
    /// <param name="request">The stage's resources as asked (<see cref="Config.ResourceSpec.Describe"/>), named in a refusal.</param>
    /// <param name="stopRetrying">Ctrl+C: no further try after a failed one (OperationCanceledException), unless the failed try created the job.</param>
    /// <param name="onRetry">Told the try about to follow (2, 3, ...) and why the one before failed.</param>
    public async Task<string> SubmitAsync(string script, string workingDir, IReadOnlyList<string> afterOk, string comment, string where, CancellationToken cancel, int maxTries = 6, string? request = null,
        CancellationToken stopRetrying = default, Action<int, string>? onRetry = null)
    {
        var args = new List<string> { "--parsable" };
        if (afterOk.Count > 0)
        {
            args.Add("--dependency=afterok:" + string.Join(':', afterOk));
            args.Add("--kill-on-invalid-dep=yes");
        }
        args.Add(script);
        var wait = TimeSpan.FromSeconds(1);
        CommandOutput r = default!;
        bool unknown = false, answered = false, resubmit = true;
        string? existing;
        var tries = 0; // sbatch calls; a round whose lookup got no answer calls none
        for (var round = 1; ; round++)
        {
            if (resubmit)
            {
                tries++;
                r = await _run.RunAsync("sbatch", args, workingDir, cancel).ConfigureAwait(false);
                if (r.ExitCode == 0 && ParseSubmitted(r.Stdout) is { } id) return id;
                if (r.ExitCode == 127)
                    throw new KdgException(ErrorCodes.SlurmUnavailable, $"{where}: sbatch was not found ({r.Text}). Run the build on a SLURM login node, start the local test cluster (scripts/slurm/start-local-slurm.sh), or use -p:Executor=local.");
                // An sbatch killed by a signal (exit 128+N; a terminal's Ctrl+C where setsid is missing), or
                // one that printed no job id and no reason, says nothing about whether the controller took
                // the job: as uncertain as a timed-out one.
                unknown = r.ExitCode is 0 or < 0 or > 128 || r.Text.Length == 0;
                var transient = unknown || IsTransient(r.Text);
                // Any failed sbatch may still have created the job (a timed-out or killed call): adopt it
                // rather than submit a duplicate, or give up on a job that runs. Asked after a refusal too.
                (answered, existing, _) = await LookUpAsync(comment, cancel).ConfigureAwait(false);
                // A refusal can leave an ended record with the comment (the controller keeps "Requested node
                // configuration is not available" as a FAILED job, reason BadConstraints): that is the
                // refusal, not a job to collect; a listed job that is still active is kept.
                if (existing is not null && (transient || await IsActiveAsync(existing, cancel).ConfigureAwait(false))) return existing;
                if (!transient)
                    throw new KdgException(ErrorCodes.SlurmSubmitFailed,
                        $"{where}: sbatch failed{(tries > 1 ? $" after {tries} tries" : "")}: {r.Text}. " +
                        (request is null ? "" : $"The job asked for {request}. ") +
                        "Fix the stage's resources in kdgat.yaml (cpus, mem, gpus, time, partition, account, qos, extra; or defaults.resources, slurm.extra) " +
                        "to what the cluster offers: sinfo -o '%P %c %m %G %l' lists partitions with cpus, memory (MB), GRES such as gpu:N and time limit; " +
                        $"sacctmgr show assoc user=$USER lists your accounts and qos. Remove gpus: on a cluster without GPUs. The job script is {script}.");
            }
            if (!stopRetrying.IsCancellationRequested && round < maxTries)
            {
                onRetry?.Invoke(tries + 1, Said(r));
                try
                {
                    using var both = CancellationTokenSource.CreateLinkedTokenSource(cancel, stopRetrying);
                    await _delay(wait, both.Token).ConfigureAwait(false);
                    wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds * 2, 30));
                    // Immediately before resubmitting: the failed try's request may have reached the controller
                    // during the backoff (a killed sbatch's request often does), and a second sbatch would make a
                    // second job. Listed: adopted. No answer: no sbatch this round (the look is repeated after the
                    // next backoff), since a resubmission SLURM cannot rule out is the duplicate this prevents.
                    (answered, existing, _) = await LookUpAsync(comment, cancel).ConfigureAwait(false);
                    if (existing is not null) return existing;
                    resubmit = answered;
                    continue;
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested) { } // Ctrl+C in the backoff: give up as below
            }
            // Giving up: whether the failed try created the job must be known first, or a job
            // could run that nothing tracks (squeue failing too is a busy controller, not "no job").
            // A killed sbatch's request may reach the controller just after the first look: one more then.
            var again = unknown && answered;
            for (var look = 1; (!answered || again) && look <= (stopRetrying.IsCancellationRequested ? 2 : 5); look++) // Ctrl+C: a few seconds more, not minutes
            {
                again = false;
                await _delay(TimeSpan.FromSeconds(2 << look), cancel).ConfigureAwait(false);
                (answered, existing, _) = await LookUpAsync(comment, cancel).ConfigureAwait(false);
                if (existing is not null) return existing;
            }
            if (!answered)
                throw new KdgException(ErrorCodes.SlurmUnavailable,
                    $"{where}: sbatch failed {tries} time(s), the last: {Said(r)}; and SLURM did not answer whether that try created the job. " +
                    $"The attempt stays journalled: the next build looks for the job by its comment {comment} and re-attaches to it or cancels it. To drop it now, scancel the job `squeue -o '%i %k'` lists with that comment. The job script is {script}.")
                { Data = { [MayHaveSubmitted] = true } };
            stopRetrying.ThrowIfCancellationRequested();
            throw new KdgException(ErrorCodes.SlurmUnavailable,
                $"{where}: sbatch failed {tries} times, each for a passing reason; the last: {Said(r)}. Nothing was submitted. " +
                "Check that the controller answers (scontrol ping; sinfo), or what it says (sdiag; a full queue makes sbatch wait), and build again; " +
                $"or use -p:Executor=local. The job script is {script}.");
        }
    }

    /// <summary>Whether squeue lists the job as pending or running (a failed squeue counts as active: kept rather than lost).</summary>
    private async Task<bool> IsActiveAsync(string id, CancellationToken cancel) =>
        await SqueueAsync([id], cancel).ConfigureAwait(false) is not { } jobs || jobs.GetValueOrDefault(id)?.IsActive == true;

    /// <summary>What a failed client call said, or its exit code when it said nothing (killed by a signal).</summary>
    private static string Said(CommandOutput r) => r.Text.Length > 0 ? r.Text : $"exit code {r.ExitCode}, no output";

    /// <summary>
    /// Set (true) in the Data of a submission's KdgException when sbatch failed and SLURM did not say
    /// whether that try created the job: the attempt's journal must stay, so the next build looks the
    /// job up by its comment (re-attaches or cancels it).
    /// </summary>
    public const string MayHaveSubmitted = "kdgat.slurm.may-have-submitted";

    /// <summary>The job submitted for this KdGat attempt (its --comment), if the controller still knows it.</summary>
    public Task<string?> FindAttemptAsync(string attemptId, CancellationToken cancel) => FindByCommentAsync(JobScript.Comment(attemptId), cancel);

    /// <summary>The job carrying this --comment, if the controller still knows it (null also when squeue failed).</summary>
    public async Task<string?> FindByCommentAsync(string comment, CancellationToken cancel) => (await LookUpAsync(comment, cancel).ConfigureAwait(false)).Id;

    /// <summary>
    /// Whether squeue answered, the job of this KdGat attempt if it lists one, and else squeue's
    /// error. No squeue installed counts as an answer (no job of this machine's SLURM can run) with
    /// <paramref name="missingToolsAnswer"/>, else as none.
    /// </summary>
    public async Task<(bool Answered, string? Id, string? Error)> LookUpAttemptAsync(string attemptId, CancellationToken cancel, bool missingToolsAnswer = true)
    {
        var (answered, id, output) = await LookUpAsync(JobScript.Comment(attemptId), cancel).ConfigureAwait(false);
        if (answered || output.ExitCode == 127 && missingToolsAnswer) return (true, id, null);
        return (false, null, output.ExitCode == 127 ? "squeue is not installed on this machine" : $"squeue failed: {output.Text.Trim()}");
    }

    /// <summary>
    /// Whether job <paramref name="id"/> is the one this attempt submitted: squeue's --comment while the
    /// controller lists it, else sacct's job name and working directory (the instance's run dir: another
    /// checkout's job of the same stage has the same name, not the same folder; a review). A journalled id
    /// re-used by SLURM for another job (ids start again at 1 after its state is wiped) was re-attached to,
    /// its end committed as the stage's result, or cancelled (a review). Null when neither can tell.
    /// </summary>
    public async Task<bool?> IsAttemptsJobAsync(string id, string attemptId, string jobName, string workDir, CancellationToken cancel)
    {
        var (_, jobs) = await ListedAsync(cancel).ConfigureAwait(false);
        if (jobs.FirstOrDefault(j => j.Id == id) is { Id: not null } listed) return listed.Comment == JobScript.Comment(attemptId);
        var a = await _run.RunAsync("sacct", ["-n", "-P", "-X", "-j", id, "-o", "JobID,JobName%300,WorkDir%4000"], null, cancel).ConfigureAwait(false);
        if (a.ExitCode != 0) return null;
        var rows = a.Stdout.Split('\n').Select(l => l.Trim().Split('|')).Where(f => f.Length == 3 && f[0] == id).ToArray();
        if (rows.Length == 0) return null;
        // Every row SLURM keeps under that id must be this attempt's: after a wipe, accounting may hold the old job and the new one.
        // sbatch records getcwd(3): the run dir with every link resolved (a home reached through /home -> /gpfs/home).
        static string Real(string dir) => Path.TrimEndingDirectorySeparator(IO.PathText.RealPath(dir) ?? dir);
        var ours = Real(workDir);
        return rows.All(f => f[1] == jobName && Real(f[2]) == ours);
    }

    /// <summary>Whether squeue answered, the job carrying this --comment if it lists one, and what squeue said.</summary>
    private async Task<(bool Answered, string? Id, CommandOutput Output)> LookUpAsync(string comment, CancellationToken cancel)
    {
        var (output, jobs) = await ListedAsync(cancel).ConfigureAwait(false);
        return (output.ExitCode == 0, jobs.FirstOrDefault(j => j.Comment == comment).Id, output);
    }

    /// <summary>Every job the controller lists (ended ones too, for MinJobAge) with its --comment; none when squeue failed (its output says why).</summary>
    private async Task<(CommandOutput Output, (string Id, string Comment)[] Jobs)> ListedAsync(CancellationToken cancel)
    {
        var r = await _run.RunAsync("squeue", ["-h", "-t", "all", "-o", "%i|%k"], null, cancel).ConfigureAwait(false);
        return (r, r.ExitCode != 0 ? [] : r.Stdout.Split('\n').Select(l => l.Trim().Split('|')).Where(f => f.Length == 2).Select(f => (f[0], f[1])).ToArray());
    }

    /// <summary>"123" or "123;cluster" -> "123".</summary>
    public static string? ParseSubmitted(string stdout)
    {
        var line = stdout.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";
        var id = line.Split(';')[0];
        return id.Length > 0 && id.All(char.IsAsciiDigit) ? id : null;
    }

    /// <summary>One squeue for all ids (finished jobs included with -t all). Null when the query failed.</summary>
    public async Task<Dictionary<string, JobStatus>?> SqueueAsync(IReadOnlyCollection<string> ids, CancellationToken cancel)
    {
        if (ids.Count == 0) return new();
        var r = await _run.RunAsync("squeue", ["-h", "-t", "all", "-j", string.Join(',', ids), "-o", "%i|%T|%r"], null, cancel).ConfigureAwait(false);
        // "Invalid job id specified": every id is unknown to the controller (purged or lost); sacct decides.
        if (r.ExitCode != 0 && r.Text.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase)) return new();
        if (r.ExitCode == 0) return ParseSqueue(r.Stdout);
        LastError = r.Text;
        return null;
    }

    /// <summary>What the last failed squeue of <see cref="SqueueAsync"/> said.</summary>
    public string? LastError { get; private set; }

    public static Dictionary<string, JobStatus> ParseSqueue(string stdout)
    {
        var result = new Dictionary<string, JobStatus>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n'))
        {
            var f = line.Trim().Split('|');
            if (f.Length < 3 || f[0].Length == 0) continue;
            result[f[0]] = new JobStatus(f[0], SlurmState.Normalize(f[1]), f[2] is "" or "None" or "(null)" ? null : f[2]);
        }
        return result;
    }

    /// <summary>One sacct for all ids: state, exit code, elapsed, MaxRSS (from the steps), and the memory and time limit the job was given. Null when the query failed.</summary>
    public async Task<Dictionary<string, JobStatus>?> SacctAsync(IReadOnlyCollection<string> ids, CancellationToken cancel)
    {
        if (ids.Count == 0) return new();
        var r = await _run.RunAsync("sacct", ["-n", "-P", "-j", string.Join(',', ids), "-o", "JobID,State,ExitCode,Elapsed,MaxRSS,Start,End,Reason,TotalCPU,NodeList,ReqMem,Timelimit,AllocCPUS"], null, cancel).ConfigureAwait(false);
        if (r.ExitCode == 0) return ParseSacct(r.Stdout);
        LastSacctError = r.Text;
        return null;
    }

    /// <summary>What the last failed sacct of <see cref="SacctAsync"/> said.</summary>
    public string? LastSacctError { get; private set; }

    public static Dictionary<string, JobStatus> ParseSacct(string stdout)
    {
        var jobs = new Dictionary<string, JobStatus>(StringComparer.Ordinal);
        var rss = new Dictionary<string, long>(StringComparer.Ordinal);
        // A job cancelled or timed out says "0:0" on its own line; its batch step says how the script
        // died ("0:15": 143). Status and the record said "exit code 0" for a killed job (a SLURM review).
        var batchExit = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in stdout.Split('\n'))
        {
            var f = line.Trim().Split('|');
            if (f.Length < 5 || f[0].Length == 0) continue;
            var dot = f[0].IndexOf('.');
            var id = dot < 0 ? f[0] : f[0][..dot];
            var kb = SlurmState.ParseRssKb(f[4]);
            rss[id] = Math.Max(rss.GetValueOrDefault(id), kb);
            if (f[0].AsSpan(dot + 1) is "batch") batchExit[id] = SlurmState.ParseExitCode(f[2]);
            if (dot >= 0) continue;
            // "CANCELLED by 1234" keeps who cancelled (SlurmState.ToExecState); "RUNNING+" loses its '+'.
            var state = SlurmState.Normalize(f[1]) is var bare && f[1].Trim().StartsWith(bare + " by ", StringComparison.OrdinalIgnoreCase) ? f[1].Trim() : SlurmState.Normalize(f[1]);
            jobs[id] = new JobStatus(id, state, f.Length > 7 && f[7] is not ("" or "None") ? f[7] : null)
            {
                ExitCode = SlurmState.ParseExitCode(f[2]),
                ElapsedSeconds = SlurmState.ParseElapsed(f[3]),
                Start = f.Length > 5 ? ParseTime(f[5]) : null,
                End = f.Length > 6 ? ParseTime(f[6]) : null,
                CpuSeconds = f.Length > 8 ? SlurmState.ParseElapsed(f[8]) : 0,
                Node = f.Length > 9 && f[9] is not ("" or "None assigned") ? f[9] : null,
                // What the job was given when the stage set no mem or time (the cluster's defaults): a retry raises that.
                ReqMemMb = f.Length > 12 ? SlurmState.ParseReqMemMb(f[10], f[12]) : null,
                TimeLimitMinutes = f.Length > 11 ? Config.ResourceParser.ParseMinutes(f[11].Trim()) : null,
            };
        }
        return jobs.ToDictionary(kv => kv.Key, kv => kv.Value with
        {
            MaxRssKb = rss.GetValueOrDefault(kv.Key),
            ExitCode = kv.Value.ExitCode != 0 ? kv.Value.ExitCode : batchExit.GetValueOrDefault(kv.Key),
        }, StringComparer.Ordinal);
    }

    /// <summary>
    /// The longest time limit a job asking for <paramref name="partition"/> (a comma list: SLURM runs it in
    /// any; none: the default partition) may have: the largest MaxTime among them, in minutes
    /// (<see cref="Config.ResourceParser.UnlimitedMinutes"/> for none); null when scontrol failed or
    /// names none of them. One `scontrol show partition -o`.
    /// </summary>
    public async Task<int?> PartitionMaxTimeAsync(string? partition, CancellationToken cancel)
    {
        var r = await _run.RunAsync("scontrol", ["show", "partition", "-o"], null, cancel).ConfigureAwait(false);
        return r.ExitCode == 0 ? ParsePartitionMaxTime(r.Stdout, partition) : null;
    }

    public static int? ParsePartitionMaxTime(string stdout, string? partition)
    {
        var wanted = partition?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int? max = null;
        foreach (var line in stdout.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=', 2)).Where(f => f.Length == 2)
                .GroupBy(f => f[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
            if (!fields.TryGetValue("PartitionName", out var name) || !fields.TryGetValue("MaxTime", out var text)) continue;
            if (wanted is null ? fields.GetValueOrDefault("Default") != "YES" : !wanted.Contains(name, StringComparer.Ordinal)) continue;
            if (Config.ResourceParser.ParseMinutes(text) is not { } minutes) return null; // unreadable: not known
            const int unlimited = Config.ResourceParser.UnlimitedMinutes;
            max = minutes == unlimited || max == unlimited ? unlimited : Math.Max(max ?? minutes, minutes);
        }
        return max;
    }

    /// <summary>sacct's time, in UTC (ProcessCommandRunner runs it with TZ=UTC).</summary>
    private static DateTimeOffset? ParseTime(string s) =>
        DateTimeOffset.TryParseExact(s, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>One scancel for all ids; false when it failed (the caller says so).</summary>
    public async Task<bool> CancelAsync(IReadOnlyCollection<string> ids)
    {
        if (ids.Count == 0) return true;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var r = await _run.RunAsync("scancel", [.. ids], null, CancellationToken.None).ConfigureAwait(false);
            if (r.ExitCode == 0 || r.Text.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase) || r.Text.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase)) return true;
            if (!IsTransient(r.Text)) return false;
            await _delay(TimeSpan.FromSeconds(attempt), CancellationToken.None).ConfigureAwait(false);
        }
        return false;
    }
}
