using KdGat.Core.Diagnostics;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Auditing;

/// <summary>
/// Judges what one stage instance did against what it declares:
/// KDG6001 (error) it read a file of another stage (run dir or output) that is not among its
/// direct Needs, or of another dataset's stage: its fingerprint does not cover that file;
/// KDG6002 (warning) it read a file under the repository or the raw/cache roots that is not a
/// declared input, code file or params file, with the kdgat.yaml line to add;
/// KDG6003 (warning) it wrote outside its run dir and its declared outputs;
/// KDG6007 (error) it read a file in a needed upstream's run dir that the upstream does not declare
/// (nor its params.json): the upstream's output digest, all this stage's fingerprint has of it, does not cover it;
/// KDG6008 (warning) it read its params_file itself: its fingerprint has the values KdGat parsed, not the bytes.
/// Its own run dir and outputs, the temp siblings of its outputs (".NAME.*.tmp", the atomic-write
/// idiom) and the parents it creates for them are its own. Directory listings count only for KDG6001.
/// </summary>
internal sealed class AccessClassifier
{
    private const int Examples = 3;
    private static readonly string[] CodeExtensions = [".py", ".pyx", ".sh", ".cs", ".r", ".jl", ".pl", ".rb", ".lua", ".m", ".ipynb"];
    private readonly AuditScope _scope;
    private readonly string _pipelineFile;
    /// <summary>Each stage's target in the project file, read once per stage, not once per finding (the file is parsed each time).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ProjectPlace> _targets = new(StringComparer.Ordinal);

    public AccessClassifier(AuditScope scope, string pipelineFile = "pipeline.proj")
    {
        _scope = scope;
        _pipelineFile = pipelineFile;
    }

    public IReadOnlyList<Diagnostic> Classify(StageInstance s, IEnumerable<TracedAccess> accesses)
    {
        var foreign = new SortedDictionary<string, (StageInstance Owner, SortedSet<string> Paths)>(StringComparer.Ordinal);
        var undeclared = new SortedSet<string>(StringComparer.Ordinal);
        var strayWrites = new SortedSet<string>(StringComparer.Ordinal);
        var upstreamFiles = new SortedDictionary<string, (StageInstance Owner, SortedSet<string> Paths)>(StringComparer.Ordinal);
        var paramsFileRead = false;

        foreach (var traced in accesses)
        {
            var logical = _scope.Logical(traced.Path);
            var a = traced with { Path = traced.Kind == AccessKind.Write ? logical : AuditScope.SourceOfBytecode(logical) };
            if (_scope.Ignored(a.Path) || IsOwn(s, a.Path)) continue;
            var owner = _scope.Owner(a.Path);
            if (a.Kind == AccessKind.Write)
            {
                if (!(a.Created && IsParentOfOwn(s, a.Path))) strayWrites.Add(a.Path);
                continue;
            }
            if (owner is { } o)
            {
                // The very upstream instances: a swept instance reading another sweep point of a needed stage is flagged too.
                if (o.Owner.Dataset != s.Dataset || !s.Upstreams.Any(u => u.Key == o.Owner.Key)) // by key: the audit scope instantiates the pipeline on its own
                {
                    if (!foreign.TryGetValue(o.Owner.Key, out var entry)) foreign[o.Owner.Key] = entry = (o.Owner, new SortedSet<string>(StringComparer.Ordinal));
                    entry.Paths.Add(a.Path);
                }
                else if (!o.Output && !a.Listing && IsUndeclaredFileOf(o.Owner, a.Path))
                {
                    if (!upstreamFiles.TryGetValue(o.Owner.Key, out var entry)) upstreamFiles[o.Owner.Key] = entry = (o.Owner, new SortedSet<string>(StringComparer.Ordinal));
                    entry.Paths.Add(a.Path);
                }
                continue;
            }
            if (a.Listing || !_scope.InProject(a.Path)) continue;
            if (IsDeclared(s, a.Path)) continue;
            if (IsParamsFile(s, a.Path)) { paramsFileRead = true; continue; }
            undeclared.Add(a.Path);
        }

        var found = new List<Diagnostic>();
        foreach (var (_, (owner, paths)) in foreign) found.Add(ForeignRead(s, owner, paths));
        foreach (var (_, (owner, paths)) in upstreamFiles) found.Add(UndeclaredUpstreamFile(s, owner, paths));
        if (paramsFileRead) found.Add(ParamsFileRead(s));
        if (undeclared.Count > 0) found.Add(UndeclaredInputs(s, undeclared));
        if (strayWrites.Count > 0) found.Add(StrayWrites(s, strayWrites));
        return found;
    }

