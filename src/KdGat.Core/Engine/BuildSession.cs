using System.Collections.Concurrent;
using KdGat.Core.Hashing;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// What one MSBuild build's tasks share in its process: the plan task before the stage targets
/// and the build task after them load the same pipeline and check the same instances. Nothing
/// here is a result: each entry is used again only after a check that it still describes the
/// files (the configuration's bytes, a manifest's or a hashed file's identity), so a task that
/// finds something changed in between loads, reads or hashes it again. The MSBuild tasks keep one
/// per build (RegisterTaskObject, build lifetime); without one every engine starts afresh.
/// </summary>
internal sealed class BuildSession
{
    private readonly ConcurrentDictionary<string, LoadedPipeline> _loaded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string File, bool Verify), HashCache> _hashCaches = new();

    /// <summary>Parsed manifests by file identity.</summary>
    public ManifestCache Manifests { get; } = new();

    /// <summary>What this build's plan and build tasks asked the file system (a no-op certificate is made of it); null until <see cref="Observe"/>.</summary>
    public NoOp.FileObservations? Observations { get; private set; }

    /// <summary>The file system's clock when recording began (ns): files changed since, less the racy margin, cannot vouch for their content.</summary>
    public long ObservedSinceNs { get; private set; }

    /// <summary>False once a pipeline came from an earlier build of this process: what its load read was observed then, not in this build.</summary>
    public bool LoadedHere { get; private set; } = true;

    /// <summary>
    /// The plan task's key and stamps (a certificate written by the build task needs both), and when
    /// a certificate answered the plan, what that one observed (the new certificate must cover the whole plan, not only what this build checked); null when the plan did not run here.
    /// </summary>
    public (string Key, IReadOnlyList<StageStamps.Entry> Stamps, IReadOnlyList<StageDeclaration> Graph, IReadOnlyList<(NoOp.FileObservations.Probe Probe, string Path, string Answer)> Observed)? Plan { get; set; }

    /// <summary>The certificate the plan task found still holding (the build task checks it again before using it).</summary>
    public NoOp.NoOpCertificate? Certified { get; set; }

    /// <summary>The plan key a certificate was last looked for and not found (the plan task's full check does not look again).</summary>
    public string? PlanMissed { get; set; }

    private readonly List<Diagnostics.Diagnostic> _warned = [];

    /// <summary>
    /// The load-time warnings said in this build (<see cref="Planning.Fingerprinter.CodePatternsMatchingNothing"/>):
    /// a no-op certificate written by it records them, to say them again when it answers.
    /// </summary>
    public IReadOnlyList<Diagnostics.Diagnostic> Warned { get { lock (_warned) return [.. _warned]; } }

    /// <summary>
    /// True the first time this build would say <paramref name="warning"/> (then it is <see cref="Warned"/>):
    /// the plan and the build task, or the full check and the certificate it verifies, say it once.
    /// </summary>
    public bool FirstTime(Diagnostics.Diagnostic warning)
    {
        lock (_warned)
        {
            if (_warned.Contains(warning)) return false;
            _warned.Add(warning);
            return true;
        }
    }

    /// <summary>Starts recording, once per build, for the current async flow and what it starts.</summary>
    public void Observe(string root)
    {
        lock (_loaded)
        {
            if (Observations is null)
            {
                ObservedSinceNs = Hashing.HashCache.FileSystemNow(NoOp.NoOpCertificate.DirOf(root));
                Observations = new NoOp.FileObservations();
            }
        }
        NoOp.FileObservations.RecordInto(Observations);
    }

    /// <summary>
    /// The pipeline as <see cref="LoadedPipeline.Load"/> makes it; the same object again while the
    /// request and every configuration source are the same: this build's, else one an earlier build
    /// of this process loaded (<see cref="LoadedPipelineCache"/>: a long-lived MSBuild process).
    /// </summary>
    public LoadedPipeline Load(BuildRequest request)
    {
        var key = LoadKey(request);
        // This build's pipeline is checked here; a stale one is also the process's (the same object),
        // so its files are not hashed a second time there: it is loaded again.
        var fromProcess = false;
        var kept = _loaded.TryGetValue(key, out var hit) ? (hit.StillValid() ? hit : null) : (LoadedPipelineCache.Get(key) is { } p && (fromProcess = true) ? p : null);
        if (fromProcess) LoadedHere = false;
        return _loaded[key] = kept ?? LoadedPipelineCache.Put(key, LoadedPipeline.Load(request));
    }

    /// <summary>The hash cache of a pipeline, loaded from its file once per session (its rows are checked against each file's identity at every lookup).</summary>
    public HashCache HashCache(PipelineLayout layout, bool verifyHashes) =>
        _hashCaches.GetOrAdd((layout.HashCacheFile, verifyHashes), k => new HashCache(k.File, k.Verify, layout.Root));

    /// <summary>Every request field <see cref="LoadedPipeline.Load"/> reads.</summary>
    private static string LoadKey(BuildRequest r) => string.Join('\u001f',
        Path.GetFullPath(r.Root), r.ConfigFile, r.ToolsDir, r.PipelineFile, r.Datasets, r.Sweep, string.Join('\u001d', r.GlobalPropertyNames.Order(StringComparer.Ordinal)), r.OnlyStage, r.StageWithDownstream,
        string.Join('\u001e', r.Stages.Select(s => s.Name + "\u001d" + string.Join('\u001d', s.Needs))));
}
