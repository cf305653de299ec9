using System.Text.Json;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution;

/// <summary>
/// Keeps a previous good result safe while a stage reruns. Before an attempt, the old manifest
/// and outputs are moved aside (renames); a journal records the attempt. Success deletes the
/// journal, then the aside copy. Failure moves the failed outputs to failed/ and puts the old
/// result back. A crash at any point leaves a journal, and the next build restores the old result
/// before deciding anything, so nothing half-written ever looks up to date.
/// Layout: {runs}/{dataset}/.kdgat/{stage}/{attempt.json, aside/, failed/, lock}.
/// </summary>
public sealed class OutputGuard
{
    private readonly StageInstance _s;

    public OutputGuard(StageInstance s)
    {
        _s = s;
        StateDir = Path.Combine(s.Layout.RunsRoot, s.Dataset, ".kdgat", s.Name);
    }

    public string StateDir { get; }
    public string LockFile => Path.Combine(StateDir, "lock");
    private string Journal => Path.Combine(StateDir, "attempt.json");
    private string AsideDir => Path.Combine(StateDir, "aside");
    public string FailedDir => Path.Combine(StateDir, "failed");
    /// <summary>Written by Clean: the next build must really run the stage, not restore it from the cache.</summary>
    public string RerunRequested => Path.Combine(StateDir, "rerun-requested");
    private string AsideManifest => Path.Combine(AsideDir, "manifest");
    private string AsideOutput(int i) => Path.Combine(AsideDir, $"output{i}");

    /// <summary>The journal of an attempt in progress (or of one a crash interrupted).</summary>
    public sealed record JournalEntry(string AttemptId, string? Handle, string Host, int BuildPid)
    {
        /// <summary>Batch jobs: the stage's own fingerprint (without upstream digests) when it was submitted.</summary>
        public string? Fingerprint { get; init; }
        public int Attempt { get; init; } = 1;
    }

    /// <summary>A batch job (SLURM) an interrupted build submitted and journalled: it may still be pending or running.</summary>
    public sealed record BatchAttempt(string AttemptId, string Handle, string? Fingerprint, int Attempt);

    /// <summary>
    /// The journalled batch job of an interrupted build, if any. Unlike a local process, it did not
    /// die with the build: the caller re-attaches to it (or collects it) instead of recovering.
    /// </summary>
    /// <param name="findSubmitted">Looks up a job by attempt id, for a build killed between submission and journalling it.</param>
    public BatchAttempt? InterruptedBatchJob(string handlePrefix, Func<string, string?> findSubmitted)
    {
        if (ReadJournal() is not { } e) return null;
        var h = e.Handle ?? (e.Host == Environment.MachineName || e.Fingerprint is not null ? findSubmitted(e.AttemptId) : null);
        return h is not null && h.StartsWith(handlePrefix, StringComparison.Ordinal) ? new BatchAttempt(e.AttemptId, h, e.Fingerprint, e.Attempt) : null;
    }

    /// <summary>The current journal, or null when there is none or it cannot be read.</summary>
    public JournalEntry? ReadJournal()
    {
        try { return File.Exists(Journal) ? JsonSerializer.Deserialize<JournalEntry>(File.ReadAllText(Journal)) : null; }
        catch (Exception x) when (x is JsonException or IOException) { return null; }
    }

    /// <summary>Undoes a crashed attempt, if any. Returns a description of what was recovered, or null.</summary>
    public string? RecoverIfNeeded()
    {
        if (!File.Exists(Journal))
        {
            // A journal-less aside dir is the remains of a committed attempt: garbage.
            if (Directory.Exists(AsideDir)) FileMover.Delete(AsideDir);
            return null;
        }
        var entry = ReadJournal();
        StopOrphan(entry);
        RestorePrevious();
        File.Delete(Journal);
        return $"attempt {entry?.AttemptId ?? "?"} of {_s.Key} was interrupted; its partial outputs were moved to {PathText.ToStored(_s.Layout.Root, FailedDir)} and the previous result restored";
    }