    private Diagnostic ForeignRead(StageInstance s, StageInstance owner, IReadOnlyCollection<string> paths)
    {
        var what = $"{s.Key} read {Show(paths)}, {(paths.Count == 1 ? "which belongs" : "which belong")} to {owner.Key}";
        string message;
        // The fix of the first two is in the stage's command (kdgat.yaml); of the third in the stage's target.
        ProjectPlace at = new(s.Layout.Config.File, s.Config.Line, s.Config.Column);
        if (owner.Dataset == s.Dataset && (owner.Name == s.Name || s.Upstreams.Any(u => u.Name == owner.Name)))
            message = $"{what}, another point of the sweep grid than {(owner.Name == s.Name ? "its own" : $"the {owner.Name} instance it reads ({s.Upstreams.First(u => u.Name == owner.Name).Key})")}. " +
                      $"Its fingerprint covers only the upstream instances at its own point ({s.Variant}), so a change there would leave {s.Key} reported up to date with stale results. Read {{upstream.{owner.Name}}} (or {{teacher}}) instead of a path to another variant.";
        else if (owner.Dataset != s.Dataset)
            message = $"{what}, a stage of another dataset. A fingerprint covers only the same dataset's upstreams, so a change there would leave {s.Key} reported up to date with stale results. Make the command read its own dataset's data ({{cache_dir}}, {{upstream.NAME}}).";
        else
        {
            var via = Transitively(s, owner.Name);
            message = $"{what}, but {owner.Name} is not in the Needs of {s.Name}" +
                      (via is null ? "" : $" (it is only an indirect upstream, through {via}, whose early cutoff can hide a change)") +
                      $": the fingerprint of {s.Name} does not cover {(paths.Count == 1 ? "that file" : "those files")}, so a change to {(paths.Count == 1 ? "it" : "them")} would leave {s.Name} reported up to date with stale results. " +
                      $"Fix {Path.GetFileName(_pipelineFile)}: add {owner.Name} to Needs=\"...\" of <KdGatStage Include=\"{s.Name}\"> and its target to DependsOnTargets of the {s.Name} target.";
            // At that target (a target the project file does not declare literally: the file alone).
            at = _targets.GetOrAdd(s.Name, name => StageTargets.Find(_pipelineFile, name)?.Target ?? new(_pipelineFile, 0, 0));
        }
        return new Diagnostic(Severity.Error, ErrorCodes.AuditUndeclaredUpstream, message, at.File, at.Line, at.Column);
    }

    private Diagnostic UndeclaredUpstreamFile(StageInstance s, StageInstance owner, IReadOnlyCollection<string> paths) =>
        new(Severity.Error, ErrorCodes.AuditUndeclaredUpstreamFile,
            $"{s.Key} read {Show(paths)} in the run dir of its upstream {owner.Key}, which {owner.Name} does not declare as {(paths.Count == 1 ? "an output" : "outputs")}: " +
            $"the fingerprint of {s.Name} has {owner.Name}'s declared outputs (and params.json), not {(paths.Count == 1 ? "that file" : "those files")}, so a rerun of {owner.Name} that writes {(paths.Count == 1 ? "it" : "them")} differently would leave {s.Key} reported up to date with stale results. " +
            $"Declare {(paths.Count == 1 ? "it" : "them")} under `outputs:` (or `optional_outputs:`) of stage {owner.Name} in {Path.GetFileName(s.Layout.Config.File)}.",
            s.Layout.Config.File, owner.Config.Line, owner.Config.Column);

    private static Diagnostic ParamsFileRead(StageInstance s) =>
        new(Severity.Warning, ErrorCodes.AuditParamsFileRead,
            $"{s.Key} read its params_file {s.Config.ParamsFile} itself. Its fingerprint has the values KdGat parsed from that file, not its bytes, so an edit that KdGat reads as the same value and your parser does not " +
            $"(1e-3 for 0.001, 010, yes/no) would leave {s.Name} up to date on the old reading. Read {{params_file}} (the params.json KdGat writes, with the values the fingerprint has) instead, or list {s.Config.ParamsFile} under `inputs:` of stage {s.Name} so its bytes count.",
            s.Layout.Config.File, s.Config.Line, s.Config.Column);

    private Diagnostic UndeclaredInputs(StageInstance s, IReadOnlyCollection<string> paths)
    {
        var suggested = Collapse(paths.Select(p => Suggest(s, p)).Distinct(StringComparer.Ordinal).ToArray());
        var code = suggested.Where(p => CodeExtensions.Contains(Path.GetExtension(p).ToLowerInvariant())).ToArray();
        var inputs = suggested.Except(code).ToArray();
        var lines = new List<string>();
        if (inputs.Length > 0) lines.Add($"inputs: [{string.Join(", ", s.Config.Inputs.Concat(inputs).Distinct().Select(Yaml))}]");
        if (code.Length > 0) lines.Add($"code: [{string.Join(", ", code.Select(Yaml))}]{(s.Config.Code.Count > 0 ? " (added to defaults.code; merge with a code: line the stage already has)" : "")}");
        var message = $"{s.Key} read {Show(paths)}, not declared as inputs, code or params file: a change to {(paths.Count == 1 ? "it" : "them")} would not rerun {s.Name}. " +
                      $"Declare {(paths.Count == 1 ? "it" : "them")} in {Path.GetFileName(s.Layout.Config.File)} under `stages: {s.Name}:` with  {string.Join("  and  ", lines)}";
        return new Diagnostic(Severity.Warning, ErrorCodes.AuditUndeclaredInput, message, s.Layout.Config.File, s.Config.Line, s.Config.Column);
    }

