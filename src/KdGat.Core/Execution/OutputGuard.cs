using System.Text.Json;
using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution;

/// <summary>
/// Keeps a previous good result safe while a stage reruns, through any crash or file error.
/// Layout: {runs}/{dataset}/.kdgat/{stage}/{attempt.json, aside/, failed/, lock, generation}. The guarded
/// items are the manifest, params.json, every declared output and every leftover (an entry of the run
/// dir that is none of these nor KdGat's logs/: what an earlier attempt left, e.g. a checkpoint a
/// training script resumes from, so each attempt starts in the run dir a from-scratch build gives it,
/// and a rollback puts them back with the previous result); each path is only ever absent
/// or complete (renames; see <see cref="FileMover"/>). The protocol, step by step, and what a
/// crash right after each step leaves (recovery = <see cref="RecoverIfNeededAsync"/>, run under the
/// stage lock before anything is decided; it is idempotent, so a crash inside it is covered too):
///
///   step                                         journal           after a crash, recovery...
///   0  (no journal)                              -                 deletes a stray aside/ (garbage of a commit)
///   1  journal {phase: aside}                    aside             puts back whatever reached aside/
///   2  manifest, params, outputs -> aside/       aside             same: an item in aside/ goes back unless the
///                                                                  live path still holds it (then aside/ is a twin)
///   3  journal {phase: running, had: [...]}      running           rolls back: the live manifest (new, uncommitted)
///   4  params.json written, stage started,       running             is deleted first; live items that aside/ holds
///      pid/job journalled, outputs written                           or that had no previous version go to failed/;
///   5  new manifest written (atomic)             running             aside/ items go back; the manifest last
///   6  run record written                        running           rolls forward: the live manifest is this attempt's
///                                                                  and its run record exists -> aside/ is dropped
///   7  journal deleted (the commit)              -                 deletes the stray aside/
///
/// "had" lists the items that had a previous version, so a rollback interrupted after putting an
/// item back never mistakes the restored item for a partial one. The journal of step 1 lists where
/// each output item lives ("outputs": stored paths, output{i} is the i-th), so recovery puts every
/// item back where it was taken from even when the stage's outputs list changed since (reordered,
/// removed). A journal without it (older KdGat) is mapped to today's outputs by position, unless a
/// saved item lies beyond them (the list got shorter) or the previous manifest aside names another
/// path at its position (reordered): then aside/ is kept whole under unrecovered/.
/// Before rolling back, the stage's processes are stopped: they carry the attempt id in their environment (journalled at step 1,
/// before any start), so they are found even when the build died before journalling the pid.
/// A failed attempt (step 4 or 6 failing) rolls back in-process the same way; if that fails too,
/// the journal stays and the next build finishes it.
/// </summary>
internal sealed class OutputGuard
{
    private const string PhaseAside = "aside", PhaseRunning = "running", ManifestItem = "manifest", ParamsItem = "params";
    private readonly StageInstance _s;

    public OutputGuard(StageInstance s)
    {
        _s = s;
        StateDir = Path.Combine(s.Layout.DatasetStateDir(s.Dataset), s.Slot);
    }

    public string StateDir { get; }
    /// <summary>Runs squeue and scancel for an interrupted attempt's job (tests: a cluster that fails).</summary>
    public Slurm.ICommandRunner? SlurmCommands { get; init; }
    public string LockFile => LockFileIn(StateDir);
    /// <summary>The lock of the slot whose state is in <paramref name="stateDir"/> (Clean takes those of former sweep points by path).</summary>
    public static string LockFileIn(string stateDir) => Path.Combine(stateDir, "lock");
    private string Journal => JournalIn(StateDir);
    /// <summary>Where an attempt's journal lies in an instance's state dir (a former sweep point's too, which no instance has now).</summary>
    public static string JournalIn(string stateDir) => Path.Combine(stateDir, "attempt.json");
    /// <summary>A random id replaced as every attempt begins and again before it ends (commit or rollback): see <see cref="Mark"/>.</summary>
    private string GenerationFile => Path.Combine(StateDir, "generation");
    private string AsideDir => Path.Combine(StateDir, "aside");
    public string FailedDir => Path.Combine(StateDir, "failed");
    /// <summary>Written by Clean: the next build must really run the stage, not restore it from the cache.</summary>
    public string RerunRequested => RerunRequestedIn(StateDir);
    public static string RerunRequestedIn(string stateDir) => Path.Combine(stateDir, "rerun-requested");
    private string Aside(string item) => Path.Combine(AsideDir, item);
    /// <summary>Where recovery keeps the aside/ of an older KdGat's journal it cannot map to today's outputs.</summary>
    public string UnrecoveredDir => Path.Combine(StateDir, "unrecovered");

