using KdGat.Core.Caching;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;

namespace KdGat.Core.Engine;

/// <summary>The output store's part of bringing an instance up to date: restore instead of run, insert after a run.</summary>
internal sealed partial class InstanceRunner
{
    private StoreEntry? CachedEntry(StageInstance s, Verdict v) =>
        s.Config.Cache && _ctx.Store?.Find(v.Fingerprint) is { } e && EntryTargets(s, e) is not null
            && !File.Exists(new OutputGuard(s).RerunRequested) ? e : null;

    /// <summary>
    /// Where each of the entry's outputs goes, and whether the stage declares it optional; null when
    /// the entry does not fit the declared outputs: it must have been made with the same declared
    /// outputs (an output declared since would be missing from it: an optional one the run wrote
    /// would vanish), and hold every required one. Explain's would-restore is decided here too.
    /// </summary>
    private static (string Path, bool Optional)[]? EntryTargets(StageInstance s, StoreEntry e)
    {
        if (!e.DeclaresSame(Declared(s))) return null; // also an entry of an older KdGat, which did not record them

        var byStored = s.Outputs.Select((o, i) => (Stored: PathText.ToStored(s.Layout.Root, o), Path: o, Optional: s.IsOptional(i)))
            .ToDictionary(x => x.Stored, StringComparer.Ordinal);
        var targets = e.Outputs.Select(o => byStored.TryGetValue(o.Path, out var d) ? ((string Path, bool Optional)?)(d.Path, d.Optional) : null).ToArray();
        var required = byStored.Values.Count(d => !d.Optional);
        return targets.Any(t => t is null) || targets.Count(t => !t!.Value.Optional) != required ? null : targets.Select(t => t!.Value).ToArray();
    }

    /// <summary>
    /// The entry's output records as a restore places them, optional as the stage declares them:
    /// their digest (<see cref="OutputsDigest(StageInstance, IEnumerable{OutputRecord})"/>) is the
    /// restored stage's, computed as a run computes it (an entry's recorded digest may be of an
    /// older formula), and Explain predicts with the same.
    /// </summary>
    private static List<OutputRecord> RestoredOutputs(StageInstance s, StoreEntry entry, (string Path, bool Optional)[] targets)
    {
        // In declared order, as a run lists them (the entry's may be that of an `outputs:` list reordered since): the same digest either way.
        var declared = s.Outputs.Select((o, i) => (Stored: PathText.ToStored(s.Layout.Root, o), i)).ToDictionary(d => d.Stored, d => d.i, StringComparer.Ordinal);
        // Keyed where they lie now (Fingerprinter.Within), as a run of this instance keys them: an entry made before outputs
        // were keyed by their path within the run dir has none, and its file-name keys let two outputs of one name swapped pass.
        return entry.Outputs.Select((o, i) => o with { Optional = targets[i].Optional, Within = Fingerprinter.Within(s, PathText.FromStored(s.Layout.Root, o.Path)) })
            .OrderBy(o => declared[o.Path]).ToList();
    }

    /// <summary>The stage's declared outputs as a store entry records them.</summary>
    private static DeclaredOutput[] Declared(StageInstance s) =>
        s.Outputs.Select((o, i) => new DeclaredOutput(PathText.ToStored(s.Layout.Root, o), s.IsOptional(i))).ToArray();

    /// <summary>The outputs a run left on disk, in declared order, matching the records HashOutputs made.</summary>
    private static string[] PresentOutputs(StageInstance s, IReadOnlyList<OutputRecord> present)
    {
        var stored = present.Select(o => o.Path).ToHashSet(StringComparer.Ordinal);
        return s.Outputs.Where(o => stored.Contains(PathText.ToStored(s.Layout.Root, o))).ToArray();
    }

    /// <param name="wouldBe">Explain: the restore is what a build would do ("restored from cache" read as done: a user review).</param>
    private static StaleReason RestoredReason(StoreEntry e, bool wouldBe = false) =>
        new("restored", $"{(wouldBe ? "can be restored" : "restored")} from cache ({e.Fingerprint[..12]})");

