using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Planning;

internal sealed record Verdict(FingerprintComponents Current, string Fingerprint, IReadOnlyList<StaleReason> Reasons, StageManifest? Previous)
{
    public bool UpToDate => Reasons.Count == 0;
}

/// <summary>
/// The one home of "why does this stage run": what its fingerprint is made of now
/// (<see cref="Fingerprinter"/>), its digest, and every rule that makes an instance stale: no or a
/// damaged manifest, a changed component, a missing or modified output, an upstream that is not up
/// to date. The build, Explain and Status all ask it. Decides from content only: the manifest
/// parses, the fingerprint matches, every output still hashes to what the manifest says. No file
/// time is compared.
/// </summary>
internal sealed class Planner
{
    public Planner(Fingerprinter fingerprinter, ManifestCache? manifests = null)
    {
        Fingerprinter = fingerprinter;
        _manifests = manifests;
    }

    private readonly ManifestCache? _manifests;

    /// <summary>
    /// The planner of a pipeline, hashing through its persistent hash cache (<see cref="PipelineLayout.HashCacheFile"/>); save <see cref="Cache"/> when done.
    /// Given a loaded cache and parsed manifests (a build session's: the plan task's, for the build task), it uses them.
    /// </summary>
    /// <param name="cancel">The build's: its hashes stop at a Ctrl+C (<see cref="PathHasher"/>).</param>
    public static Planner Open(PipelineLayout layout, bool verifyHashes = false, HashCache? cache = null, ManifestCache? manifests = null, CancellationToken cancel = default)
    {
        cache ??= new HashCache(layout.HashCacheFile, verifyHashes, layout.Root);
        return new Planner(new Fingerprinter(new PathHasher(cache, cancel)), manifests) { Cache = cache };
    }

    public Fingerprinter Fingerprinter { get; }
    /// <summary>The hash cache <see cref="Open"/> made (null for a planner built on a given fingerprinter).</summary>
    public HashCache? Cache { get; private init; }

    /// <summary>The instance against its manifest and outputs in the run dir.</summary>
    public Verdict Check(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, Action<string>? warnCorrupt = null) =>
        Against(s, upstreamDigests, s.ManifestPath, s.Outputs, s.ParamsFilePath, warnCorrupt);

    /// <summary>
    /// The instance against a manifest and outputs elsewhere: what the recovery of an interrupted
    /// attempt will put back (Explain looks without recovering).
    /// </summary>
    public Verdict Against(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, string manifestPath, IReadOnlyList<string> outputPaths, string paramsPath, Action<string>? warnCorrupt = null)
    {
        var current = Fingerprinter.Compute(s, upstreamDigests);
        var fingerprint = current.Digest();
        var (status, manifest, problem) = _manifests?.Read(manifestPath) ?? ManifestStore.Read(manifestPath);
        if (status == ManifestStore.ReadStatus.Missing) return new(current, fingerprint, [StaleReason.NeverRun()], null);
        if (status == ManifestStore.ReadStatus.Corrupt)
        {
            warnCorrupt?.Invoke(problem!);
            return new(current, fingerprint, [StaleReason.Corrupt(problem!)], null);
        }
        var reasons = new List<StaleReason>();
        if (manifest!.Fingerprint != fingerprint) reasons.AddRange(Diff(manifest.Components, current, s.Config.ParamSources));
        if (manifest.Fingerprint != fingerprint && reasons.Count == 0) reasons.Add(new("fingerprint", "fingerprint format changed"));
        reasons.AddRange(CheckOutputs(s, manifest, outputPaths));
        if (CheckParamsFile(s, manifest, paramsPath) is { } changed) reasons.Add(changed);
        if (reasons.Count == 0 && FormerPoints(s) is { Count: > 0 } points)
            reasons.Add(new("former-points", $"its run dir holds folders of former sweep points ({string.Join(", ", points.Take(3))}{(points.Count > 3 ? $" and {points.Count - 3} more" : "")}), which a from-scratch run dir has not: it runs again (or is restored), and its commit drops them"));
        return new(current, fingerprint, reasons, manifest);
    }