    /// <summary>The journal of an attempt in progress (or of one a crash interrupted).</summary>
    public sealed record JournalEntry(string AttemptId, string? Handle, string Host, int BuildPid)
    {
        /// <summary>Batch jobs: the stage's own fingerprint (without upstream digests) when it was submitted.</summary>
        public string? Fingerprint { get; init; }
        /// <summary>
        /// Batch jobs: each upstream as the job was submitted against it, by name: its outputs digest,
        /// or <c>job:ID</c> for the upstream job it was chained after (afterok). Null: written by an older KdGat.
        /// </summary>
        public IReadOnlyDictionary<string, string>? Upstream { get; init; }
        public int Attempt { get; init; } = 1;
        /// <summary>"aside" while the previous result is moved aside, "running" once it all is (null: written by an older KdGat).</summary>
        public string? Phase { get; init; }
        /// <summary>The guarded items that had a previous version (moved to aside/); null: unknown (older KdGat).</summary>
        public IReadOnlyList<string>? Had { get; init; }
        /// <summary>Where item output{i} was taken from (stored path, as in manifests); null: written by an older KdGat.</summary>
        public IReadOnlyList<string>? Outputs { get; init; }
        /// <summary>Where item leftover{j} was taken from (stored path): the run dir's other entries at the start; null: none, or an older KdGat.</summary>
        public IReadOnlyList<string>? Leftovers { get; init; }
        /// <summary>The run record this attempt writes when it succeeds: with its manifest, proof that it committed.</summary>
        public string? RecordId { get; init; }
        public string? BuildId { get; init; }
        /// <summary>
        /// True: the attempt is submitted as a SLURM job (journalled before sbatch runs, so a journal
        /// without a <see cref="Handle"/> may still have a job: sbatch killed, or SLURM could not confirm);
        /// false: it runs locally; null: written by an older KdGat (then a batch <see cref="Fingerprint"/> says SLURM).
        /// </summary>
        public bool? Submits { get; init; }
        /// <summary>Batch jobs: the identities of what the stage reads as the job was submitted (<c>Fingerprinter.Snapshot</c>), for the build that collects it; null: written by an older KdGat.</summary>
        public IReadOnlyDictionary<string, string>? Seen { get; init; }
        /// <summary>A local attempt: when the process group's leader (<see cref="Handle"/>) started, in clock ticks after boot; null: a batch job, or an older KdGat.</summary>
        public long? StartTicks { get; init; }
        /// <summary>With <see cref="StartTicks"/>: the boot they count from (/proc/sys/kernel/random/boot_id); after a reboot no process of the attempt lives.</summary>
        public string? BootId { get; init; }
        /// <summary>When the build process (<see cref="BuildPid"/>) started, in clock ticks after boot: a process that took its pid later is not it. Null: an older KdGat, or no /proc.</summary>
        public long? BuildStartTicks { get; init; }
        /// <summary>
        /// The inode and full path of the instance's state dir as the attempt began: a journal that came with a copy of the tree
        /// (cp -a, rsync to another place) names another of both (<see cref="CameWithACopy"/>). Null: an older KdGat, or no statx.
        /// </summary>
        public ulong? StateDirInode { get; init; }
        /// <inheritdoc cref="StateDirInode"/>
        public string? StateDirPath { get; init; }
        /// <summary>The journalled <see cref="Handle"/> as a typed handle.</summary>
        [System.Text.Json.Serialization.JsonIgnore] public AttemptHandle? StartedAs => AttemptHandle.Parse(Handle);
    }

    /// <summary>A batch job (SLURM) an interrupted build submitted and journalled: it may still be pending or running.</summary>
    public sealed record BatchAttempt(string AttemptId, AttemptHandle Handle, string? Fingerprint, int Attempt, IReadOnlyDictionary<string, string>? Upstream = null, IReadOnlyDictionary<string, string>? Seen = null);

    /// <summary>
    /// No attempt in progress or interrupted (no journal) and nothing left of one (no aside dir):
    /// recovery would do nothing, so the live manifest and outputs are the committed result.
    /// </summary>
    public bool NothingToRecover => !NoOp.FileObservations.FileExists(Journal) && !NoOp.FileObservations.DirectoryExists(AsideDir);

    /// <summary>
    /// The journalled batch job of an interrupted build, if any. Unlike a local process, it did not
    /// die with the build: the caller re-attaches to it (or collects it) instead of recovering.
    /// </summary>
    /// <param name="findSubmitted">Looks up a job by attempt id, for a build killed between submission and journalling it.</param>
    /// <param name="isTheAttempts">Whether a journalled job id is still the attempt's job (false: SLURM knows it as another job's; recovery then finds the attempt's job, if any, by its comment).</param>
    public async Task<BatchAttempt?> InterruptedBatchJobAsync(Func<string, Task<AttemptHandle?>> findSubmitted, Func<string, AttemptHandle, string, string, Task<bool?>>? isTheAttempts = null)
    {
        if (ReadJournal() is not { } e || e.Phase == PhaseAside || CameWithACopy(e)) return null;
        if (e.StartedAs is { IsBatchJob: true } journalled)
            return isTheAttempts is not null && await isTheAttempts(e.AttemptId, journalled, Slurm.JobScript.JobName(_s), _s.RunDir).ConfigureAwait(false) == false
                ? null
                : new BatchAttempt(e.AttemptId, journalled, e.Fingerprint, e.Attempt, e.Upstream, e.Seen);
        // A journal that says it was not submitted (a local stage's) has no job to find: no squeue for it.
        var h = e.StartedAs ?? (e.Submits ?? (e.Host == Environment.MachineName || e.Fingerprint is not null) ? await findSubmitted(e.AttemptId).ConfigureAwait(false) : null);
        return h is { IsBatchJob: true } job ? new BatchAttempt(e.AttemptId, job, e.Fingerprint, e.Attempt, e.Upstream, e.Seen) : null;
    }