    /// <summary>
    /// The build that started the attempt died (kill -9) but its stage process may live on in its
    /// own process group. Stop it, but only if it is provably ours: same host and its environment
    /// carries this attempt's id.
    /// </summary>
    private static void StopOrphan(JournalEntry? e)
    {
        if (Slurm.SlurmExecutor.JobIdOf(e?.Handle) is not null)
        {
            StopOrphanJob(e!.AttemptId);
            return;
        }
        if (e?.Handle is null || !e.Handle.StartsWith("pid:", StringComparison.Ordinal) || e.Host != Environment.MachineName) return;
        if (!int.TryParse(e.Handle.AsSpan(4), out var pid)) return;
        try
        {
            var environ = File.ReadAllText($"/proc/{pid}/environ");
            if (!environ.Contains($"KDGAT_ATTEMPT_ID={e.AttemptId}\0", StringComparison.Ordinal)) return;
        }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        Local.PosixSpawn.KillGroup(pid, 9);
        for (var i = 0; i < 50 && Local.PosixSpawn.IsAlive(pid); i++) Thread.Sleep(100);
    }

    /// <summary>
    /// A SLURM job of an earlier build that this build will not re-attach to (e.g. the stage now runs
    /// with the local executor): it must not write into the run dir while the stage runs again. It is
    /// found by its attempt comment, so a recycled job id is never cancelled; no SLURM, nothing to do.
    /// </summary>
    private static void StopOrphanJob(string attemptId)
    {
        var client = new Slurm.SlurmClient();
        if (client.FindAttemptAsync(attemptId, CancellationToken.None).GetAwaiter().GetResult() is { } id)
            client.CancelAsync([id]).GetAwaiter().GetResult();
    }

    /// <param name="fingerprint">Batch jobs: the stage's own fingerprint, so a later build can tell whether the job still matches.</param>
    public void Begin(string attemptId, string? fingerprint = null, int attempt = 1)
    {
        Directory.CreateDirectory(StateDir);
        if (Directory.Exists(AsideDir)) FileMover.Delete(AsideDir);
        WriteJournal(new JournalEntry(attemptId, null, Environment.MachineName, Environment.ProcessId) { Fingerprint = fingerprint, Attempt = attempt });
        Directory.CreateDirectory(AsideDir);
        if (File.Exists(_s.ManifestPath)) FileMover.Move(_s.ManifestPath, AsideManifest);
        for (var i = 0; i < _s.Outputs.Count; i++)
            if (FileMover.Exists(_s.Outputs[i])) FileMover.Move(_s.Outputs[i], AsideOutput(i));
    }

    /// <summary>Records where the attempt runs (pid or job id) so a later build can find it.</summary>
    public void Started(string attemptId, string handle, string? fingerprint = null, int attempt = 1) =>
        WriteJournal(new JournalEntry(attemptId, handle, Environment.MachineName, Environment.ProcessId) { Fingerprint = fingerprint, Attempt = attempt });

    /// <summary>The new manifest is in place: the previous result is superseded.</summary>
    public void Commit()
    {
        File.Delete(Journal);
        File.Delete(RerunRequested);
        if (Directory.Exists(AsideDir)) FileMover.Delete(AsideDir);
    }

    /// <summary>The attempt failed: keep its outputs for inspection and restore the previous result.</summary>
    public void Abort()
    {
        RestorePrevious();
        File.Delete(Journal);
    }

    private void RestorePrevious()
    {
        if (Directory.Exists(FailedDir)) FileMover.Delete(FailedDir);
        Directory.CreateDirectory(FailedDir);
        if (File.Exists(_s.ManifestPath)) File.Delete(_s.ManifestPath); // a manifest is only ever the old one or none
        for (var i = 0; i < _s.Outputs.Count; i++)
        {
            var output = _s.Outputs[i];
            if (FileMover.Exists(output)) FileMover.Move(output, Path.Combine(FailedDir, $"{i}-{Path.GetFileName(output)}"));
            if (FileMover.Exists(AsideOutput(i))) FileMover.Move(AsideOutput(i), output);
        }
        if (File.Exists(AsideManifest)) FileMover.Move(AsideManifest, _s.ManifestPath);
        if (Directory.Exists(AsideDir)) FileMover.Delete(AsideDir);
    }

    private void WriteJournal(JournalEntry e) => AtomicFile.WriteAllText(Journal, JsonSerializer.Serialize(e));
}