    private Diagnostic StrayWrites(StageInstance s, IReadOnlyCollection<string> paths)
    {
        var owners = paths.Select(p => _scope.Owner(p)?.Owner.Key).OfType<string>().Distinct().ToArray();
        var message = $"{s.Key} wrote {Show(paths)} outside its run dir and declared outputs" +
                      (owners.Length > 0 ? $" (into what belongs to {string.Join(", ", owners)})" : "") +
                      $". KdGat neither fingerprints, cleans nor caches such files, and a restore from the cache does not recreate them. Write into {{run_dir}}, or declare them as `outputs:` of stage {s.Name}.";
        return new Diagnostic(Severity.Warning, ErrorCodes.AuditUndeclaredWrite, message, s.Layout.Config.File, s.Config.Line, s.Config.Column);
    }

    /// <summary>Its run dir, its outputs, and temp siblings of its outputs (".model.ckpt.123.abc.tmp").</summary>
    private static bool IsOwn(StageInstance s, string path) =>
        PathText.IsUnder(path, s.RunDir) || s.Outputs.Any(o => PathText.IsUnder(path, o) || IsTempSibling(o, path));

    private static bool IsTempSibling(string output, string path)
    {
        var dir = Path.GetDirectoryName(output.TrimEnd('/'))!;
        if (!PathText.IsUnder(path, dir) || PathText.IsUnder(path, output)) return false;
        var entry = Path.GetRelativePath(dir, path).Split('/')[0];
        // Any writer's atomic-write idiom (a stage's own, not only KdGat's exact temp names: AtomicFile.IsTempName).
        return entry.StartsWith("." + Path.GetFileName(output.TrimEnd('/')) + ".", StringComparison.Ordinal) && entry.EndsWith(".tmp", StringComparison.Ordinal);
    }

    private static bool IsParentOfOwn(StageInstance s, string dir) => s.Outputs.Append(s.RunDir).Any(o => PathText.IsUnder(o, dir));

    /// <summary>
    /// A file in an upstream's run dir that is neither a declared output (the caller knows) nor what
    /// KdGat writes there: the run dir itself, params.json (in the output digest), the manifest, and
    /// logs/ (which cannot be declared outputs).
    /// </summary>
    private static bool IsUndeclaredFileOf(StageInstance owner, string path) =>
        path != Path.GetFullPath(owner.RunDir).TrimEnd('/') && path != owner.ParamsFilePath && path != owner.ManifestPath && !PathText.IsUnder(path, owner.LogDir);

    private static bool IsParamsFile(StageInstance s, string path) =>
        s.Config.ParamsFile is { } pf && Path.GetFullPath(Path.Combine(s.Layout.Root, pf)) == path;

    /// <summary>Under a declared input or code glob: its bytes are in the fingerprint.</summary>
    private static bool IsDeclared(StageInstance s, string path) =>
        s.Inputs.Any(i => PathText.IsUnder(path, i)) || s.CodeCovers(path);

    /// <summary>The stage, among the direct needs, through which <paramref name="name"/> is an upstream; null if it is not one.</summary>
    private static string? Transitively(StageInstance s, string name)
    {
        foreach (var u in s.Upstreams)
        {
            var seen = new HashSet<string>();
            var stack = new Stack<StageInstance>(u.Upstreams);
            while (stack.TryPop(out var x))
            {
                if (x.Name == name) return u.Name;
                if (seen.Add(x.Name)) foreach (var y in x.Upstreams) stack.Push(y);
            }
        }
        return null;
    }

    /// <summary>How the path would be written in kdgat.yaml: {raw_dir} for the stage's raw data, else root-relative with {dataset}.</summary>
    private static string Suggest(StageInstance s, string path)
    {
        if (PathText.IsUnder(path, s.RawDir)) return "{raw_dir}";
        var shown = PathText.IsUnder(path, s.Layout.Root) ? PathText.ToStored(s.Layout.Root, path) : path;
        return string.Join('/', shown.Split('/').Select(seg => seg == s.Dataset ? "{dataset}" : seg));
    }

    /// <summary>Many files: their common directory instead (a stage that walks a tree reads all of it).</summary>
    private static string[] Collapse(string[] paths)
    {
        if (paths.Length <= 5) return paths;
        var common = paths.Select(p => p.Split('/')).Aggregate((a, b) => a.Zip(b).TakeWhile(x => x.First == x.Second).Select(x => x.First).ToArray());
        return common.Length == 0 || (common.Length == 1 && common[0] == "") ? paths : [string.Join('/', common)];
    }

    private string Show(IReadOnlyCollection<string> paths)
    {
        var shown = paths.Take(Examples).Select(p => PathText.IsUnder(p, _scope.Layout.Root) ? PathText.ToStored(_scope.Layout.Root, p) : p);
        return string.Join(", ", shown) + (paths.Count > Examples ? $" and {paths.Count - Examples} more file(s)" : "");
    }

    private static string Yaml(string s) => "'" + s.Replace("'", "''") + "'";
}
