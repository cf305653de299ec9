using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>Loads and validates kdgat.yaml. Every problem is a <see cref="KdgException"/> with file, line and column.</summary>
internal static class ConfigLoader
{
    private static readonly string[] TopKeys = ["executor", "max_parallel_stages", "datasets", "paths", "generator", "vars", "defaults", "slurm", "stages", "cache_store", "on_success", "on_failure", "trust_ctime"];
    private static readonly string[] StageKeys = ["command", "teacher", "params_file", "params", "inputs", "outputs", "optional_outputs", "code", "env", "resources", "cache", "retries", "setup", "executor", "sweep"];

    /// <summary>
    /// KDG1001 for a configuration path KdGat does not take as one (a line break, a NUL, longer than any
    /// path Linux opens): before any Path call, which throws its own ArgumentException at a NUL (KDG9001).
    /// </summary>
    public static void RequirePath(string file)
    {
        if (MissingPath.NotAPath(file) is { } shape)
            throw new KdgException(ErrorCodes.ConfigNotFound, $"the configuration file's path (-p:KdGatConfig) is not taken as a path: it {shape}. Pass -p:KdGatConfig=<path of a YAML file>, or leave it out for kdgat.yaml beside the project.");
    }

    public static PipelineConfig Load(string file, string root)
    {
        RequirePath(file);
        file = Path.GetFullPath(file);
        var sources = new ConfigSources();
        var r = new YamlReader(file) { Sources = sources };
        var rootNode = YamlReader.LoadRoot(file, sources)
            ?? throw new KdgException(ErrorCodes.ConfigMissingKey, "the configuration file is empty. It needs at least 'datasets:' and 'stages:'.", file);
        var top = r.Mapping(rootNode, "the configuration");
        r.CheckKeys(top, "the configuration", TopKeys);

        var executor = (r.OptionalString(top, "executor", "configuration") ?? "local") switch
        {
            "local" => ExecutorKind.Local,
            "slurm" => ExecutorKind.Slurm,
            var other => throw r.Error(ErrorCodes.ConfigWrongType, r.Get(top, "executor")!, $"'executor' must be 'local' or 'slurm', not '{other}'."),
        };

        var datasetsNode = r.Get(top, "datasets") ?? throw r.Error(ErrorCodes.ConfigMissingKey, top, "the configuration needs 'datasets:', a list of dataset names.");
        var datasets = r.StringList(top, "datasets", "configuration");
        foreach (var d in datasets)
            if (!DatasetName.IsValid(d))
                throw r.Error(ErrorCodes.InvalidDatasetName, datasetsNode, $"invalid dataset name '{d}' under 'datasets'. Use letters, digits, '_', '.' or '-', starting with a letter or digit.");
        if (datasets.Count == 0) throw r.Error(ErrorCodes.ConfigMissingKey, datasetsNode, "'datasets' is empty. List at least one dataset.");
        if (datasets.GroupBy(d => d, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw r.Error(ErrorCodes.InvalidDatasetName, datasetsNode, $"dataset '{twice.Key}' is listed twice under 'datasets'. List each dataset once.");

        string runs = "experimentruns", raw = "data/automotive/{dataset}", cache = "data/cache/{dataset}";
        (int Line, int Column)? rawAt = null;
        var rawSet = false;
        if (r.Get(top, "paths") is { } pathsNode && !YamlReader.IsNull(pathsNode))
        {
            var paths = r.Mapping(pathsNode, "paths");
            r.CheckKeys(paths, "paths", "runs", "raw", "cache");
            runs = r.OptionalPath(paths, "runs", "paths") ?? runs;
            raw = r.OptionalPath(paths, "raw", "paths") ?? raw;
            cache = r.OptionalPath(paths, "cache", "paths") ?? cache;
            // An unknown placeholder here was said at the first stage's command (a review): at the value.
            foreach (var (key, value) in new[] { ("raw", raw), ("cache", cache) })
                if (r.Get(paths, key) is { } node)
                    try { PipelineLayout.RenderPathsEntry(value, "dataset", root, $"paths.{key}"); }
                    catch (KdgException e) when (e.File is null) { throw r.Error(e.Code, node, e.Message); }
            // KDG1103 points at the raw value, or at the 'paths' key when raw is left at its default.
            var rawNode = r.Get(paths, "raw");
            rawSet = rawNode is not null && !YamlReader.IsNull(rawNode);
            var at = rawSet ? rawNode!.Start
                : top.Children.Keys.First(k => k is YamlScalarNode { Value: "paths" }).Start;
            rawAt = ((int)at.Line, (int)at.Column);
        }

        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.Get(top, "vars") is { } varsNode && !YamlReader.IsNull(varsNode))
            foreach (var (k, v) in r.Mapping(varsNode, "vars").Children)
                vars[r.Scalar(k, "vars")] = r.Scalar(v, $"vars.{r.Scalar(k, "vars")}");

        var defaults = ReadDefaults(r, r.Get(top, "defaults"), root);
        var stagesNode = r.Get(top, "stages") ?? throw r.Error(ErrorCodes.ConfigMissingKey, top, "the configuration needs 'stages:', one entry per stage target in the pipeline.");
        var stages = new Dictionary<string, StageConfig>(StringComparer.Ordinal);
        foreach (var (k, v) in r.Mapping(stagesNode, "stages").Children)
        {
            var name = r.Scalar(k, "stage name");
            if (!StageName.IsValid(name))
                throw r.Error(ErrorCodes.InvalidStageName, k, $"invalid stage name '{name}' under 'stages'. Use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit; no '/', spaces, '..' or shell characters. Rename the entry here and the stage's KdGatStage item in the pipeline.");
            if (StageName.IsReservedMetadata(name))
                throw r.Error(ErrorCodes.InvalidStageName, k, $"stage name '{name}' is one of MSBuild's reserved item metadata names (Identity, Filename, Extension, FullPath, Directory, ... in any case), and KdGat's stamp items name one metadata after each stage, so MSBuild would stop every build (MSB3031). Rename the entry here and the stage's KdGatStage item in the pipeline (e.g. '{name}_stage').");
            // MSBuild's item metadata (each stage's stamp) and target names ignore case: 'report' and 'Report' were one to it, and every
            // build warned KDG1012 that one of them never ran (a first-week review).
            if (stages.Keys.FirstOrDefault(other => string.Equals(other, name, StringComparison.OrdinalIgnoreCase)) is { } other)
                throw r.Error(ErrorCodes.InvalidStageName, k, $"stage '{name}' differs from stage '{other}' only in case, and MSBuild, whose item metadata and target names ignore case, cannot tell them apart. Rename one of them here and its KdGatStage item in the pipeline.");
            stages[name] = ReadStage(r, name, v, defaults, root, sources);
        }

        return new PipelineConfig
        {
            DatasetsAt = YamlReader.At(datasetsNode),
            StagesAt = YamlReader.At(stagesNode),
            File = file,
            Root = root,
            Executor = executor,
            MaxParallelStages = r.OptionalInt(top, "max_parallel_stages", "configuration") ?? 0,
            Datasets = datasets,
            RunsDir = runs,
            RawDir = raw,
            RawAt = rawAt,
            RawIsDefault = !rawSet,
            CacheDir = cache,
            Generator = r.OptionalString(top, "generator", "configuration"),
            GeneratorAt = YamlReader.At(r.Get(top, "generator")),
            CacheStore = r.OptionalPath(top, "cache_store", "configuration"),
            CacheStoreAt = YamlReader.At(r.Get(top, "cache_store")),
            OnSuccess = r.OptionalString(top, "on_success", "configuration"),
            OnFailure = r.OptionalString(top, "on_failure", "configuration"),
            TrustCtime = r.OptionalBool(top, "trust_ctime", "configuration") ?? false,
            Vars = vars,
            Stages = stages,
            Slurm = ReadSlurm(r, r.Get(top, "slurm")),
            Sources = sources,
        };
    }

    private sealed record Defaults(IReadOnlyList<(string Value, int Line, int Column)> Code, IReadOnlyList<string> Env, ResourceSpec Resources, bool? Cache, int? Retries, IReadOnlyList<SweepDimension> Sweep);

    private static Defaults ReadDefaults(YamlReader r, YamlNode? node, string root)
    {
        if (node is null || YamlReader.IsNull(node)) return new([], [], new ResourceSpec(), null, null, []);
        var map = r.Mapping(node, "defaults");
        r.CheckKeys(map, "defaults", "code", "env", "resources", "cache", "retries", "sweep");
        var res = r.Get(map, "resources") is { } rn && !YamlReader.IsNull(rn) ? ResourceParser.Read(r, rn, "defaults.resources") : new ResourceSpec();
        return new(r.PathListAt(map, "code", "defaults"), r.EnvNameList(map, "env", "defaults"), res,
            r.OptionalBool(map, "cache", "defaults"), r.OptionalInt(map, "retries", "defaults"),
            r.Get(map, "sweep") is { } sw ? SweepReader.Read(r, sw, "defaults.sweep", root) : []);
    }

    private static StageConfig ReadStage(YamlReader r, string name, YamlNode node, Defaults d, string root, ConfigSources sources)
    {
        var what = $"stage '{name}'";
        var map = r.Mapping(node, what);
        r.CheckKeys(map, what, StageKeys);
        var parameters = new SortedDictionary<string, ParamValue>(StringComparer.Ordinal);
        var paramSources = new Dictionary<string, string>(StringComparer.Ordinal);
        var paramsFile = r.OptionalPath(map, "params_file", what);
        if (paramsFile is not null)
            ParamsReader.ReadFile(Path.GetFullPath(Path.Combine(root, paramsFile)), parameters, name, r.File, r.Get(map, "params_file")!, r, paramSources, root, sources);
        if (r.Get(map, "params") is { } p && !YamlReader.IsNull(p))
            ParamsReader.Flatten(r, r.Mapping(p, $"{what}.params"), "", parameters, paramSources, root, ErrorCodes.YamlSyntax);

        var outputs = r.PathListAt(map, "outputs", what);
        if (outputs.Count == 0)
            throw r.Error(ErrorCodes.ConfigMissingKey, map, $"{what} declares no 'outputs'. List the files or directories it writes (relative to its run dir), so KdGat can tell whether it is up to date.");
        var optionalOutputs = r.PathListAt(map, "optional_outputs", what);
        foreach (var o in outputs.Concat(optionalOutputs))
            if (o.Value.Split('/', '\\').Contains("..") || Path.IsPathRooted(o.Value) || o.Value.StartsWith('~'))
                throw new KdgException(ErrorCodes.UnsafeOutputPath, $"{what}: output '{o.Value}' may not contain '..' or be an absolute path. Outputs live in the run dir or under a path placeholder such as {{cache_dir}}.", r.File, o.Line, o.Column);
            // A pattern was accepted, and every instance ran and then failed with KDG3002 (no file named '*.txt'; a first-week review).
            else if (Hashing.Glob.HasWildcard(o.Value))
                throw new KdgException(ErrorCodes.UnsafeOutputPath, $"{what}: output '{o.Value}' is a pattern, but outputs are paths: KdGat hashes, moves aside and caches exactly what is listed. " +
                    "Name each file, or the folder that holds them (e.g. 'plots' for plots/*.png).", r.File, o.Line, o.Column);
        var inputs = r.PathListAt(map, "inputs", what);

        // A pattern in defaults.code and the stage's own: the first, where it is written first.
        var code = d.Code.Concat(r.PathListAt(map, "code", what)).DistinctBy(c => c.Value, StringComparer.Ordinal).ToArray();
        var resources = r.Get(map, "resources") is { } rn && !YamlReader.IsNull(rn)
            ? d.Resources.OverriddenBy(ResourceParser.Read(r, rn, $"{what}.resources"))
            : d.Resources;

        return new StageConfig
        {
            Name = name,
            Command = r.RequiredString(map, "command", what),
            CommandAt = YamlReader.At(r.Get(map, "command")), // there: Command above refuses an entry without one
            Teacher = r.OptionalString(map, "teacher", what),
            ParamsFile = paramsFile,
            Params = parameters,
            ParamSources = paramSources,
            Inputs = inputs.Select(i => i.Value).ToArray(),
            InputsAt = inputs.Select(i => (i.Line, i.Column)).ToArray(),
            Outputs = outputs.Select(o => o.Value).ToArray(),
            OptionalOutputs = optionalOutputs.Select(o => o.Value).ToArray(),
            OutputsAt = outputs.Concat(optionalOutputs).Select(o => (o.Line, o.Column)).ToArray(),
            Code = code.Select(c => c.Value).ToArray(),
            CodeAt = code.ToDictionary(c => c.Value, c => (c.Line, c.Column), StringComparer.Ordinal),
            Env = d.Env.Concat(r.EnvNameList(map, "env", what)).Distinct().ToArray(),
            Resources = resources,
            Cache = r.OptionalBool(map, "cache", what) ?? d.Cache ?? true,
            Retries = r.OptionalInt(map, "retries", what) ?? d.Retries ?? 2,
            Setup = r.StringList(map, "setup", what),
            SetupAt = YamlReader.At(r.Get(map, "setup")),
            // A stage's own sweep: replaces defaults.sweep (sweep: {} opts out of it).
            Sweep = r.Get(map, "sweep") is { } sw ? SweepReader.Read(r, sw, $"{what}.sweep", root) : d.Sweep,
            Executor = r.OptionalString(map, "executor", what) switch
            {
                null => null,
                "local" => ExecutorKind.Local,
                var other => throw r.Error(ErrorCodes.ConfigWrongType, r.Get(map, "executor")!, $"'{what}.executor' can only be 'local' (run this stage on the build's machine inside a SLURM build), not '{other}'. Remove the key to follow the build's executor."),
            },
            Line = (int)node.Start.Line,
            Column = (int)node.Start.Column,
        };
    }

    private static SlurmConfig ReadSlurm(YamlReader r, YamlNode? node)
    {
        if (node is null || YamlReader.IsNull(node)) return new SlurmConfig();
        var map = r.Mapping(node, "slurm");
        r.CheckKeys(map, "slurm", "poll_seconds", "max_poll_seconds", "max_marker_seconds", "extra", "max_jobs", "latency_wait");
        var c = new SlurmConfig();
        return c with
        {
            PollSeconds = r.OptionalDouble(map, "poll_seconds", "slurm") ?? c.PollSeconds,
            MaxPollSeconds = r.OptionalDouble(map, "max_poll_seconds", "slurm") ?? c.MaxPollSeconds,
            MaxMarkerSeconds = r.OptionalDouble(map, "max_marker_seconds", "slurm") ?? c.MaxMarkerSeconds,
            Extra = ResourceParser.ReadExtra(r, map, "slurm"),
            MaxJobs = r.OptionalInt(map, "max_jobs", "slurm") ?? c.MaxJobs,
            LatencyWaitSeconds = r.OptionalInt(map, "latency_wait", "slurm") ?? c.LatencyWaitSeconds,
        };
    }
}