    /// <summary>
    /// What a downstream notes of this (upstream) instance as its attempt starts and asks again when it ends: the
    /// generation, replaced as every attempt on this instance begins and again before its journal goes (commit or
    /// rollback), or, while another build's attempt is in progress (its journal is there), that build and a value no
    /// later mark has (a stage started then may read the outputs aside, so its end always differs). Another build
    /// rerunning or restoring the upstream meanwhile moved its outputs aside under the running stage; when it then
    /// wrote the same bytes again, or failed and put the old ones back, the outputs digest was the same and the
    /// stage's result, made from missing or half-written files, was committed (a review). The generation is read
    /// before the journal, and written before the journal is, so no attempt falls between what the two reads saw.
    /// </summary>
    public string Mark(string buildId)
    {
        using var _ = NoOp.FileObservations.Pause(); // a check of a run, not part of any decision a certificate replays
        string generation;
        try { generation = File.Exists(GenerationFile) ? GenerationText(SmallFile.ReadAllBytes(GenerationFile)) : "none"; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { generation = "unreadable"; }
        if (!FileMover.Exists(Journal)) return generation;
        var owner = ReadJournal()?.BuildId;
        // Never equal to a later mark: a stage that starts and ends inside one foreign attempt (or two of its retries) read
        // the outputs aside all along, while the same bytes written again left the digest alone (a review).
        return owner == buildId ? generation : $"{InAttemptOf}{owner ?? "(journal unreadable)"}, seen {Guid.NewGuid():N}";
    }

    /// <summary>How a <see cref="Mark"/> taken during another build's attempt starts.</summary>
    public const string InAttemptOf = "in an attempt of build ";

    private void NextGeneration() => AtomicFile.WriteAllText(GenerationFile, Guid.NewGuid().ToString("N"), durable: false);

    /// <summary>A generation as a mark: a random id, or a journal renamed over it (<see cref="EndJournal"/>) by its digest.</summary>
    private static string GenerationText(byte[] bytes) =>
        bytes.Length <= 64 ? System.Text.Encoding.UTF8.GetString(bytes).Trim() : "journal " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..32];

    /// <summary>
    /// The end of an attempt (commit or rollback): the generation is replaced, then the journal goes. Where the
    /// new generation cannot be written (a full disk or quota: the attempt may well have failed for that), the
    /// journal is renamed over the generation, which needs no space and does both at once: its bytes name this
    /// attempt's unique run record, so no mark has seen them. Kept instead, the journal made the next build call
    /// the failed (and reported) attempt interrupted, KDG2003 (a quota review); deleted without a new generation,
    /// a downstream whose mark read this attempt's generation just before the journal went would miss it.
    /// </summary>
    private void EndJournal()
    {
        if (!FileMover.Exists(Journal)) return;
        try { NextGeneration(); }
        catch (IOException full) when (File.Exists(Journal))
        {
            CrashPoints.Hit("rename", GenerationFile);
            try { File.Move(Journal, GenerationFile, overwrite: true); }
            catch (IOException) { throw full; } // read-only, say: the journal stays, and the first error says why
            return;
        }
        FileMover.Delete(Journal); // a file, or the damage in its place (a directory)
    }

    /// <summary>The current journal, or null when there is none or it cannot be read.</summary>
    public JournalEntry? ReadJournal()
    {
        try { return File.Exists(Journal) ? JsonSerializer.Deserialize<JournalEntry>(SmallFile.ReadAllText(Journal)) : null; }
        catch (Exception x) when (x is JsonException or IOException) { return null; }
    }

    /// <summary>
    /// Status's look at the journal: the entry, or why something at its path cannot be read (torn JSON, a directory or
    /// FIFO there, no permission: the build then fails the stage, KDG3007); (null, null) when there is none. A journal
    /// read as none gave Status no "interrupted" row (a review).
    /// </summary>
    public (JournalEntry? Entry, string? Unreadable) LookAtJournal()
    {
        if (!File.Exists(Journal) && !Directory.Exists(Journal)) return (null, null);
        try
        {
            if (Directory.Exists(Journal)) return (null, "a directory is there");
            return JsonSerializer.Deserialize<JournalEntry>(SmallFile.ReadAllText(Journal)) is { } e ? (e, null) : (null, "it holds JSON null");
        }
        catch (JsonException x) { return (null, $"not a journal KdGat can read: {x.Message.TrimEnd('.')}"); }
        catch (UnauthorizedAccessException) { return (null, PermissionDenied); }
        catch (IOException x) { return (null, x.Message.TrimEnd('.')); }
    }

    /// <summary><see cref="LookAtJournal"/>'s answer for a journal this user may not read.</summary>
    public const string PermissionDenied = "permission denied";

    /// <summary>Where the journal is, stored (relative to the root), for Status to name.</summary>
    public string JournalStored => PathText.ToStored(_s.Layout.Root, Journal);

