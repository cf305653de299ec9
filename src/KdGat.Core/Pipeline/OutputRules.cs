using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>
/// Where a stage's outputs may be, since KdGat moves them aside before a run and Clean deletes
/// them. Checked for every output of every instantiated stage against every dataset of the
/// configuration, whatever -p:Dataset selects:
/// <list type="number">
/// <item>an output lies strictly inside its run dir ({runs}/{dataset}/{stage}/), or is or lies
/// inside its own dataset's cache dir (paths.cache);</item>
/// <item>it is not, does not contain and is not inside: any dataset's raw dir, another dataset's
/// cache dir or runs ({runs}/{other}/), a cache dir several datasets share, the tools dir, KdGat's state (.kdgat/ and
/// {runs}/{dataset}/.kdgat/), .git/, the configuration file, a params file, the literal directory
/// of a code glob, or one of its stage's inputs;</item>
/// <item>it does not contain the pipeline root or the runs root.</item>
/// </list>
/// </summary>
internal sealed class OutputRules
{
    /// <summary>What a protected path is; <see cref="OwnDataset"/> may write it (its own cache dir and runs).</summary>
    private sealed record Protected(string What, string? OwnDataset = null, bool Raw = false);

    private readonly PipelineLayout _layout;
    private readonly PathMap<Protected> _protected = new();
    private readonly PathMap<Protected> _containers = new();
    private readonly List<(string Pattern, string Base, string What)> _codeGlobs = [];

    public OutputRules(PipelineLayout layout)
    {
        _layout = layout;
        var c = layout.Config;
        foreach (var d in c.Datasets)
        {
            _protected.Add(layout.Resolve(c.RawDir, d), new($"the raw data of dataset {d} (paths.raw)", Raw: true));
            _protected.Add(layout.DatasetStateDir(d), new($"KdGat's state for dataset {d}"));
            _protected.Add(Path.Combine(layout.RunsRoot, d), new($"the runs of dataset {d}", d));
        }
        // A cache dir is its dataset's own; one that several datasets share (paths.cache without
        // {dataset}) is nobody's, since each dataset's Clean would delete the others' data.
        foreach (var g in c.Datasets.GroupBy(d => PathMap<Protected>.Normalize(layout.Resolve(c.CacheDir, d)), StringComparer.Ordinal))
            _protected.Add(g.Key, g.Count() == 1
                ? new($"the cache dir of dataset {g.First()} (paths.cache)", g.First())
                : new($"the cache dir shared by datasets {string.Join(", ", g)} (paths.cache needs {{dataset}})"));
        _protected.Add(layout.ToolsDir, new("KdGat's tools (-p:KdGatToolsDir)"));
        _protected.Add(layout.StateDir, new("KdGat's state (.kdgat)"));
        _protected.Add(Path.Combine(layout.Root, ".git"), new("the git repository (.git)"));
        _protected.Add(c.File, new("the configuration file"));
        foreach (var s in c.Stages.Values)
        {
            if (s.ParamsFile is not null) _protected.Add(Path.Combine(layout.Root, s.ParamsFile), new($"the params file of stage '{s.Name}'"));
            foreach (var code in s.Code)
                if (Glob.LiteralBase(Path.Combine(layout.Root, code)) is var b && !Same(b, layout.Root))
                {
                    // A wildcard protects what it can match, not its whole folder: that refused 'data/*.txt' beside the default
                    // cache dir data/cache/{dataset} (a first-week review). Not left to its walk's skipping of folders stages
                    // write: one that starts inside such a folder (runs/d1/a/*.py) matched its stage's own output, and the
                    // stage reran at every build (a review of that change).
                    var pattern = Path.Combine(layout.Root, code);
                    if (!Glob.HasWildcard(code)) _protected.Add(b, new($"code of stage '{s.Name}' ({code})"));
                    else if (!_codeGlobs.Exists(c => c.Pattern == pattern)) _codeGlobs.Add((pattern, b, $"code of stage '{s.Name}' ({code})")); // once: defaults.code is every stage's
                }
        }
        _containers.Add(layout.Root, new("the pipeline root"));
        _containers.Add(layout.RunsRoot, new("the runs root (paths.runs)"));
    }

    /// <summary>Why output <paramref name="o"/> of <paramref name="s"/> may not be there, or null when it may.</summary>
    public string? Problem(StageInstance s, string o)
    {
        var inRunDir = PathText.IsUnder(o, s.RunDir) && !Same(o, s.RunDir);
        if (!inRunDir && !PathText.IsUnder(o, s.CacheDir))
            return $"is outside its run dir ({Stored(s.RunDir)}) and its dataset's cache dir ({Stored(s.CacheDir)}, paths.cache)";
        if (_containers.AtOrAbove(o).Where(c => Same(c.Key, o)).Concat(_containers.Below(o)).FirstOrDefault() is { Key: not null } container)
            return $"is or contains {container.Value.What}";
        // Its own cache dir and runs are where it may write; everything else protected is off limits, above or below.
        if (_protected.AtOrAbove(o).Concat(_protected.Below(o)).FirstOrDefault(p => p.Value.OwnDataset != s.Dataset) is { Key: not null } hit)
        {
            // The layout itself, not this output: a cache dir inside a raw dir (raw: data/{dataset}, cache: data/{dataset}/cache).
            if (hit.Value.Raw && CacheInRaw(s))
                return $"lies in {Stored(hit.Key)}, {hit.Value.What}: paths.cache ({Stored(s.CacheDir)}) is inside paths.raw. Raw data is what stages read and never write; move paths.cache out of paths.raw in {Path.GetFileName(_layout.Config.File)} (for example cache: data/cache/{{dataset}})";
            return $"{(PathText.IsUnder(hit.Key, o) && !Same(hit.Key, o) ? "contains" : "overlaps")} {hit.Value.What} ({Stored(hit.Key)})";
        }
        if (_codeGlobs.FirstOrDefault(c => Overlaps(o, c.Base) && Glob.MayReach(c.Pattern, o)) is { Pattern: not null } code)
            return $"overlaps {code.What}, which could match what it writes";
        if (s.Inputs.FirstOrDefault(i => Glob.MayReach(i, o)) is { } input)
            return $"overlaps its input {Stored(input)}";
        if (PathText.IsUnder(s.RunDir, o) || Overlaps(o, s.LogDir) || Same(o, s.ManifestPath) || Same(o, s.ParamsFilePath))
            return "overlaps the run dir itself, its logs, manifest or params.json";
        return null;
    }

