using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
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
        // The manifest found here stays evidence (KDG2017 below reads the archive) even when it is
        // deleted or cleaned after a refusal, with or without the index step that archives it too.
        _ctx.Archive.Capture([s]);
        if (File.Exists(s.ManifestPath) && !_ctx.AdoptOverwrite)
            return Refused(s, verdict, ErrorCodes.AdoptManifestDiffers,
                $"{s.Key}: not adopted: its manifest {PathText.ToStored(s.Layout.Root, s.ManifestPath)} records another result ({string.Join("; ", verdict.Reasons.Select(r => r.Text))}). " +
                "Build the stage to bring it up to date, or add -p:AdoptOverwrite=true to replace that manifest with the outputs as they are now.");
        if (MadeFromAnotherUpstream(verdict, present) is { } upstreamStage)
            return Refused(s, verdict, ErrorCodes.AdoptOutputsPredateUpstream,
                $"{s.Key}: not adopted: its outputs are the ones its manifest records as made from another result of upstream {upstreamStage}, not from {upstreamStage} as it is now, so -p:AdoptOverwrite=true cannot vouch for them. " +
                $"Build the stage (it reruns on {upstreamStage}'s new result), or produce its outputs again from it by hand and Adopt again; -p:Stage= adopts only the stages it names.");
        if (ArchivedFromAnotherUpstream(s, verdict, present) is { } archived)
            return Refused(s, verdict, ErrorCodes.AdoptOutputsPredateUpstream,
                $"{s.Key}: not adopted: its outputs are byte for byte the ones {PathText.ToStored(s.Layout.Root, archived.Path)} records " +
                $"(build {archived.Manifest.BuildId}, {(archived.Manifest.Executor is "" ? "run" : archived.Manifest.Executor)}, finished {archived.Manifest.FinishedUtc:yyyy-MM-dd HH:mm:ss} UTC) as made from another result of upstream {archived.Upstream} " +
                $"({archived.Was}; it is {Short(verdict.Current.Upstream[archived.Upstream])} now), so they are not known to come from {archived.Upstream} as it is now; " +
                $"deleting or cleaning the stage's manifest does not change that. Build the stage (it reruns on {archived.Upstream}'s current result); " +
                "producing the outputs again by hand helps only when they come out different (a deterministic stage gives the same bytes, which stay refused: build it).");

        RetireUnsweptResult(s);
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
                $"{s.Key}: its run record could not be written under {PathText.ToStored(s.Layout.Root, _ctx.Records.Dir)} ({e.Message}), so it was not adopted. Check free space and permissions there, then Adopt again.");
        }
        return new InstanceResult(s, Outcome.Adopted, verdict.Reasons) { OutputsDigest = digest, Fresh = true };
    }

    /// <summary>
    /// The upstream whose output the existing manifest proves these outputs were not made from: the
    /// outputs are byte for byte the ones it records, and it records another digest of that
    /// upstream (or none). AdoptOverwrite vouches for outputs produced again by hand; for these it
    /// would turn a known-stale result (a downstream of a re-adopted upstream) into a current one.
    /// </summary>
    private static string? MadeFromAnotherUpstream(Verdict verdict, IReadOnlyList<OutputRecord> present)
    {
        if (verdict.Previous is not { } previous || !SameOutputs(previous.Outputs, present)) return null;
        foreach (var (stage, digest) in verdict.Current.Upstream)
            if (!previous.Components.Upstream.TryGetValue(stage, out var was) || was != digest) return stage;
        return null;
    }

    /// <summary>
    /// The archived manifest of this instance (.kdgat/manifests, newest first) that proves these
    /// outputs were made from another result of an upstream: the newest one recording exactly these
    /// output bytes, when it records another digest (or none) of an upstream. Without it, deleting
    /// the live manifest (or Clean, then the old outputs copied back) let Adopt make such outputs
    /// current (review). A newer run or restore that made these bytes from today's upstream results
    /// vouches for them and ends the search; an adoption does not (it is only a claim), so the search
    /// goes on past it. Lazy: files without an output's hash are not parsed, and the search stops there.
    /// </summary>
    private (string Path, StageManifest Manifest, string Upstream, string Was)? ArchivedFromAnotherUpstream(StageInstance s, Verdict verdict, IReadOnlyList<OutputRecord> present)
    {
        if (verdict.Current.Upstream.Count == 0) return null;
        // The required outputs decide: an optional one made again by hand (a plot, a log) that the old
        // manifest lacks must not hide the old metrics beside it (review).
        var required = present.Where(o => !o.Optional).ToArray();
        if (required.Length == 0) return null;
        foreach (var (path, m) in ManifestHistory.NewestFirst(_ctx.Archive.DirFor(s.Dataset, s.Slot), mustContain: required[0].Hash))
        {
            if (!SameOutputs(m.Outputs, required)) continue;
            foreach (var (stage, digest) in verdict.Current.Upstream)
                if (!m.Components.Upstream.TryGetValue(stage, out var was) || was != digest)
                    return (path, m, stage, was is null ? "none recorded" : $"it was {Short(was)}");
            if (m.Executor != AdoptExecutor) return null;
        }
        return null;
    }

    /// <summary>Every output there now is the one recorded (an optional one recorded and gone since does not make the rest new).</summary>
    private static bool SameOutputs(IReadOnlyList<OutputRecord> recorded, IReadOnlyList<OutputRecord> present) =>
        present.Count > 0 && present.All(o => recorded.Any(r => r.Path == o.Path && r.Hash == o.Hash));

    private static string Short(string digest) => digest[..Math.Min(12, digest.Length)];

    private static InstanceResult Refused(StageInstance s, Verdict verdict, string code, string error) =>
        new(s, Outcome.Failed, verdict.Reasons) { Error = error, ErrorCode = code };
}