    /// <summary>Undoes (or completes) an interrupted attempt, if any. Returns a description of what was done, or null.</summary>
    public async Task<string?> RecoverIfNeededAsync()
    {
        // Anything at the journal's path (a directory, a FIFO: damage) is a journal that cannot be read, not none:
        // with none, aside/ would be deleted as garbage, and it may hold the previous result (found by review).
        if (!File.Exists(Journal) && !Directory.Exists(Journal))
        {
            // A journal-less aside dir is the remains of a committed attempt: garbage.
            FileMover.Delete(AsideDir);
            return null;
        }
        RemoveLeftovers();
        CancelledJob = null;
        AssumedEndedJob = null;
        var entry = ReadJournal();
        // A committed attempt's job had ended before its commit: nothing of it can still write. Nor can the processes or job of
        // an attempt whose journal came with a copy of the tree: they write into the tree it was copied from (a review: the
        // copy's first build stopped the original's running stage, and would have cancelled its SLURM job, found by comment).
        var copied = CameWithACopy(entry);
        if (!Committed(entry) && !copied) await StopOrphansAsync(entry).ConfigureAwait(false);
        if (Committed(entry))
        {
            FinishCommit();
            return $"attempt {entry!.AttemptId} of {_s.Key} had committed when its build was interrupted; its result is kept";
        }
        var started = entry?.Phase != PhaseAside;
        if (KeepsUnrecoveredAt(entry) is { } place)
        {
            var kept = KeepUnmappable(entry!, place);
            return $"attempt {entry!.AttemptId} of {_s.Key} was interrupted, and its journal (from an older KdGat) does not say where the previous outputs "
                + $"belong now that the outputs list changed; they were kept in {PathText.ToStored(_s.Layout.Root, kept)} and the stage runs again";
        }
        RollBack(entry);
        var job = copied ? " in the tree this one was copied from (its journal came with the copy; what runs there was left alone)"
            : CancelledJob is { } id ? $" (its SLURM job {id} was cancelled: scancel)"
            : AssumedEndedJob is { } c ? $" (its SLURM job {c} was taken as ended, as {AssumeNoUnconfirmedJobVariable} says: SLURM was not asked)" : "";
        return started
            ? $"attempt {entry?.AttemptId ?? "?"} of {_s.Key} was interrupted{job}; its partial outputs were moved to {PathText.ToStored(_s.Layout.Root, FailedDir)} and the previous result, if any, was put back"
            : $"attempt {entry?.AttemptId ?? "?"} of {_s.Key} was interrupted before it started; the previous result, if any, was put back untouched";
    }

    /// <summary>
    /// What <see cref="RecoverIfNeededAsync"/> would leave, without changing anything (Explain): null
    /// when there is no journal; else where the manifest and each output would then be read from, and
    /// where recovery keeps the previous result instead (<see cref="KeepsUnrecoveredAt"/>, stored), if it does.
    /// </summary>
    public (string ManifestPath, IReadOnlyList<string> Outputs, string ParamsPath, string? KeptAt)? PendingRecoveryView()
    {
        if (!File.Exists(Journal)) return null; // Explain only: a directory in its place is seen by recovery
        // A journal this user may not read was an UnauthorizedAccessException that failed the whole Explain with a
        // stack trace; now KDG1207 naming it, which Explain turns into this instance's reason (a brief).
        if (LookAtJournal().Unreadable == PermissionDenied)
            throw new KdgException(ErrorCodes.FileAccess,
                $"the journal of its interrupted attempt, {JournalStored}, may not be read by this user (permission denied), so what recovering that attempt " +
                "would leave cannot be told. Run KdGat as the user that owns the pipeline's state, or fix the journal's permissions.",
                Journal);
        var entry = ReadJournal();
        if (Committed(entry)) return (_s.ManifestPath, _s.Outputs, _s.ParamsFilePath, null);
        string Where(string item, string live) =>
            File.Exists(Aside(item)) || Directory.Exists(Aside(item)) ? Aside(item)
            : entry?.Phase == PhaseAside || entry?.Had is null || entry.Had.Contains(item) ? live
            : Path.Combine(AsideDir, "(none)");
        // The previous result is kept under unrecovered/: stale (Explain said "no manifest (never run, or cleaned)" of it).
        if (KeepsUnrecoveredAt(entry) is { } kept) return (Path.Combine(AsideDir, "(none)"), _s.Outputs, _s.ParamsFilePath, PathText.ToStored(_s.Layout.Root, kept));
        var saved = SavedOutputs(entry).GroupBy(x => x.Live, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Item, StringComparer.Ordinal);
        return (Where(ManifestItem, _s.ManifestPath),
            _s.Outputs.Select(o => saved.TryGetValue(o, out var item) ? Where(item, o) : o).ToArray(), // an output the attempt did not guard stays as it is
            Where(ParamsItem, _s.ParamsFilePath), null);
    }

