using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>
/// One stage for one dataset, with every path resolved. Run dir: {runs}/{dataset}/{stage}/,
/// holding the stage's outputs (unless a placeholder puts them elsewhere), its manifest,
/// params.json and logs/.
/// </summary>
public sealed class StageInstance
{
    public const string ManifestFileName = "kdgat.manifest.json";

    internal StageInstance(PipelineLayout layout, string dataset, StageConfig config, IReadOnlyList<StageInstance> upstreams)
    {
        Layout = layout;
        Dataset = dataset;
        Config = config;
        Upstreams = upstreams;
        RunDir = Path.Combine(layout.RunsRoot, dataset, config.Name);
        RawDir = layout.Resolve(layout.Config.RawDir, dataset);
        CacheDir = layout.Resolve(layout.Config.CacheDir, dataset);
        var where = $"stage '{Name}'";
        RequiredOutputs = config.Outputs.Select(o => Path.GetFullPath(Path.Combine(RunDir, RenderPath(o, where + " outputs")))).ToArray();
        Outputs = RequiredOutputs.Concat(config.OptionalOutputs.Select(o => Path.GetFullPath(Path.Combine(RunDir, RenderPath(o, where + " optional_outputs"))))).ToArray();
        Inputs = config.Inputs.Select(i => Path.GetFullPath(Path.Combine(layout.Root, RenderPath(i, where + " inputs")))).ToArray();
        foreach (var o in Outputs)
            if (layout.OutputRules.Problem(this, o) is { } problem) throw layout.OutputRules.Error(this, o, problem);
    }

    public PipelineLayout Layout { get; }
    public string Dataset { get; }
    public StageConfig Config { get; }
    public string Name => Config.Name;
    public string Key => $"{Dataset}/{Name}";
    public IReadOnlyList<StageInstance> Upstreams { get; }
    public string RunDir { get; }
    public string RawDir { get; }
    public string CacheDir { get; }
    /// <summary>Every declared output, required first, then optional: what is guarded, cached, owned and cleaned.</summary>
    public IReadOnlyList<string> Outputs { get; }
    /// <summary>The outputs a successful run must have written (KDG3002 otherwise); optional ones may be absent.</summary>
    public IReadOnlyList<string> RequiredOutputs { get; }
    public bool IsOptional(int outputIndex) => outputIndex >= RequiredOutputs.Count;
    public IReadOnlyList<string> Inputs { get; }
    public string ManifestPath => Path.Combine(RunDir, ManifestFileName);
    public string LogDir => Path.Combine(RunDir, "logs");
    public string ParamsFilePath => Path.Combine(RunDir, "params.json");

    /// <summary>The command to run, values shell-quoted.</summary>
    public string RenderCommand() => CommandTemplate.Render(Config.Command, n => Lookup(n, fingerprint: false), shell: true, $"stage '{Name}' command");

    /// <summary>The command as the fingerprint sees it: paths inside the root relative to it, outside it absolute, so clones and shared caches agree.</summary>
    public string RenderCommandForFingerprint() => CommandTemplate.Render(Config.Command, n => Lookup(n, fingerprint: true), shell: true, $"stage '{Name}' command");

    /// <summary>
    /// Every path the stage names, for <see cref="DependencyCheck"/>: path placeholders in the
    /// command, absolute words of the rendered command (<c>{root}/data/cache/x</c>), inputs, outputs.
    /// Rendering the command here also makes its placeholder errors load-time errors.
    /// </summary>
    internal IEnumerable<(string What, string Path)> ReferencedPaths()
    {
        var named = new List<(string, string)>();
        var text = CommandTemplate.Render(Config.Command, n =>
        {
            var v = Lookup(n, fingerprint: false);
            if (v is { Raw: false } x && n is not ("root" or "tools") && Path.IsPathRooted(x.Text)) named.Add(("command", x.Text));
            return v;
        }, shell: false, $"stage '{Name}' command");
        foreach (var word in CommandWords.Split(text))
            if (word.StartsWith('/')) named.Add(("command", word));
        return named.Concat(Inputs.Select(i => ("inputs", i))).Concat(Outputs.Select(o => ("outputs", o)));
    }

    private static readonly System.Text.RegularExpressions.Regex CommandWords = new(@"[\s'""=;&|<>()`,]+", System.Text.RegularExpressions.RegexOptions.Compiled);

    private string RenderPath(string template, string where) => CommandTemplate.Render(template, n => Lookup(n, fingerprint: false), shell: false, where);