    /// <summary>
    /// Puts a cached result in place under the output guard, as a run would: previous outputs aside,
    /// entry linked or copied in, every byte of those placed copies verified against the entry's
    /// hashes (<see cref="OutputStore.Verify"/>), manifest last. A damaged entry is evicted with a
    /// warning and the stage runs. Null: run the stage. A Ctrl+C while it is placed or verified (GBs of
    /// checkpoints) rolls it back as a stopped run is, the previous result, if any, back; the placed part is deleted (<see cref="DiscardPlaced"/>).
    /// </summary>
    private InstanceResult? TryRestore(StageInstance s, OutputGuard guard, Verdict verdict)
    {
        if (CachedEntry(s, verdict) is not { } entry) return null;
        var started = _ctx.Time.GetUtcNow();
        _ctx.Archive.Capture([s]);
        var targets = EntryTargets(s, entry)!;
        guard.Begin($"{_ctx.BuildId}-{s.Id}-cache", RecordId(s, 1), _ctx.BuildId, cancel: _ctx.Cancel);
        try
        {
            for (var i = 0; i < targets.Length; i++) OutputStore.Materialize(entry, i, targets[i].Path, _ctx.Cancel);
            var written = _ctx.Planner.Cache?.Mark() ?? 0;
            WriteParams(s); // the run dir looks as if the stage had run here
            if (!OutputStore.Verify(entry, targets.Select(t => t.Path).ToArray(), _ctx.Cancel))
                throw OutputStore.Verify(entry, cancel: _ctx.Cancel) // the entry's own files still match: the copy placed here is what went wrong (a write error NFS reports only at close)
                    ? new IOException("the copies placed in the run dir do not match the entry, whose own files do: a write error in the run dir (full disk or quota)")
                    : new InvalidDataException("content does not match its recorded hashes");
            if (ParamsFileAsWritten(s)) Settled([s.ParamsFilePath], written); // else the next check finds it changed
            // Verified byte for byte, so the entry's records describe the placed outputs; optional as the stage now declares it.
            var present = RestoredOutputs(s, entry, targets);
            var digest = OutputsDigest(s, present);

            var result = new ExecutionResult { State = ExecState.Completed, Started = started, Finished = _ctx.Time.GetUtcNow() };
            ManifestStore.Write(s.ManifestPath, Manifest(s, verdict, present, digest, result, 1) with { RestoredFrom = entry.Dir });
            if (CommitWithRecord(s, guard, () => Record(s, verdict, result, 1, Outcome.Restored, PathText.ToStored(s.Layout.Root, entry.Dir), present, null, null)) is { } undone)
                return undone;
            try { _ctx.Store!.Touch(entry); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // last use is for GC only
            var reasons = verdict.Reasons.Append(RestoredReason(entry)).ToArray();
            _ctx.Log.Info($"KdGat: {s.Key}: restored from cache {entry.Dir}");
            return new InstanceResult(s, Outcome.Restored, reasons) { OutputsDigest = digest, Seconds = result.WallSeconds, Fresh = true };
        }
        catch (OperationCanceledException)
        {
            // Before the manifest (nothing after Verify looks at the cancel): undone now, else the journal makes Status call it
            // interrupted and the next build recover it first. Undone or not, nothing here is taken as up to date.
            DiscardPlaced(s, targets);
            try { guard.Abort(); } catch (Exception again) when (again is IOException or UnauthorizedAccessException) { }
            return new InstanceResult(s, Outcome.Cancelled, verdict.Reasons)
            {
                Attempts = 1, // stopped, not "not started": its own KDG3004 line
                Error = $"{s.Key}: cancelled while it was restored from cache entry {entry.Dir}; its previous result, if any, is back, and the next build restores or runs it",
                ErrorCode = ErrorCodes.StageCancelled,
            };
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && !Directory.Exists(entry.Dir))
        {
            // The whole entry went while it was placed: CacheGc, or another build that found it damaged, removed it. Not damage.
            guard.Abort();
            _ctx.Log.Info($"KdGat: {s.Key}: cache entry {entry.Dir} was removed while it was being restored (by -t:CacheGc or another build); the stage runs.");
            return null;
        }
        catch (Exception e) when (e is InvalidDataException || e is FileNotFoundException or DirectoryNotFoundException && !Whole(entry))
        {
            // The placed bytes are not the entry's recorded ones, or a file of the entry is gone: the entry is damaged.
            guard.Abort();
            var evicted = _ctx.Store!.Evict(entry.Fingerprint);
            _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.CacheEntryDamaged, $"{s.Key}: cache entry {entry.Dir} is damaged ({e.Message}); " +
                (_ctx.Store.ReadOnly ? "the cache is read-only, so it was left in place;" : evicted ? "it was evicted and" : "it could not be evicted (no write permission in the store), so it was left in place;") + " the stage runs."));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file error placing it (a full disk, a run dir or store entry this user may not read or
            // write) says nothing against the entry: it stays for every other build and clone (a
            // shared store lost good entries to one user's full disk; found by review).
            guard.Abort();
            _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.CacheRestoreFailed,
                $"{s.Key}: could not be restored from cache entry {entry.Dir} ({e.Message.TrimEnd('.')}); the entry is kept and the stage runs. Check free space and permissions of the run dir and the store."));
            return null;
        }
    }

    /// <summary>
    /// What a cancelled restore placed: a part of what the entry still holds, of no use to anyone. Kept in failed/ as a
    /// stopped run's outputs are, it was GBs of checkpoints until the next attempt, and it replaced the outputs of the
    /// stage's last failed run there. Everything at these paths is the restore's: Begin moved the previous result aside.
    /// What cannot be deleted goes to failed/ with the rollback, as before.
    /// </summary>
    private static void DiscardPlaced(StageInstance s, (string Path, bool Optional)[] targets)
    {
        foreach (var placed in targets.Select(t => t.Path).Append(s.ParamsFilePath))
            try { FileMover.Delete(placed); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Every payload the entry records is still there (a missing one makes it damaged, not a local file error).</summary>
    private static bool Whole(StoreEntry entry) =>
        Enumerable.Range(0, entry.Outputs.Count).All(i => FileMover.Exists(entry.Payload(i)));

    /// <summary>The store's hard links changed the outputs' ctime: the hash cache follows (best effort: a miss only costs a re-hash).</summary>
    private void Relinked(IEnumerable<string> outputs) => EachOutputFile(outputs, (cache, file) => cache.Relinked(file));

    /// <summary>The commit hashed these outputs after their job ended (<paramref name="jobEnded"/>): the hash cache may keep those rows (<see cref="Hashing.HashCache.Settled"/>).</summary>
    private void Settled(IEnumerable<string> outputs, long jobEnded) => EachOutputFile(outputs, (cache, file) => cache.Settled(file, jobEnded));

    private void EachOutputFile(IEnumerable<string> outputs, Action<Hashing.HashCache, string> act)
    {
        if (_ctx.Planner.Cache is not { } cache) return;
        try
        {
            foreach (var o in outputs)
                foreach (var file in Directory.Exists(o) ? Hashing.PathHasher.EnumerateContentFiles(o) : [o]) act(cache, file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KdgException) { }
    }

    /// <summary>After a successful run: offer the outputs to the store. A store problem never fails the build.</summary>
    private void Insert(StageInstance s, Verdict verdict, List<OutputRecord> outputs, string digest)
    {
        if (!s.Config.Cache || _ctx.Store is not { } store) return;
        try
        {
            var sources = PresentOutputs(s, outputs);
            if (store.Insert(verdict.Fingerprint, s.Name, s.Dataset, sources, outputs, digest, Declared(s), Path.GetFullPath(s.RunDir), _ctx.Cancel)) Relinked(sources);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: the result is committed and stays; only the entry is not made (no lookup finds a part of one).
            _ctx.Log.Info($"KdGat: {s.Key}: not added to the cache (cancelled); its result is kept.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _ctx.Log.Warn(ErrorCodes.CacheWriteFailed, $"{s.Key}: could not add the outputs to the cache at {store.Root} ({e.Message}); the build goes on without caching them.{IO.GroupAccess.Advice(e, store.Root)}");
        }
    }
}