    /// <summary>
    /// An unswept instance's run dir is the parent of its stage's sweep points' folders (seed=0/). A
    /// point's attempt retires the unswept result above it (InstanceRunner.RetireUnsweptResult), but
    /// one it could not see (an interrupted attempt's result put back by recovery, a batch job still
    /// running when the stage was swept, a tree from before that) would be up to date again beside
    /// them once the sweep is removed (a review), while downstreams get the whole folder. So it is
    /// checked: a folder named like a point (a '=' in its name) holding a KdGat manifest, that is not a
    /// declared output or input, nor in or above one. Listed only for an otherwise up-to-date instance (observed, for
    /// the no-op certificate).
    /// </summary>
    private static List<string> FormerPoints(StageInstance s)
    {
        var found = new List<string>();
        if (!s.Sweep.IsEmpty || !NoOp.FileObservations.DirectoryExists(s.RunDir)) return found;
        var names = new System.IO.Enumeration.FileSystemEnumerable<string>(s.RunDir,
            (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(), NoOp.FileObservations.OneLevel).ToArray();
        NoOp.FileObservations.Saw(NoOp.FileObservations.Probe.List, s.RunDir, NoOp.FileObservations.ListAnswer(names));
        // Files too (their manifest path is simply not there): the listing holds names only, and a file
        // that becomes a point's folder by the same name must change an observation.
        // As OutputGuard's leftovers: not what a declared output or input is, lies in or holds (an input there is never dropped,
        // so counting it would rerun the stage at every build: a review).
        var inputs = Execution.OutputGuard.InputBases(s);
        foreach (var name in names.Where(n => n.Contains('=')).Order(StringComparer.Ordinal))
        {
            var folder = Path.Combine(s.RunDir, name);
            if (s.Outputs.Concat(inputs).Any(o => PathText.IsUnder(o, folder)) || inputs.Any(i => PathText.IsUnder(folder, i))) continue;
            if (NoOp.FileObservations.FileExists(Path.Combine(folder, StageInstance.ManifestFileName))) found.Add(name + "/");
            // A former point's attempt a crash interrupted (its journal): its processes may still write into the folder, and nothing
            // else recovers it once the point left the grid (a crash review). Asked only of such folders: no listing more per no-op.
            else if (NoOp.FileObservations.FileExists(Execution.OutputGuard.JournalIn(Path.Combine(s.Layout.DatasetStateDir(s.Dataset), s.Name, name)))) found.Add(name + "/ (an interrupted attempt)");
        }
        return found;
    }

    /// <summary>
    /// The sweep points of an instance's stage, other than <paramref name="todaysPoints"/>, whose state dir holds an
    /// attempt's journal: attempts a crash interrupted on points the grid no longer has (the build recovers them
    /// under their locks). For an unswept instance every point is a former one.
    /// </summary>
    internal static IReadOnlyList<string> FormerPointAttempts(StageInstance s, IEnumerable<string> todaysPoints)
    {
        var stageState = Path.Combine(s.Layout.DatasetStateDir(s.Dataset), s.Name);
        if (!NoOp.FileObservations.DirectoryExists(stageState)) return [];
        var names = new System.IO.Enumeration.FileSystemEnumerable<string>(stageState,
            (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(), NoOp.FileObservations.OneLevel).ToArray();
        NoOp.FileObservations.Saw(NoOp.FileObservations.Probe.List, stageState, NoOp.FileObservations.ListAnswer(names));
        var today = todaysPoints.ToHashSet(StringComparer.Ordinal);
        return names.Where(n => n.Contains('=') && !today.Contains(n) && NoOp.FileObservations.FileExists(Execution.OutputGuard.JournalIn(Path.Combine(stageState, n))))
            .Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// For each swept stage and dataset among <paramref name="instances"/> (the whole grid: not with -p:Sweep), one of its
    /// points and every point of today's grid: what <see cref="FormerPointAttempts"/> asks for the points that left it.
    /// </summary>
    internal static IEnumerable<(StageInstance Sibling, string[] TodaysPoints)> SweptStages(IEnumerable<StageInstance> instances) =>
        instances.Where(i => !i.Sweep.IsEmpty).GroupBy(i => (i.Dataset, i.Name)).Select(stage => (stage.First(), stage.Select(i => i.Variant).ToArray()));

    /// <summary>Upstreams that are not up to date make the instance stale before anything of its own is looked at.</summary>
    public static IReadOnlyList<StaleReason> UpstreamsNotUpToDate(IEnumerable<string> upstreamStages) =>
        upstreamStages.Select(StaleReason.UpstreamReruns).ToArray();

    /// <summary>The stage's own fingerprint, without upstream digests: what a journalled batch job must still match to be re-attached.</summary>
    public string OwnFingerprint(StageInstance s) =>
        (Fingerprinter.Compute(s, s.Upstreams.ToDictionary(u => u.Name, _ => "-"), pending: s.Upstreams) with { Upstream = new(StringComparer.Ordinal) }).Digest();

    /// <summary>A verdict for an instance that runs because its upstreams do (their outputs are not known yet: <paramref name="pending"/>).</summary>
    public Verdict Provisional(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, IReadOnlyList<StaleReason> reasons, IReadOnlyCollection<StageInstance> pending)
    {
        var current = Fingerprinter.Compute(s, upstreamDigests, pending);
        return new Verdict(current, current.Digest(), reasons, null);
    }

    private IEnumerable<StaleReason> CheckOutputs(StageInstance s, StageManifest m, IReadOnlyList<string> outputPaths)
    {
        var present = new List<(string Stored, string Hash)>();
        var missing = new List<string>();
        for (var i = 0; i < s.Outputs.Count; i++)
        {
            var stored = PathText.ToStored(s.Layout.Root, s.Outputs[i]);
            if (Fingerprinter.Hasher.Hash(outputPaths[i]) is { } h) present.Add((stored, h.Hash));
            else if (!s.IsOptional(i)) missing.Add(stored); // a missing optional one counts only if the manifest recorded it (below)
        }
        foreach (var path in missing) yield return new("output-missing", $"output missing: {path}");
        var recorded = m.Outputs.ToDictionary(o => o.Path, o => o.Hash, StringComparer.Ordinal);
        foreach (var (path, hash) in present)
            if (!recorded.TryGetValue(path, out var was)) yield return new("output-missing", $"output not recorded in manifest: {path}");
            else if (was != hash) yield return new("output-modified", $"output modified: {path}");
        // An optional output present at commit and gone now: not in missing, but the result changed. One the
        // stage no longer declares was called missing while it was there (a first-contact review).
        var now = present.Select(o => o.Stored).Concat(missing).ToHashSet(StringComparer.Ordinal);
        var declared = s.Outputs.Select(o => PathText.ToStored(s.Layout.Root, o)).ToHashSet(StringComparer.Ordinal);
        foreach (var path in recorded.Keys.Where(p => !now.Contains(p)).Order(StringComparer.Ordinal))
            yield return declared.Contains(path)
                ? new("output-missing", $"output missing: {path}")
                : new("output-undeclared", $"output no longer declared: {path} (the manifest records it; the stage's outputs: do not list it now)");
    }

    /// <summary>
    /// The run dir's params.json is part of the result downstreams read (its hash is in the output
    /// digest), so it is checked like an output: edited or deleted by hand, a downstream that runs
    /// later would read what no from-scratch build writes. Manifests from before params.json counted
    /// (no <see cref="StageManifest.ParamsFile"/>) are not checked.
    /// </summary>
    private StaleReason? CheckParamsFile(StageInstance s, StageManifest m, string paramsPath)
    {
        if (m.ParamsFile is null) return null;
        var stored = PathText.ToStored(s.Layout.Root, paramsPath);
        return Fingerprinter.Hasher.Hash(paramsPath) switch
        {
            null => new("output-missing", $"params.json missing: {stored} (KdGat writes it when the stage runs)"),
            { IsDirectory: true } => new("output-modified", $"params.json is a directory: {stored}"),
            { } h when h.Hash != m.ParamsFile => new("output-modified", $"params.json modified: {stored} (KdGat writes it from the configuration when the stage runs; change parameters in kdgat.yaml or the params file)"),
            _ => null,
        };
    }

    /// <summary>Component-by-component differences, e.g. "parameter lr changed (0.001 -> 0.002)".</summary>
    /// <param name="paramSources">Where each current parameter is written: a changed or added one says "in file(line,col)".</param>
    public static IEnumerable<StaleReason> Diff(FingerprintComponents old, FingerprintComponents now, IReadOnlyDictionary<string, string>? paramSources = null)
    {
        if (old.Command.EndsWith(Fingerprinter.ChangedDuringRun, StringComparison.Ordinal))
            yield return new("command", "the tools its command runs ({tools}) changed after its last run's fingerprint was taken (KDG3020)");
        else if (old.Command != now.Command)
            // Said as such: the reason was a cut-off "…ls program .NET 10.0.12:b59a…" (a review).
            yield return PipelineLayout.WithoutToolIdentities(old.Command) == PipelineLayout.WithoutToolIdentities(now.Command)
                ? new("command", $"the tools program its command runs changed ({PipelineLayout.ToolProgramsIn(now.Command)}: rebuilt from changed sources, or another .NET runtime)")
                : new("command", $"command changed ({Change(old.Command, now.Command)})");
        foreach (var r in DiffMap(old.Params, now.Params, "param", "parameter", showValues: true, paramSources, Config.ParamValue.ShowFingerprintText)) yield return r;
        foreach (var r in DiffMap(old.Inputs, now.Inputs, "input", "input file", showValues: false)) yield return r;
        foreach (var r in DiffMap(old.Code, now.Code, "code", "code file", showValues: false)) yield return r;
        foreach (var r in DiffMap(old.Env, now.Env, "env", "environment variable", showValues: false)) yield return r;
        foreach (var (stage, digest) in now.Upstream)
            if (!old.Upstream.TryGetValue(stage, out var was)) yield return new("upstream", $"new upstream {stage}");
            else if (was != digest) yield return new("upstream", $"upstream {stage} output changed");
        foreach (var stage in old.Upstream.Keys.Except(now.Upstream.Keys)) yield return new("upstream", $"upstream {stage} removed");
    }


    /// <summary>
    /// "old -> new" of a command or a parameter value, the part they share before and after the change
    /// cut to a few characters ("…" for the rest), and a changed part itself cut to <see cref="MaxShown"/>:
    /// after a tools rebuild the two ~450-character commands differed only in the tools program's
    /// version, and the reason that said so came first and was cut off in a terminal (a user review);
    /// a 900 KB parameter made a reason line of thousands of characters (a hostile-input review).
    /// </summary>
    internal static string Change(string old, string now)
    {
        const int Context = 24;
        var prefix = 0;
        while (prefix < old.Length && prefix < now.Length && old[prefix] == now[prefix]) prefix++;
        var suffix = 0;
        while (suffix < old.Length - prefix && suffix < now.Length - prefix && old[^(suffix + 1)] == now[^(suffix + 1)]) suffix++;
        if (prefix <= Context && suffix <= Context) return $"{Clip(old)} -> {Clip(now)}"; // little in common to cut: whole
        var from = Math.Max(0, prefix - Context);
        string Part(string c) => (from > 0 ? "…" : "") + Clip(c[from..Math.Min(c.Length, c.Length - suffix + Context)], c.Length) + (suffix > Context ? "…" : "");
        return $"{Part(old)} -> {Part(now)}";
    }

    /// <summary>The most of one value (or of its changed part) a reason shows.</summary>
    internal const int MaxShown = 200;

    /// <summary>
    /// A value of at most <see cref="MaxShown"/> characters as it is; a longer one's start and the whole value's length.
    /// Line breaks as \n: a reason is one line of Explain's table and of the "running:" line, which a setup: block's
    /// or a block-scalar parameter's line breaks broke (a review).
    /// </summary>
    internal static string Clip(string value, int? wholeLength = null) =>
        ConsoleText.OneLine(value.Length <= MaxShown ? value : $"{value[..MaxShown]}… ({wholeLength ?? value.Length:N0} characters)");

    private static IEnumerable<StaleReason> DiffMap(SortedDictionary<string, string> old, SortedDictionary<string, string> now, string kind, string noun, bool showValues,
        IReadOnlyDictionary<string, string>? sources = null, Func<string, string>? show = null)
    {
        show ??= v => v;
        foreach (var (k, value) in now)
        {
            var v = show(value);
            var at = sources is not null && sources.TryGetValue(k, out var where) ? $" in {where}" : "";
            if (!old.TryGetValue(k, out var was)) yield return new(kind, showValues ? $"{noun} {k} added ({Clip(v)}){at}" : $"{noun} added ({k})");
            else if (was == Fingerprinter.ChangedDuringRun) yield return new(kind, $"{noun} {k} changed after its last run's fingerprint was taken (KDG3020)");
            else if (was != value) yield return new(kind, showValues ? $"{noun} {k} changed ({Change(show(was), v)}){at}" : $"{noun} changed ({k})");
        }
        // A code file "removed" while it is still there confused a review (the stage's code: patterns had been narrowed).
        foreach (var k in old.Keys.Except(now.Keys))
            yield return new(kind, showValues ? $"{noun} {k} removed (was {Clip(show(old[k]))})"
                : kind == "code" ? $"{noun} deleted, or no longer matched by the stage's code: patterns ({k})" : $"{noun} removed ({k})");
    }
}
