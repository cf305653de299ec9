using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Planning;

public sealed record Verdict(FingerprintComponents Current, string Fingerprint, IReadOnlyList<StaleReason> Reasons, StageManifest? Previous)
{
    public bool UpToDate => Reasons.Count == 0;
}

/// <summary>
/// Decides up-to-date vs stale from content only: the manifest parses, the fingerprint matches,
/// and every output still hashes to what the manifest says. No file time is compared.
/// </summary>
public sealed class StalenessChecker
{
    private readonly Fingerprinter _fp;
    public StalenessChecker(Fingerprinter fp) => _fp = fp;

    public Verdict Check(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, Action<string>? warnCorrupt = null)
    {
        var current = _fp.Compute(s, upstreamDigests);
        var fingerprint = Fingerprinter.Digest(current);
        var (status, manifest, problem) = ManifestStore.Read(s.ManifestPath);
        if (status == ManifestStore.ReadStatus.Missing) return new(current, fingerprint, [StaleReason.NeverRun()], null);
        if (status == ManifestStore.ReadStatus.Corrupt)
        {
            warnCorrupt?.Invoke(problem!);
            return new(current, fingerprint, [StaleReason.Corrupt(problem!)], null);
        }
        var reasons = new List<StaleReason>();
        if (manifest!.Fingerprint != fingerprint) reasons.AddRange(Diff(manifest.Components, current, s.Config.ParamSources));
        if (manifest.Fingerprint != fingerprint && reasons.Count == 0) reasons.Add(new("fingerprint", "fingerprint format changed"));
        reasons.AddRange(CheckOutputs(s, manifest));
        return new(current, fingerprint, reasons, manifest);
    }

    private IEnumerable<StaleReason> CheckOutputs(StageInstance s, StageManifest m)
    {
        var (present, missing) = _fp.HashOutputs(s);
        foreach (var path in missing) yield return new("output-missing", $"output missing: {path}");
        var recorded = m.Outputs.ToDictionary(o => o.Path, o => o.Hash, StringComparer.Ordinal);
        foreach (var o in present)
            if (!recorded.TryGetValue(o.Path, out var h)) yield return new("output-missing", $"output not recorded in manifest: {o.Path}");
            else if (h != o.Hash) yield return new("output-modified", $"output modified: {o.Path}");
        // An optional output present at commit and gone now: not in Missing, but the result changed.
        var now = present.Select(o => o.Path).Concat(missing).ToHashSet(StringComparer.Ordinal);
        foreach (var path in recorded.Keys.Where(p => !now.Contains(p)).Order(StringComparer.Ordinal))
            yield return new("output-missing", $"output missing: {path}");
    }

    /// <summary>Component-by-component differences, e.g. "parameter lr changed (0.001 -> 0.002)".</summary>
    /// <param name="paramSources">Where each current parameter is written: a changed or added one says "in file(line,col)".</param>
    public static IEnumerable<StaleReason> Diff(FingerprintComponents old, FingerprintComponents now, IReadOnlyDictionary<string, string>? paramSources = null)
    {
        if (old.Command != now.Command) yield return new("command", $"command changed ({old.Command} -> {now.Command})");
        foreach (var r in DiffMap(old.Params, now.Params, "param", "parameter", showValues: true, paramSources)) yield return r;
        foreach (var r in DiffMap(old.Inputs, now.Inputs, "input", "input file", showValues: false)) yield return r;
        foreach (var r in DiffMap(old.Code, now.Code, "code", "code file", showValues: false)) yield return r;
        foreach (var r in DiffMap(old.Env, now.Env, "env", "environment variable", showValues: false)) yield return r;
        foreach (var (stage, digest) in now.Upstream)
            if (!old.Upstream.TryGetValue(stage, out var was)) yield return new("upstream", $"new upstream {stage}");
            else if (was != digest) yield return new("upstream", $"upstream {stage} output changed");
        foreach (var stage in old.Upstream.Keys.Except(now.Upstream.Keys)) yield return new("upstream", $"upstream {stage} removed");
    }

    private static IEnumerable<StaleReason> DiffMap(SortedDictionary<string, string> old, SortedDictionary<string, string> now, string kind, string noun, bool showValues,
        IReadOnlyDictionary<string, string>? sources = null)
    {
        foreach (var (k, v) in now)
        {
            var at = sources is not null && sources.TryGetValue(k, out var where) ? $" in {where}" : "";
            if (!old.TryGetValue(k, out var was)) yield return new(kind, showValues ? $"{noun} {k} added ({v}){at}" : $"{noun} added ({k})");
            else if (was != v) yield return new(kind, showValues ? $"{noun} {k} changed ({was} -> {v}){at}" : $"{noun} changed ({k})");
        }
        foreach (var k in old.Keys.Except(now.Keys))
            yield return new(kind, showValues ? $"{noun} {k} removed (was {old[k]})" : $"{noun} removed ({k})");
    }
}