    /// <param name="recordId">The run record a successful attempt writes (before <see cref="Commit"/>).</param>
    /// <param name="fingerprint">Batch jobs: the stage's own fingerprint, so a later build can tell whether the job still matches.</param>
    /// <param name="upstream">Batch jobs: what each upstream was at submission (<see cref="JournalEntry.Upstream"/>).</param>
    /// <param name="seen">Batch jobs: <see cref="JournalEntry.Seen"/>.</param>
    /// <param name="submits">The attempt is submitted as a SLURM job (<see cref="JournalEntry.Submits"/>).</param>
    /// <param name="cancel">Stops a move aside that copies (an output on another file system than the state dir): everything is put back, then the OperationCanceledException.</param>
    public void Begin(string attemptId, string recordId, string buildId, string? fingerprint = null, int attempt = 1, IReadOnlyDictionary<string, string>? upstream = null,
        IReadOnlyDictionary<string, string>? seen = null, bool submits = false, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(StateDir);
        FileMover.Delete(AsideDir);
        NextGeneration(); // before the journal: a downstream that noted the old one sees this attempt (Mark)
        var tree = TreeCopy.Of(StateDir);
        var entry = new JournalEntry(attemptId, null, Environment.MachineName, Environment.ProcessId)
            { BuildStartTicks = ThisProcessStarted.Value, StateDirInode = tree.Inode, StateDirPath = tree.Path, Fingerprint = fingerprint, Upstream = upstream, Seen = seen, Attempt = attempt, Phase = PhaseAside, RecordId = recordId, BuildId = buildId, Submits = submits,
              Outputs = _s.Outputs.Select(o => PathText.ToStored(_s.Layout.Root, o)).ToArray() };
        var leftovers = Leftovers();
        if (leftovers.Count > 0) entry = entry with { Leftovers = leftovers.Select(p => PathText.ToStored(_s.Layout.Root, p)).ToArray() };
        WriteJournal(entry);
        try
        {
            var had = new List<string>();
            Directory.CreateDirectory(AsideDir);
            foreach (var (item, live) in Items(entry, withManifest: true))
            {
                if (!FileMover.Exists(live)) continue;
                if (IsLeftover(item))
                {
                    // One that cannot be moved (a read-only directory cannot change its parent) stays where
                    // it is for this attempt, as it did before leftovers were moved at all; a rollback leaves it alone.
                    try { FileMover.Move(live, Aside(item), cancel); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                }
                else FileMover.Move(live, Aside(item), cancel);
                had.Add(item);
            }
            WriteJournal(entry with { Phase = PhaseRunning, Had = had });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // Nothing has run: put everything back now rather than leave it to the next build (a rollback's moves are never cancelled).
            try { RollBack(ReadJournal()); } catch (Exception again) when (again is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Records where the attempt runs (pid or job id) so a later build can find it, and which build
    /// now owns it (a build collecting an interrupted build's job writes the manifest and record).
    /// </summary>
    public void Started(AttemptHandle handle, string recordId, string buildId)
    {
        if (ReadJournal() is { } e)
            WriteJournal(e with { Handle = handle.ToString(), Host = Environment.MachineName, BuildPid = Environment.ProcessId, BuildStartTicks = ThisProcessStarted.Value, RecordId = recordId, BuildId = buildId,
                StartTicks = handle.IsBatchJob || !int.TryParse(handle.Id, out var pid) ? null : Local.AttemptProcesses.StartTicksOf(pid),
                BootId = handle.IsBatchJob ? null : Local.AttemptProcesses.BootId() });
    }

    private static readonly Lazy<long?> ThisProcessStarted = new(() => Local.AttemptProcesses.StartTicksOf(Environment.ProcessId));

    /// <summary>The new manifest and run record are written: the previous result is superseded.</summary>
    public void Commit() => FinishCommit();

    /// <summary>
    /// The attempt failed: keep its outputs for inspection and restore the previous result. One that
    /// committed already (its manifest and run record written; a later step failed) is finished
    /// instead, as recovery would: a committed result is never rolled back.
    /// </summary>
    public void Abort()
    {
        var e = ReadJournal();
        if (Committed(e)) { FinishCommit(); return; }
        if (e is not null && e.Host == Environment.MachineName) Local.AttemptProcesses.Stop(e.AttemptId); // e.g. started but not journalled
        RollBack(e);
    }

    /// <summary>
    /// Step 7. Committed already (manifest and record written): a failure here changes nothing
    /// about the result; a journal left behind is rolled forward and garbage deleted by the next build.
    /// </summary>
    private void FinishCommit()
    {
        try
        {
            EndJournal();
            FileMover.Delete(RerunRequested);
            FileMover.Delete(AsideDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The journal was written in another tree and came here with a copy of it (<see cref="TreeCopy"/>): only the files here are recovered.</summary>
    public bool CameWithACopy(JournalEntry? e) => e is not null && TreeCopy.CameWithACopy(StateDir, e.StateDirInode, e.StateDirPath);

    /// <summary>The live manifest is this attempt's and its run record exists: the attempt committed (recovery keeps its result; Status asks too).</summary>
    public bool Committed(JournalEntry? e)
    {
        if (e is not { Phase: PhaseRunning, RecordId: { } recordId, BuildId: { } buildId }) return false;
        var (status, m, _) = ManifestStore.Read(_s.ManifestPath);
        return status == ManifestStore.ReadStatus.Ok && m!.BuildId == buildId && m.Attempt == e.Attempt
            && new Tracking.RecordStore(_s.Layout.StateDir).Exists(_s.Dataset, _s.Slot, recordId);
    }

    private void RollBack(JournalEntry? e)
    {
        var started = e?.Phase != PhaseAside;
        // A live item is this attempt's (partial) work when aside/ still holds the previous version,
        // or when there was no previous version; otherwise it is the previous version, already put back.
        // A leftover only when aside/ holds the earlier one: one that was never moved is not this attempt's.
        bool IsNew(string item) => Exists(Aside(item)) || !IsLeftover(item) && e?.Had is { } had && !had.Contains(item);
        if (started && IsNew(ManifestItem)) FileMover.Delete(_s.ManifestPath);
        var failedCleared = false;
        foreach (var (item, live) in Items(e, withManifest: false))
        {
            if (started && FileMover.Exists(live) && IsNew(item))
            {
                if (!failedCleared) { FileMover.Delete(FailedDir); failedCleared = true; }
                FileMover.Move(live, Path.Combine(FailedDir, FailedName(item, live)));
            }
            PutBack(item, live);
        }
        PutBack(ManifestItem, _s.ManifestPath); // last: nothing looks up to date before everything is back
        EndJournal();
        // Leftovers a damaged journal no longer names: kept under unrecovered/, not deleted.
        if (Directory.Exists(AsideDir) && Directory.EnumerateFileSystemEntries(AsideDir).Any(p => IsLeftover(Path.GetFileName(p))))
        {
            Directory.CreateDirectory(UnrecoveredDir);
            FileMover.Move(AsideDir, Path.Combine(UnrecoveredDir, $"{e?.AttemptId ?? "journal-unreadable"}-{Guid.NewGuid().ToString("N")[..8]}"));
        }
        else FileMover.Delete(AsideDir);
    }

    /// <summary>Moves an item back from aside/; when the live path holds it too (an interrupted move), aside/ is only a twin.</summary>
    private void PutBack(string item, string live)
    {
        if (!Exists(Aside(item))) return;
        if (FileMover.Exists(live)) FileMover.Delete(Aside(item));
        else FileMover.Move(Aside(item), live);
    }

    /// <summary>
    /// The items of the attempt journalled as <paramref name="e"/>: manifest first (so it leaves
    /// first), then params.json and the outputs where the journal says they were taken from.
    /// </summary>
    private IEnumerable<(string Item, string Live)> Items(JournalEntry? e, bool withManifest)
    {
        if (withManifest) yield return (ManifestItem, _s.ManifestPath);
        yield return (ParamsItem, _s.ParamsFilePath);
        foreach (var x in SavedOutputs(e)) yield return x;
        foreach (var (p, j) in (e?.Leftovers ?? []).Select((p, j) => (p, j))) yield return (LeftoverItem(j), PathText.FromStored(_s.Layout.Root, p));
    }

    /// <summary>
    /// The run dir's entries that are not the manifest, params.json, logs/ or a declared output
    /// (directories above an output are looked into), in name order. Among them the folders of the
    /// stage's former sweep points (seed=0/ under a stage that is no longer swept): moved aside like any
    /// leftover, put back by a rollback, dropped by the commit, so the run dir is the one a from-scratch
    /// build gives the stage and its downstreams (README, Design choices). Among them too the temp files
    /// of atomic writes a killed attempt left (KdGat's naming, which the bundled stages share: hashing
    /// skips them, so nothing else ever removed a half-written checkpoint's; a crash-injection review):
    /// under the stage lock no writer of this run dir is live. Left alone: declared inputs (a glob's
    /// whole folder) and NFS silly-rename ghosts of open deleted files (they cannot be moved), nothing
    /// else with a similar name. A symlinked directory is moved as the link, never followed.
    /// </summary>
    private List<string> Leftovers()
    {
        var found = new List<string>();
        if (!Directory.Exists(_s.RunDir)) return found;
        var outputs = _s.Outputs.Select(o => Path.TrimEndingDirectorySeparator(Path.GetFullPath(o))).ToArray();
        // Declared inputs there (a config file the user put in the run dir; a glob from the part before its first wildcard) stay too:
        // what lies in one is hashed into the fingerprint anyway.
        var inputs = InputBases(_s);
        var own = new HashSet<string>(outputs.Append(_s.ManifestPath).Append(_s.ParamsFilePath).Append(_s.LogDir), StringComparer.Ordinal);
        Walk(_s.RunDir);
        return found;

        void Walk(string dir)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(entry);
                if (own.Contains(entry) || PathHasher.IsNfsSillyName(name) || inputs.Any(i => PathText.IsUnder(entry, i))) continue;
                var realDir = Directory.Exists(entry) && !FileMover.IsLink(entry);
                if (outputs.Concat(inputs).Any(o => PathText.IsUnder(o, entry)))
                {
                    if (realDir) Walk(entry);
                    // A file where an output's folder must go (the output was that file before `outputs:` changed) is not in a
                    // from-scratch run dir: it stayed, and the stage failed at every build. A link to a folder (outputs on scratch) stays.
                    else if (!Directory.Exists(entry) && !FileMover.IsLink(entry) && !inputs.Any(i => PathText.IsUnder(i, entry))) found.Add(entry);
                    continue;
                }
                // The folders of a stage's former sweep points (seed=0/, with a manifest and logs/) are leftovers too: they
                // are what an unswept instance's run dir holds only after the stage was swept, and a command that
                // resumes from `*/model.ckpt` read them (found by review). No other instance's run dir lies inside one.
                found.Add(entry);
            }
        }
    }

    /// <summary>Where each declared input lies (a glob: the folder before its first wildcard): what lies there is the stage's to read, never a leftover.</summary>
    internal static string[] InputBases(StageInstance s) => s.Inputs.Select(i => Path.TrimEndingDirectorySeparator(Glob.LiteralBase(i))).ToArray();

    /// <summary>
    /// Each output item and the live path it belongs to: the journal's paths; a journal without them
    /// (older KdGat, or unreadable) by position in today's outputs, which only
    /// <see cref="Unmappable"/> journals get wrong.
    /// </summary>
    private IEnumerable<(string Item, string Live)> SavedOutputs(JournalEntry? e) =>
        e?.Outputs is { } stored
            ? stored.Select((p, i) => (OutputItem(i), PathText.FromStored(_s.Layout.Root, p)))
            : _s.Outputs.Select((o, i) => (OutputItem(i), o));

    /// <summary>
    /// A journal of an older KdGat (no output paths) whose saved output items cannot be mapped to today's
    /// outputs by position: one lies beyond them (the list got shorter), or the previous manifest saved
    /// aside, which lists its outputs in the order they were numbered, names another path at an item's
    /// place (the list was reordered: by position a.txt's previous version went back as b.txt, found
    /// by review), lists other outputs than were saved, or cannot be read. Mapping such items would put
    /// a previous output under another output's name or drop it.
    /// </summary>
    private bool Unmappable(JournalEntry? e)
    {
        if (e is null || e.Outputs is not null) return false;
        var items = (e.Had ?? []).Concat(Directory.Exists(AsideDir) ? Directory.EnumerateFileSystemEntries(AsideDir).Select(p => Path.GetFileName(p)!) : [])
            .Where(n => n.StartsWith("output", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToArray();
        if (items.Any(n => !IsOutputItemBelow(n, _s.Outputs.Count))) return true;
        if (items.Length == 0 || !File.Exists(Aside(ManifestItem))) return false; // no previous manifest: position is all there is
        // Its rows are the outputs present at its commit, in declared order (an absent optional one has none), so the
        // k-th saved item, in index order, is its k-th row; another count (an output deleted or made since) is unmappable.
        var previous = ManifestStore.Read(Aside(ManifestItem)).Manifest;
        var saved = items.Select(OutputIndex).Order().ToArray();
        return previous is null || previous.Outputs.Count != saved.Length
            || saved.Where((i, k) => previous.Outputs[k].Path != PathText.ToStored(_s.Layout.Root, _s.Outputs[i])).Any();
    }

    /// <summary>
    /// Where recovery of journal <paramref name="e"/> keeps the previous result instead of putting it back (an
    /// uncommitted <see cref="Unmappable"/> one: unrecovered/{attempt}); null when it puts it back or the attempt
    /// committed. Status asks this too, so it cannot promise a put-back that recovery will not do. Unmappable first: a
    /// journal of this KdGat (output paths in it) is answered without a file read.
    /// </summary>
    public string? KeepsUnrecoveredAt(JournalEntry? e) => Unmappable(e) && !Committed(e) ? Path.Combine(UnrecoveredDir, e!.AttemptId) : null;

    /// <summary>What recovery does with the previous result at <see cref="KeepsUnrecoveredAt"/> (<paramref name="kept"/>, stored): Status's and Explain's words.</summary>
    public static string KeepsUnrecoveredText(string kept) =>
        $"keeps the previous result in {kept} instead of putting it back (the journal, from an older KdGat, does not say where the previous outputs belong now that the outputs list changed), and the stage runs again";

    /// <summary>
    /// Recovery of an <see cref="Unmappable"/> journal: the uncommitted manifest goes, the whole aside/
    /// (previous manifest, params and outputs) is kept under unrecovered/ (at <paramref name="kept"/>, or beside it when
    /// that is taken), so the stage runs again and nothing previous is lost or misplaced. Idempotent like <see cref="RollBack"/>.
    /// </summary>
    private string KeepUnmappable(JournalEntry e, string kept)
    {
        var started = e.Phase != PhaseAside;
        if (started && (Exists(Aside(ManifestItem)) || e.Had is { } had && !had.Contains(ManifestItem))) FileMover.Delete(_s.ManifestPath);
        if (Directory.Exists(AsideDir))
        {
            Directory.CreateDirectory(UnrecoveredDir);
            if (Exists(kept)) kept += "-" + Guid.NewGuid().ToString("N")[..8];
            FileMover.Move(AsideDir, kept);
        }
        EndJournal();
        return kept;
    }

    private static bool IsOutputItemBelow(string item, int count) => OutputIndex(item) < count;

    /// <summary>The i of an "output{i}" item; int.MaxValue for a name that is not one.</summary>
    private static int OutputIndex(string item) =>
        int.TryParse(item.AsSpan(6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue;

    private static string OutputItem(int i) => $"output{i}";
    private static string LeftoverItem(int j) => $"leftover{j}";
    private static bool IsLeftover(string item) => item.StartsWith("leftover", StringComparison.Ordinal);
    private static string FailedName(string item, string live) =>
        item.StartsWith("output", StringComparison.Ordinal) ? $"{item[6..]}-{Path.GetFileName(live)}"
        : item.StartsWith("leftover", StringComparison.Ordinal) ? $"{item}-{Path.GetFileName(live)}"
        : Path.GetFileName(live);
    private static bool Exists(string path) => FileMover.Exists(path);

    /// <summary>Temp files and cross-filesystem move remains a crash left beside the guarded items.</summary>
    private void RemoveLeftovers()
    {
        foreach (var (item, live) in Items(ReadJournal(), withManifest: true))
        {
            FileMover.RemoveLeftovers(live);
            FileMover.RemoveLeftovers(Aside(item));
        }
        foreach (var dir in new[] { _s.RunDir, StateDir })
            if (Directory.Exists(dir)) AtomicFile.RemoveStaleTemps(dir);
    }

    /// <summary>
    /// The build that started the attempt died (kill -9), but its stage processes may live on in
    /// their own process group and later overwrite a result. Nothing of the interrupted attempt may
    /// write into the run dir while it is recovered and run again: every process on this host whose
    /// environment carries this attempt's id is stopped (journalled before the start, so even when the
    /// build died before journalling the pid), and a SLURM job of the attempt this build will not
    /// re-attach to is cancelled, found by its comment. That includes a submission SLURM never
    /// confirmed (sbatch killed or failing, then squeue too: no job id journalled), whichever executor
    /// this build uses. When SLURM cannot say whether such a job still runs, the stage is left as it is
    /// (journal and aside dir kept) with KDG4010: a job still writing would damage the new result (as it
    /// did before: the local run's outputs were rewritten by the old job).
    /// </summary>
    private async Task StopOrphansAsync(JournalEntry? e)
    {
        if (e is null) return;
        var comment = Slurm.JobScript.Comment(e.AttemptId);
        if (e.StartedAs is { IsBatchJob: true } job)
        {
            // No squeue here means "no job" only where the job was submitted from (this machine's SLURM is the one it used);
            // a journal from another host (a .kdgat shared over NFS) says nothing about this machine's tools.
            await CancelJobOfAsync(e.AttemptId, comment, missingToolsAnswer: e.Host is null || e.Host == Environment.MachineName, unknown =>
                    $"{_s.Key}: attempt {e.AttemptId} of an interrupted build ran as SLURM job {job.Id}, and KdGat cannot tell whether it still runs ({unknown}); " +
                    $"nothing was recovered, run or cleaned for the stage, so that job cannot write into a new result. Build (or Clean) again where `squeue` works, e.g. on the login node, " +
                    $"or fix this machine's SLURM client (`squeue` by hand shows the error): KdGat then cancels the job (found by its comment {comment}) if it still runs. " +
                    $"Where SLURM never answers, once you know job {job.Id} has ended, build once with {AssumeNoUnconfirmedJobVariable}={comment}.").ConfigureAwait(false);
        }
        else if (MayHaveUnconfirmedJob(e))
        {
            // sbatch ran (or was about to) and no job id came back: a job may exist that only its comment finds.
            await CancelJobOfAsync(e.AttemptId, comment, missingToolsAnswer: false, unknown =>
                    $"{_s.Key}: attempt {e.AttemptId} of an earlier build was being submitted to SLURM and SLURM never confirmed whether the job exists; it still cannot say ({unknown}). " +
                    $"A SLURM job with the comment {comment} may still be writing into the run dir {PathText.ToStored(_s.Layout.Root, _s.RunDir)}, so nothing was recovered, run or cleaned for the stage (its journal is kept). " +
                    $"Check `squeue --me -t all -o '%i %T %k'` on the login node: cancel a job with that comment (`scancel <id>`), or let it end; then build again. " +
                    "Or just build (or Clean) again once SLURM answers there: KdGat looks the job up by its comment and cancels (or re-attaches to) it. " +
                    $"Where SLURM never answers (a machine without it), once you know no such job runs, build once with {AssumeNoUnconfirmedJobVariable}={comment}: the stage is then recovered as after any crash (its previous result put back).").ConfigureAwait(false);
            if (e.Host == Environment.MachineName) Local.AttemptProcesses.Stop(e.AttemptId); // an older journal (no Submits) may be a local stage's
        }
        else if (e.Host == Environment.MachineName)
        {
            Local.AttemptProcesses.Stop(e.AttemptId);
            if (e.StartedAs is { IsBatchJob: false } p && int.TryParse(p.Id, out var leader) && e.StartTicks is { } started && e.BootId is { } boot && boot == Local.AttemptProcesses.BootId())
                Local.AttemptProcesses.StopJournalledGroup(leader, started);
        }
    }

    /// <summary>
    /// Cancels the attempt's SLURM job, found by its comment (<see cref="CancelledJob"/> names it). When
    /// SLURM cannot say whether one still runs, KDG4010 with <paramref name="whyUnknown"/>'s text, unless
    /// the user named the job as ended (<see cref="AssumeNoUnconfirmedJobVariable"/>).
    /// </summary>
    private async Task CancelJobOfAsync(string attemptId, string comment, bool missingToolsAnswer, Func<string, string> whyUnknown)
    {
        var (unknown, cancelled) = await Slurm.SlurmExecutor.CancelAttemptAsync(attemptId, CancellationToken.None, SlurmCommands, missingToolsAnswer).ConfigureAwait(false);
        if (unknown is not null && !AssumedEnded(comment)) throw new KdgException(ErrorCodes.SlurmOrphanUnknown, whyUnknown(unknown));
        CancelledJob = cancelled;
    }

    /// <summary>
    /// The job comments (kdgat-ATTEMPT, comma- or space-separated) of interrupted attempts a user
    /// checked by hand are no longer running, where SLURM never answers: recovery of exactly those
    /// goes on as if SLURM had said "no such job", instead of KDG4010, and says so. The only way out
    /// where squeue never answers (deleting the journal would make the aside dir, the previous
    /// result, look like garbage); naming each job keeps a value left exported from covering another.
    /// </summary>
    public const string AssumeNoUnconfirmedJobVariable = "KDGAT_ASSUME_NO_SLURM_JOB";

    /// <summary>The comment a recovery went on without SLURM's answer for (<see cref="AssumeNoUnconfirmedJobVariable"/>), if any.</summary>
    public string? AssumedEndedJob { get; private set; }

    private bool AssumedEnded(string comment)
    {
        var named = (Environment.GetEnvironmentVariable(AssumeNoUnconfirmedJobVariable) ?? "").Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries);
        if (!named.Contains(comment, StringComparer.Ordinal)) return false;
        AssumedEndedJob = comment;
        return true;
    }

    /// <summary>
    /// The attempt was (or was about to be) submitted as a SLURM job and no job id was journalled:
    /// sbatch was killed, failed without SLURM saying whether it took the job, or the build died
    /// before journalling the id. A journal of an older KdGat (no <see cref="JournalEntry.Submits"/>)
    /// counts when it has a batch fingerprint. Nothing is submitted before the previous result is aside.
    /// </summary>
    private static bool MayHaveUnconfirmedJob(JournalEntry e) =>
        e.Handle is null && e.Phase != PhaseAside && (e.Submits ?? e.Fingerprint is not null);

    /// <summary>The SLURM job of the interrupted attempt that the last <see cref="RecoverIfNeededAsync"/> cancelled (scancel), if any.</summary>
    public string? CancelledJob { get; private set; }

    private void WriteJournal(JournalEntry e) => AtomicFile.WriteAllText(Journal, JsonSerializer.Serialize(e));
}
