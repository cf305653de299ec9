using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;

namespace KdGat.Core.Engine;

/// <summary>
/// -t:Adopt, the `snakemake --touch` of KdGat: results produced outside KdGat become this stage's
/// result without running it. The scheduler calls it in dependency order under the stage lock, so
/// the fingerprint uses the adopted (or up-to-date) upstream output digests, exactly as a build
/// after running them would.
/// </summary>
internal sealed partial class InstanceRunner
{
    /// <summary>Marks adopted manifests and records: nothing was executed.</summary>
    private const string AdoptExecutor = "adopt";

    /// <summary>
    /// Up to date: left alone. Every declared output present and no manifest saying otherwise:
    /// params.json, the manifest a run would write (today's fingerprint, the outputs as they are)
    /// and a run record in state "adopted". Otherwise refused with the reason, nothing written (but the manifest found, archived as evidence).
    /// </summary>
    private InstanceResult Adopt(StageInstance s, IReadOnlyList<InstanceResult> upstream)
    {
        var verdict = Check(s, upstream);
        if (verdict.UpToDate) return new InstanceResult(s, Outcome.UpToDate, []) { OutputsDigest = verdict.Previous!.OutputsDigest };

        var (present, missing) = _ctx.Planner.Fingerprinter.HashOutputs(s);
        if (missing.Count > 0)
            return Refused(s, verdict, ErrorCodes.AdoptOutputsMissing,
                $"{s.Key}: not adopted: declared output(s) missing: {string.Join(", ", missing)}. Put them in place (or fix the stage's 'outputs'), or let KdGat build the stage, then Adopt again.");
        if (SnakemakeIncomplete(s, present) is { } incomplete)
            return Refused(s, verdict, ErrorCodes.AdoptSnakemakeIncomplete,
                $"{s.Key}: not adopted: Snakemake marked its output {incomplete.Output} incomplete ({incomplete.Marker}): the job writing it was killed or failed, so it is no result. " +
                $"Build the stage instead; if the output is complete after all, `snakemake --cleanup-metadata {incomplete.Output}` removes the mark, then Adopt again.");
        // The manifest found here stays evidence (KDG2017 below reads the archive) even when it is
        // deleted or cleaned after a refusal, with or without the index step that archives it too.
        _ctx.Archive.Capture([s]);
        // Before KDG2016, whose fix (AdoptOverwrite) cannot help here.
        // By place within the run dir: a point's folder renamed, manifest and all, records the old point's paths (a review).
        if (verdict.Previous is { } previous && SameOutputs(previous.Outputs, present, withinRunDir: true) && MadeFrom(s, previous, verdict) is { Count: > 0 } made)
            return Refused(s, verdict, ErrorCodes.AdoptOutputsMadeFromOther,
                $"{s.Key}: not adopted: its outputs are byte for byte the ones its manifest records as made from what the stage no longer has ({Said(made)}), " +
                "so they are its stale result, not one made from what it has now, and -p:AdoptOverwrite=true cannot vouch for them. " +
                "Build the stage (it reruns on what changed); outputs made again by hand from what it has now are adopted when they differ. -p:Stage=X adopts X and what it needs, nothing downstream of it.");
        if (File.Exists(s.ManifestPath) && !_ctx.AdoptOverwrite)
            return Refused(s, verdict, ErrorCodes.AdoptManifestDiffers,
                $"{s.Key}: not adopted: its manifest {PathText.ToStored(s.Layout.Root, s.ManifestPath)} records another result ({string.Join("; ", verdict.Reasons.Select(r => r.Text))}). " +
                "Build the stage to bring it up to date, or, if the outputs there now are your own result made from what the stage has now, add -p:AdoptOverwrite=true to replace that manifest with them.");
        if (ArchivedFromOther(s, verdict, present) is { } archived)
            return Refused(s, verdict, ErrorCodes.AdoptOutputsMadeFromOther, archived.Shared is { } shared
                ? $"{s.Key}: not adopted: {string.Join(", ", shared)} {(shared.Count == 1 ? "is" : "are")} byte for byte what {Recorded(s, archived)} records as made from what the stage no longer has " +
                  $"({Said(archived.Made)}), while its other outputs are new: a result rebuilt in part. Build the stage; or, if you made every output again from what the stage has now " +
                  $"and {(shared.Count == 1 ? "this one comes" : "these come")} out the same because {(shared.Count == 1 ? "it does" : "they do")} not depend on what changed, add -p:AdoptOverwrite=true to vouch for that."
                : archived.Made.Count == 0
                ? $"{s.Key}: not adopted: its outputs are byte for byte the ones {Recorded(s, archived)} records as the result of {archived.Manifest.Dataset}/{archived.Manifest.Stage}, " +
                  "another dataset or stage: copied from there, they are not this one's result. Build the stage (a result of its own that happens to be the same bytes needs a build to show it)."
                : $"{s.Key}: not adopted: its outputs are byte for byte the ones {Recorded(s, archived)} records as made from what the stage no longer has " +
                  $"({Said(archived.Made)}), so they are not known to come from what it has now; deleting or cleaning the stage's manifest does not change that. Build the stage; " +
                  "producing the outputs again by hand helps only when they come out different (a deterministic stage gives the same bytes, which stay refused: build it).");

        // A params.json of the user's own (another tool's record of its parameters): KdGat writes its own
        // there ({params_file}); it was overwritten without a word (a first-contact review).
        if (!File.Exists(s.ManifestPath) && PathStat.Of(s.ParamsFilePath).Kind != PathKind.Missing && !ParamsFileAsWritten(s))
            return Refused(s, verdict, ErrorCodes.AdoptParamsFileTaken,
                $"{s.Key}: not adopted: its run dir already has a {Path.GetFileName(s.ParamsFilePath)} ({PathText.ToStored(s.Layout.Root, s.ParamsFilePath)}) with other parameters than KdGat writes there for today's (what {{params_file}} names), with no manifest beside it: another tool's, or one an earlier KdGat run left. " +
                "Adopting would overwrite it: move or rename it (delete it if KdGat wrote it), then Adopt again.");
        var now = _ctx.Time.GetUtcNow();
        var result = new ExecutionResult { State = ExecState.Completed, Started = now, Finished = now };
        var digest = OutputsDigest(s, present);
        var written = _ctx.Planner.Cache?.Mark() ?? 0;
        WriteParams(s);
        if (ParamsFileAsWritten(s)) Settled([s.ParamsFilePath], written); // else the next check finds it changed
        ManifestStore.Write(s.ManifestPath, Manifest(s, verdict, present, digest, result, 1) with { Executor = AdoptExecutor });
        try
        {
            _ctx.Records.Write(NewRecord(s, verdict, result, 1, Outcome.Adopted, "", present, null, "adopted: the outputs were found in place; nothing ran") with { Executor = AdoptExecutor, Log = null });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An adopted stage always has its record: without one, the adoption is undone (the stage stays stale).
            FileMover.Delete(s.ManifestPath);
            throw new KdgException(ErrorCodes.RecordWriteFailed,
                $"{s.Key}: its run record could not be written under {PathText.ToStored(s.Layout.Root, _ctx.Records.Dir)} ({e.Message}), so it was not adopted. Check free space and permissions there, then Adopt again.{IO.GroupAccess.Advice(e, s.Layout.Root)}");
        }
        RetireUnsweptResult(s);
        // Adopted (an empty output can be a result), but said: a killed job leaves such files (a first-contact review).
        if (present.Where(o => o.Size == 0).Select(o => o.Path).ToArray() is { Length: > 0 } empty)
            _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.AdoptedEmptyOutput,
                $"{s.Key}: adopted with empty output(s) {string.Join(", ", empty)} (no bytes), which a job killed before it wrote them leaves behind. " +
                $"If that is not a real result, run -t:Clean -p:Stage={s.Name} -p:Dataset={s.Dataset} and build it."));
        return new InstanceResult(s, Outcome.Adopted, verdict.Reasons) { OutputsDigest = digest, Fresh = true };
    }

    /// <summary>
    /// An output Snakemake marked incomplete: .snakemake/incomplete/ holds a file named by the output's
    /// path (as the Snakefile wrote it, relative to its working directory: here, to the pipeline root)
    /// in URL-safe base64, split into folders ('@' + 254 characters) past a file name's 255.
    /// </summary>
    private static (string Output, string Marker)? SnakemakeIncomplete(StageInstance s, IReadOnlyList<OutputRecord> present)
    {
        var dir = Path.Combine(s.Layout.Root, ".snakemake", "incomplete");
        if (PathStat.Of(dir).Kind != PathKind.Directory) return null;
        foreach (var o in present)
        {
            var id = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(o.Path)).Replace('+', '-').Replace('/', '_');
            var chunks = id.Chunk(254).Select(c => new string(c)).ToArray();
            var marker = Path.Combine([dir, .. chunks[..^1].Select(c => "@" + c), chunks[^1]]);
            if (PathStat.Of(marker).Kind != PathKind.Missing) return (o.Path, PathText.ToStored(s.Layout.Root, marker));
        }
        return null;
    }

    /// <summary>
    /// How a manifest that records these very output bytes says they were made other than the stage
    /// would make them now (its stale reasons: a parameter, input, code file, the command, an
    /// upstream's result); empty when it records today's fingerprint. AdoptOverwrite vouches for
    /// outputs produced again by hand; for these it would turn a known-stale result into a current
    /// one (a review: a changed learning rate, adopted over the old model, left every metric stale).
    /// A manifest written by other digest rules (<see cref="FingerprintComponents.DigestRules"/>: an
    /// older KdGat) may record another digest of files that did not change (a review: a folder's
    /// digest took in the x bit), so only a changed upstream result counts then, as before.
    /// </summary>
    private static IReadOnlyList<StaleReason> MadeFrom(StageInstance s, StageManifest m, Verdict verdict)
    {
        if (m.Fingerprint == verdict.Fingerprint) return [];
        var reasons = Planner.Diff(m.Components, verdict.Current, s.Config.ParamSources);
        return (m.DigestRules == FingerprintComponents.DigestRules ? reasons : reasons.Where(r => r.Kind == "upstream")).ToArray();
    }

    private static string Said(IReadOnlyList<StaleReason> reasons) =>
        string.Join("; ", reasons.Take(5).Select(r => r.Text)) + (reasons.Count > 5 ? $"; and {reasons.Count - 5} more" : "");

    /// <summary>
    /// The archived manifest of this instance (.kdgat/manifests, newest first) that proves these
    /// outputs were made from something the stage no longer has: the newest one recording exactly
    /// these output bytes, when <see cref="MadeFrom"/> finds a difference. Without it, deleting the
    /// live manifest (or Clean, then the old outputs copied back) let Adopt make such outputs current
    /// (reviews). A newer run or restore that made these bytes with today's fingerprint vouches for
    /// them and ends the search; an adoption does not (it is only a claim), so the search goes on
    /// past it. Lazy: files without an output's hash are not parsed, and the search stops there.
    /// </summary>
    private (string Path, StageManifest Manifest, IReadOnlyList<StaleReason> Made, IReadOnlyList<string>? Shared)? ArchivedFromOther(StageInstance s, Verdict verdict, IReadOnlyList<OutputRecord> present)
    {
        // The required outputs decide: an optional one made again by hand (a plot, a log) that the old
        // manifest lacks must not hide the old metrics beside it (review).
        var required = present.Where(o => !o.Optional).ToArray();
        if (required.Length == 0) return null;
        var ownDir = _ctx.Archive.DirFor(s.Dataset, s.Slot);
        foreach (var (path, m) in ManifestHistory.NewestFirst(ownDir, mustContain: required[0].Hash))
        {
            if (!SameOutputs(m.Outputs, required)) continue;
            if (MadeFrom(s, m, verdict) is { Count: > 0 } made) return (path, m, made, null);
            if (m.Executor != AdoptExecutor) return null;
        }
        // A result rebuilt in part: the newest run that made any of these very bytes made them from what the
        // stage no longer has (a review: only the log rewritten, the old learning rate's model adopted as the
        // new one's). The user may vouch that those do not depend on what changed (a vocabulary): AdoptOverwrite.
        if (!_ctx.AdoptOverwrite && required.Length > 1)
            foreach (var (path, m) in ManifestHistory.NewestFirst(ownDir).Where(f => f.Manifest.Executor != AdoptExecutor))
            {
                var shared = required.Where(o => m.Outputs.Any(r => r.Path == o.Path && r.Hash == o.Hash)).Select(o => o.Path).ToArray();
                if (shared.Length == 0) continue;
                if (MadeFrom(s, m, verdict) is { Count: > 0 } made && shared.Length < required.Length) return (path, m, made, shared);
                break;
            }
        // Outputs copied from another slot of the stage: its unswept result (its manifest above the points,
        // or archived) or another point (archived, in a folder of its own; a grid changed from lr 3 to 2 and
        // lr=3's model copied into lr=2). Made with other values, so not this instance's result (reviews:
        // adopted as seed=1's, as lr=2's). By place within the run dir, as the slots' folders differ.
        IEnumerable<(string Path, StageManifest Manifest)> candidates = OtherSlotsArchived(s, required[0].Hash);
        if (!s.Sweep.IsEmpty && ManifestStore.Read(UnsweptManifestPath(s)) is (ManifestStore.ReadStatus.Ok, { } live, _)) candidates = candidates.Prepend((UnsweptManifestPath(s), live));
        foreach (var (path, m) in candidates)
            if (SameOutputs(m.Outputs, required, withinRunDir: true) && MadeFrom(s, m, verdict) is { Count: > 0 } made) return (path, m, made, null);
        // Copied from another dataset or stage (a review: hcrl_ch's model adopted as hcrl_sa's, the small
        // model's as the distilled one's): another instance's result, whatever its fingerprint; its claims
        // by Adopt are no evidence, as above.
        foreach (var (path, m) in _ctx.Archive.OfOtherInstances(s.Dataset, s.Name, required[0].Hash))
            if (m.Executor != AdoptExecutor && SameOutputs(m.Outputs, required, withinRunDir: true)) return (path, m, [], null);
        return null;
    }

    private static string Recorded(StageInstance s, (string Path, StageManifest Manifest, IReadOnlyList<StaleReason> Made, IReadOnlyList<string>? Shared) found) =>
        $"{PathText.ToStored(s.Layout.Root, found.Path)} (build {found.Manifest.BuildId}, {(found.Manifest.Executor is "" ? "run" : found.Manifest.Executor)}, finished {found.Manifest.FinishedUtc:yyyy-MM-dd HH:mm:ss} UTC)";

    /// <summary>The archived manifests of the stage's other slots (its unswept result's, every other point's) holding this hash, newest first within each slot.</summary>
    private IEnumerable<(string Path, StageManifest Manifest)> OtherSlotsArchived(StageInstance s, string hash)
    {
        var stageDir = _ctx.Archive.DirFor(s.Dataset, s.Name);
        var own = Path.GetFullPath(_ctx.Archive.DirFor(s.Dataset, s.Slot));
        string[] points;
        try { points = Directory.GetDirectories(stageDir).Order(StringComparer.Ordinal).ToArray(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { points = []; } // none archived yet
        foreach (var dir in points.Prepend(stageDir).Where(d => Path.GetFullPath(d) != own))
            foreach (var found in ManifestHistory.NewestFirst(dir, mustContain: hash))
                yield return found;
    }

    /// <summary>Every output there now is the one recorded (an optional one recorded and gone since does not make the rest new).</summary>
    /// <param name="withinRunDir">Compared by place within their run dirs, not by path (the unswept run dir and a point's differ in the folder above).</param>
    private static bool SameOutputs(IReadOnlyList<OutputRecord> recorded, IReadOnlyList<OutputRecord> present, bool withinRunDir = false)
    {
        string Place(OutputRecord o) => !withinRunDir ? o.Path : o.Within ?? Path.GetFileName(o.Path);
        return present.Count > 0 && present.All(o => recorded.Any(r => Place(r) == Place(o) && r.Hash == o.Hash));
    }

    private static InstanceResult Refused(StageInstance s, Verdict verdict, string code, string error) =>
        new(s, Outcome.Failed, verdict.Reasons) { Error = error, ErrorCode = code };
}