    /// <summary>
    /// Why output <paramref name="o"/> may not be listed so among its stage's outputs, or null: the run dir
    /// itself, listed twice, or inside another of them. Each output is moved aside, hashed and recorded by
    /// its path (listed twice, the commit failed with an internal error, KDG9001, at every build; a
    /// first-week review).
    /// </summary>
    public KdgException? ListingError(StageInstance s, string o)
    {
        var problem = Same(o, s.RunDir) ? "is the run dir itself (where KdGat also keeps the stage's manifest, params.json and logs): name the files or folders in it that the stage writes"
            : s.Outputs.Count(x => Same(x, o)) > 1 ? "is listed twice (in outputs: and optional_outputs:, or twice in one of them): list each output once"
            : s.Outputs.FirstOrDefault(x => !Same(x, o) && PathText.IsUnder(o, x)) is { } outer ? $"lies inside its output {Stored(outer)}: list the folder alone, or only the files in it"
            : null;
        return problem is null ? null
            : new(ErrorCodes.UnsafeOutputPath, $"stage '{s.Name}' (dataset {s.Dataset}): output '{Stored(o)}' {problem}.", _layout.Config.File, s.PlaceOf(o).Line, s.PlaceOf(o).Column);
    }

    /// <summary>
    /// Why the output store may not be at <paramref name="dir"/>, or null. It is written whenever a
    /// stage succeeds: inside raw data, a code directory or a params file's place it changes what the
    /// stages read (every build reruns them, a hostile-input pass found), inside runs or a cache dir
    /// Clean deletes it. KdGat's own state dir (the default, .kdgat/store) is its place. A store above
    /// the pipeline (KDGAT_CACHE=/scratch/$USER for pipelines under it) is fine: it writes only its
    /// own entries/ and tmp/.
    /// </summary>
    public string? StoreProblem(string dir)
    {
        if (_containers.AtOrAbove(dir).FirstOrDefault(c => Same(c.Key, dir)) is { Key: not null } container)
            return $"is {container.Value.What}";
        var state = PathMap<Protected>.Normalize(_layout.StateDir);
        if (_protected.AtOrAbove(dir).FirstOrDefault(p => p.Key != state) is { Key: not null } hit)
            return $"lies in {hit.Value.What} ({Stored(hit.Key)})";
        if (_codeGlobs.FirstOrDefault(c => PathText.IsUnder(dir, c.Base)) is { Pattern: not null } code)
            return $"lies in {code.What} ({Stored(code.Base)})";
        return null;
    }

    /// <summary>
    /// Why a literal `code:` entry may not be there, or null: a folder that holds KdGat's state or a
    /// folder stages write (`code: ["."]`) took every build's state into the fingerprint, so the stage
    /// reran at every build (a soundness review). A wildcard never walks into them (<see cref="Glob.Expand"/>).
    /// </summary>
    public string? CodeProblem(string pattern) => _codeProblems.GetOrAdd(pattern, FindCodeProblem); // once per pattern, not per instance (7,800 at 600 datasets)

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _codeProblems = new(StringComparer.Ordinal);

    private string? FindCodeProblem(string pattern)
    {
        if (Glob.HasWildcard(pattern)) return null;
        var full = Path.GetFullPath(Path.Combine(_layout.Root, pattern));
        var written = _layout.WrittenFolders.Prepend(PathMap<Protected>.Normalize(_layout.StateDir));
        return written.FirstOrDefault(w => PathText.IsUnder(w, full)) is { } hit
            ? $"{(Same(hit, full) ? "is" : "contains")} {(Same(hit, _layout.StateDir) ? "KdGat's state (.kdgat), which every build rewrites" : $"{Stored(hit)}, which stages write")}"
            : null;
    }

    /// <summary>Whether the instance's cache dir lies in a raw dir: then its outputs there can never be allowed, whatever their names.</summary>
    private bool CacheInRaw(StageInstance s) => _protected.AtOrAbove(s.CacheDir).Any(p => p.Value.Raw);

    private static bool Same(string a, string b) => PathMap<Protected>.Normalize(a) == PathMap<Protected>.Normalize(b);

    private static bool Overlaps(string a, string b) => PathText.IsUnder(a, b) || PathText.IsUnder(b, a);

    private string Stored(string path) => PathText.ToStored(_layout.Root, path);

    public KdgException Error(StageInstance s, string o, string problem) =>
        new(ErrorCodes.UnsafeOutputPath,
            $"stage '{s.Name}' (dataset {s.Dataset}): output '{Stored(o)}' {problem}." + (CacheInRaw(s) && PathText.IsUnder(o, s.CacheDir) ? ""
                : " KdGat moves outputs aside before a run and Clean deletes them, so an output must lie in its run dir ({run_dir}, the default for a relative name) or under its dataset's {cache_dir}, and touch nothing else."),
            _layout.Config.File, s.PlaceOf(o).Line, s.PlaceOf(o).Column);
}