    private CommandTemplate.Value? Lookup(string name, bool fingerprint)
    {
        CommandTemplate.Value P(string full) => new(fingerprint ? PathText.ForFingerprint(Layout.Root, full) : full);
        switch (name)
        {
            case "dataset": return new(Dataset);
            case "stage" or "run": return new(Name);
            case "root": return new(fingerprint ? "<root>" : Layout.Root);
            case "tools": return new(fingerprint ? "<tools>" : Layout.ToolsDir);
            case "run_dir": return P(RunDir);
            case "raw_dir": return P(RawDir);
            case "cache_dir": return P(CacheDir);
            case "params_file": return P(ParamsFilePath);
            case "teacher":
                return Config.Teacher is null ? null : P(Upstreams.First(u => u.Name == Config.Teacher).RunDir);
        }
        if (name.StartsWith("params.", StringComparison.Ordinal))
            return Config.Params.TryGetValue(name[7..], out var v) ? new(v.Text) : null;
        if (name.StartsWith("vars.", StringComparison.Ordinal))
            return Layout.Config.Vars.TryGetValue(name[5..], out var t) ? new(t, Raw: true) : null;
        if (name.StartsWith("upstream.", StringComparison.Ordinal))
        {
            var up = Upstreams.FirstOrDefault(u => u.Name == name[9..]);
            if (up is null && Layout.Config.Stages.ContainsKey(name[9..])) throw DependencyCheck.NotNeeded(Config, Layout.Config.File, name[9..]);
            return up is null ? null : P(up.RunDir);
        }
        return null;
    }

    public override string ToString() => Key;
}

/// <summary>Where things live for one pipeline: root, run dirs, tools, KdGat's own state.</summary>
public sealed class PipelineLayout
{
    public PipelineLayout(PipelineConfig config, string toolsDir)
    {
        Config = config;
        Root = Path.GetFullPath(config.Root);
        ToolsDir = Path.GetFullPath(toolsDir);
        RunsRoot = Path.GetFullPath(Path.Combine(Root, config.RunsDir));
        StateDir = Path.Combine(Root, ".kdgat");
    }

    public PipelineConfig Config { get; }
    public string Root { get; }
    public string ToolsDir { get; }
    public string RunsRoot { get; }
    /// <summary>.kdgat/: hash cache, last-build.json, run records, the index database.</summary>
    public string StateDir { get; }
    /// <summary>The persistent hash cache (content hashes by file identity), shared by builds, Explain and Status.</summary>
    public string HashCacheFile => Path.Combine(StateDir, "hash-cache.tsv");

    public string Resolve(string template, string dataset) =>
        Path.GetFullPath(Path.Combine(Root, CommandTemplate.Render(template, n => n switch
        {
            "dataset" => new CommandTemplate.Value(dataset),
            "root" => new CommandTemplate.Value(Root),
            _ => null,
        }, shell: false, "paths")));

    private OutputRules? _outputRules;
    /// <summary>Where outputs may be, against every dataset of the configuration (built once).</summary>
    internal OutputRules OutputRules => _outputRules ??= new OutputRules(this);

    /// <summary>
    /// Two stage instances may not write the same place, nor one into the other's run dir. Checked
    /// against the instances before it through path maps, so a large DAG costs O(n log n)
    /// instead of comparing every pair.
    /// </summary>
    private sealed class OverlapIndex
    {
        private readonly PathMap<StageInstance> _outputs = new();
        private readonly PathMap<StageInstance> _runDirs = new();

        /// <summary>An earlier instance whose output or run dir overlaps output <paramref name="o"/>, or null.</summary>
        private StageInstance? Conflict(string o) =>
            // an earlier output equal to o or above it, or an earlier run dir above it, or an earlier output below o
            _outputs.AtOrAbove(o).Concat(_runDirs.AtOrAbove(o)).Concat(_outputs.Below(o)).Select(e => e.Value).FirstOrDefault();

        public (string Normalized, StageInstance? Other)[] Check(StageInstance inst) =>
            inst.Outputs.Select(o => (PathMap<StageInstance>.Normalize(o), Conflict(o))).ToArray();

        public void Add(StageInstance inst)
        {
            foreach (var o in inst.Outputs) _outputs.Add(o, inst);
            _runDirs.Add(inst.RunDir, inst);
        }
    }

    private void CheckNoOverlap(StageInstance inst, OverlapIndex earlier)
    {
        foreach (var (o, other) in earlier.Check(inst))
            if (other is not null)
                throw new KdgException(ErrorCodes.UnsafeOutputPath,
                    $"stage '{inst.Name}': output '{PathText.ToStored(Root, o)}' overlaps an output or the run dir of {other.Key}. Give each stage (and each dataset) outputs of its own, e.g. under {{run_dir}} or a path with {{dataset}}.",
                    Config.File, inst.Config.Line, inst.Config.Column);
    }

    /// <summary>Stage instances for every dataset, in dependency order; refuses undeclared dependencies (<see cref="DependencyCheck"/>).</summary>
    public IReadOnlyList<StageInstance> Instantiate(StageGraph graph, IReadOnlyList<string> datasets)
    {
        var all = new List<StageInstance>();
        var index = new OverlapIndex();
        foreach (var d in datasets)
        {
            var byName = new Dictionary<string, StageInstance>(StringComparer.Ordinal);
            foreach (var s in graph.Stages)
            {
                var inst = new StageInstance(this, d, Config.Stages[s.Name], s.Needs.Select(n => byName[n]).ToArray());
                CheckNoOverlap(inst, index);
                index.Add(inst);
                byName[s.Name] = inst;
                all.Add(inst);
            }
            DependencyCheck.Verify(byName.Values.ToArray());
        }
        return all;
    }
}
