using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>Where things live for one pipeline: root, run dirs, tools, KdGat's own state.</summary>
public sealed partial class PipelineLayout
{
    public PipelineLayout(PipelineConfig config, string toolsDir)
    {
        Config = config;
        Root = Path.GetFullPath(config.Root);
        ToolsDir = Path.GetFullPath(toolsDir);
        RunsRoot = Path.GetFullPath(Path.Combine(Root, config.RunsDir));
        StateDir = Path.Combine(Root, StateDirName);
    }

    public PipelineConfig Config { get; }
    public string Root { get; }
    public string ToolsDir { get; }

    /// <summary>
    /// What the tools in <see cref="ToolsDir"/> are, for the fingerprint of a command that names
    /// {tools} without a program after it: every file below the folder, by relative path and content
    /// (such a command may run or read anything there). The path itself stays out, and the bootstrap
    /// builds reproducibly, so clones agree. Not the bootstrap's stamp of the sources: MSBuild's
    /// incremental compile skipped a source edited with an old file time while the stamp named it, so
    /// results of the old code were recorded as the new code's (a review). Before that, the
    /// fingerprint had the word "&lt;tools&gt;" alone: stages run on tools built from other sources
    /// (-p:KdGatSkipBootstrap=true after an edit) stayed up to date.
    /// </summary>
    public string ToolsIdentity => _toolsIdentity ??= IdentityOf(ToolsDir);
    private string? _toolsIdentity;

    /// <summary>{tools} in a command rendered for its fingerprint, until <see cref="ToolsInFingerprint"/> puts what it stands for in.</summary>
    internal const string ToolsMarker = "<kdgat-tools>";

    /// <summary>
    /// {tools}/NAME.dll in a fingerprint's command text, as a whole shell word, stands for what
    /// running that program loads (<see cref="ProgramIdentity"/>: the DLL, its runtimeconfig and
    /// deps.json, and the assets its deps.json lists), so an edit of KdGat.Core, which the sample does
    /// not load, reruns none of its stages, and a stray DLL in the folder changes nothing; any other
    /// {tools} stands for the whole folder. Both with the .NET runtime this process runs on (the
    /// programs roll forward to its patch), as the bootstrap's stamp had the SDK.
    /// </summary>
    /// <param name="now">Hashed again now instead of as this build first found them: whether a run saw the tools its fingerprint has
    /// (another build's bootstrap may replace them while a stage runs).</param>
    /// <summary>How a fingerprint's command text names the tools (<see cref="ToolsInFingerprint"/>'s "&lt;tools ...&gt;").</summary>
    internal const string ToolsInCommand = "<tools ";

    internal string ToolsInFingerprint(string text, bool now = false) => !text.Contains(ToolsMarker, StringComparison.Ordinal) ? text
        : ToolReference().Replace(text, m => m.Groups[1].Success
            ? $"<tools {(now ? ProgramIdentityNow(m.Groups[1].Value, () => IdentityOf(ToolsDir)) : ProgramIdentity(m.Groups[1].Value))}>/{m.Groups[1].Value}"
            : $"<tools {(now ? IdentityOf(ToolsDir) : ToolsIdentity)}>");

    /// <summary>A fingerprint's command with each {tools} identity (<see cref="ToolsInFingerprint"/>'s "&lt;tools ...&gt;") left out: equal texts differ only in the programs.</summary>
    internal static string WithoutToolIdentities(string command) =>
        ToolIdentity().Replace(command, m => m.Groups[1].Success ? "<tools>/" + m.Groups[1].Value : "<tools>");

    /// <summary>The programs a fingerprint's command runs from the tools folder ("{tools}" for the whole folder).</summary>
    internal static string ToolProgramsIn(string command)
    {
        var names = ToolIdentity().Matches(command).Select(m => m.Groups[1].Success ? m.Groups[1].Value : "{tools}").Distinct(StringComparer.Ordinal).ToArray();
        return names.Length == 0 ? "{tools}" : string.Join(", ", names);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"<tools [^>]*>(?:/([A-Za-z0-9_.+-]+\.dll))?")]
    private static partial System.Text.RegularExpressions.Regex ToolIdentity();

    /// <summary>
    /// The marker (single-quoted, or bare inside the author's own quotes), and a DLL name after it
    /// when the name ends the shell word, a closing quote at most between (x.dll'.bak' or x.dll* run another file).
    /// </summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"'?<kdgat-tools>'?(?:/([A-Za-z0-9_.+-]+\.dll)(?=$|[\s;&|<>()]|[""'](?:$|[\s;&|<>()])))?")]
    private static partial System.Text.RegularExpressions.Regex ToolReference();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _programIdentities = new(StringComparer.Ordinal);

    /// <summary>What a program in the tools folder loads, as content; the whole folder's identity when that cannot be told (no deps.json: the host may load any DLL beside it).</summary>
    private string ProgramIdentity(string dll) => _programIdentities.GetOrAdd(dll, d => ProgramIdentityNow(d, () => ToolsIdentity));

    /// <summary>The program's closure as it is now, else <paramref name="folder"/> (the whole folder's identity: this build's, or hashed now).</summary>
    private string ProgramIdentityNow(string dll, Func<string> folder) => ClosureOf(ToolsDir, dll) ?? folder();

    /// <summary>
    /// Whether the tools are still what <see cref="ToolsIdentity"/> and every program's identity said
    /// (true when never asked): a pipeline kept for the next build of a long-lived process is reused
    /// only then, since a rebuild of the sample alone (its csproj) leaves the tasks' assemblies, and so KDG1209, as they were.
    /// </summary>
    public bool ToolsUnchanged()
    {
        var folder = new Lazy<string>(() => IdentityOf(ToolsDir)); // the whole folder hashed once, and only when asked
        return (_toolsIdentity is null || _toolsIdentity == folder.Value)
            && _programIdentities.All(p => p.Value == ProgramIdentityNow(p.Key, () => folder.Value));
    }

    private static string Runtime => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    private static string IdentityOf(string toolsDir)
    {
        try
        {
            if (!NoOp.FileObservations.DirectoryExists(toolsDir)) return "none";
            var entries = PathHasher.Walk(toolsDir).Select(e => e.Kind == PathKind.File
                ? FileEntry(toolsDir, Path.GetRelativePath(toolsDir, e.Path))
                : KeyValuePair.Create(Path.GetRelativePath(toolsDir, e.Path), e.Kind + " " + e.LinkTarget));
            return $"tree {Runtime}:" + ContentHash.OfEntries(entries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KdgException)
        {
            return "unreadable"; // as a stage running them would find them: the fingerprint changes when they become readable
        }
    }

    /// <summary>
    /// The program <paramref name="dll"/> with its NAME.runtimeconfig.json, NAME.deps.json and the
    /// assets that deps.json lists (runtime assemblies and native libraries beside it, RID-specific and
    /// satellite assets under their relative paths: what the .NET host loads from the folder); null
    /// without a deps.json, or one that cannot be read.
    /// </summary>
    private static string? ClosureOf(string toolsDir, string dll)
    {
        if (ClosureNames(toolsDir, dll) is not var (names, depsBytes)) return null;
        try
        {
            // deps.json as read (its list and its digest from the same bytes), the rest as they are now.
            var entries = names.Select(n => FileEntry(toolsDir, n)).Append(KeyValuePair.Create(dll[..^".dll".Length] + ".deps.json", ContentHash.OfBytes(depsBytes)));
            return $"program {Runtime}:" + ContentHash.OfEntries(entries.OrderBy(e => e.Key, StringComparer.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The names (relative to the tools folder) of what running <paramref name="dll"/> loads, deps.json aside, and that deps.json's bytes; null when it cannot be told.</summary>
    private static (SortedSet<string> Names, byte[] DepsBytes)? ClosureNames(string toolsDir, string dll)
    {
        var stem = dll[..^".dll".Length];
        var deps = Path.Combine(toolsDir, stem + ".deps.json");
        try
        {
            if (PathStat.Of(deps).Kind != PathKind.File) return null;
            var bytes = SmallFile.ReadAllBytes(deps, 16 << 20);
            var names = new SortedSet<string>(StringComparer.Ordinal) { dll, stem + ".runtimeconfig.json" };
            using (var doc = System.Text.Json.JsonDocument.Parse(bytes))
                foreach (var target in doc.RootElement.GetProperty("targets").EnumerateObject())
                    foreach (var library in target.Value.EnumerateObject())
                    {
                        foreach (var (kind, inFolder) in new[] { ("runtime", false), ("native", false), ("runtimeTargets", true), ("resources", true) })
                            if (library.Value.TryGetProperty(kind, out var assets))
                                foreach (var asset in assets.EnumerateObject()) names.Add(inFolder ? asset.Name : Path.GetFileName(asset.Name));
                    }
            return (names, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The files of the tools folder a command (rendered with <see cref="ToolsMarker"/>) runs, as
    /// <see cref="ToolsInFingerprint"/> counts them: each {tools}/NAME.dll's closure with its deps.json;
    /// null for the whole folder (a bare {tools}, or a closure that cannot be told); empty without {tools}.
    /// </summary>
    internal IReadOnlyList<string>? ToolFilesIn(string text)
    {
        if (!text.Contains(ToolsMarker, StringComparison.Ordinal)) return [];
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (System.Text.RegularExpressions.Match m in ToolReference().Matches(text))
        {
            if (!m.Groups[1].Success || ClosureNames(ToolsDir, m.Groups[1].Value) is not var (names, _)) return null;
            files.UnionWith(names.Append(m.Groups[1].Value[..^".dll".Length] + ".deps.json").Select(n => Path.Combine(ToolsDir, n)));
        }
        return [.. files];
    }

    /// <summary>A file's name and content with its x bit (observed: its identity vouches for it); "-" for one missing or not a regular file (a FIFO named x.dll would block the open).</summary>
    private static KeyValuePair<string, string> FileEntry(string dir, string relative)
    {
        var path = Path.Combine(dir, relative);
        var stat = PathStat.Of(path);
        return KeyValuePair.Create(relative, stat.Kind == PathKind.File ? PathHasher.WithMode(ContentHash.OfFile(path), stat.Executable) : "-");
    }

    public string RunsRoot { get; }
    /// <summary>.kdgat/: hash cache, last-build.json, run records, the index database.</summary>
    public string StateDir { get; }
    /// <summary>The persistent hash cache (content hashes by file identity), shared by builds, Explain and Status.</summary>
    public string HashCacheFile => Path.Combine(StateDir, "hash-cache.tsv");

    /// <summary>The name of KdGat's state directories: one at the root, one per dataset under the runs dir.</summary>
    public const string StateDirName = ".kdgat";

    /// <summary>{runs}/{dataset}/.kdgat/: per-instance journals and locks, the dataset's build lock, generator logs.</summary>
    public string DatasetStateDir(string dataset) => Path.Combine(RunsRoot, dataset, StateDirName);

    public string Resolve(string template, string dataset) =>
        StageInstance.Declared(Root, RenderPathsEntry(template, dataset, Root, $"paths entry '{template}'"), $"paths entry '{template}'");

    /// <summary>A paths: value with {dataset} and {root} filled in (ConfigLoader checks each one this way, at its value).</summary>
    internal static string RenderPathsEntry(string template, string dataset, string root, string where) =>
        CommandTemplate.Render(template, n => n switch
        {
            "dataset" => new CommandTemplate.Value(dataset),
            "root" => new CommandTemplate.Value(root),
            _ => null,
        }, shell: false, where, () => ["dataset", "root"], "{dataset}, {root}");

    private OutputRules? _outputRules;
    /// <summary>Where outputs may be, against every dataset of the configuration (built once).</summary>
    internal OutputRules OutputRules => _outputRules ??= new OutputRules(this);

    private HashSet<string>? _writtenFolders;
    /// <summary>
    /// The folders stages write: the runs folder and each dataset's own cache dir, below the root. A code glob's
    /// wildcard does not reach into them (<see cref="Hashing.Glob.Expand"/>): what a stage writes there is an output,
    /// not code; matched by `**/*.py`, a stage's own generated gen.py changed its code as it ran (KDG3020) in every
    /// build, so it never settled (a review), and the walk listed every run dir.
    /// </summary>
    internal IReadOnlySet<string> WrittenFolders => _writtenFolders ??= OwnCacheDirs().Select(c => c.Dir)
        .Append(PathMap<object>.Normalize(RunsRoot)).Where(f => IO.PathText.IsUnder(f, Root) && f.Length > PathMap<object>.Normalize(Root).Length)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Each dataset's cache dir that is its own (normalized); one several datasets share (paths.cache without {dataset}) holds no outputs (KDG1204).</summary>
    internal IEnumerable<(string Dataset, string Dir)> OwnCacheDirs() =>
        Config.Datasets.GroupBy(d => PathMap<object>.Normalize(Resolve(Config.CacheDir, d)), StringComparer.Ordinal).Where(g => g.Count() == 1).Select(g => (g.First(), g.Key));

    private DatasetAreas? _datasetAreas;
    /// <summary>Every configured dataset's run and cache folders and raw data (built once), for <see cref="DependencyCheck"/>.</summary>
    internal DatasetAreas DatasetAreas => _datasetAreas ??= new DatasetAreas(this);

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
                    $"stage '{inst.Name}': output '{PathText.ToStored(Root, o)}' overlaps an output or the run dir of {other.Key}. " +
                    (other.Name == inst.Name && other.Dataset == inst.Dataset
                        // two points of one swept stage: {dataset} does not tell them apart (a swept preprocess writing to {cache_dir})
                        ? "Give each point of the sweep outputs of its own: under {run_dir} (one per point), or a path with {variant}."
                        : "Give each stage (and each dataset) outputs of its own, e.g. under {run_dir} or a path with {dataset}."),
                    Config.File, inst.PlaceOf(o).Line, inst.PlaceOf(o).Column);
    }

    /// <summary>
    /// Attempt ids, run record ids and SLURM job names and comments carry <see cref="StageInstance.Id"/>
    /// (dataset-stage.variant); run dirs, manifests, state dirs and record folders <see cref="StageInstance.Key"/>.
    /// Stage names are free text and dataset names may hold '.', '_' and '-', so two instances of one
    /// build can get the same one: stage 'a.b_1' and stage 'a' at b=1, or stage 'a-b' of dataset 'x' and
    /// stage 'b' of dataset 'x-a'. Then one's record is indexed as the other's (and the other's dropped),
    /// and a job found by its comment (a retried sbatch, an interrupted build re-attaching) is taken for the
    /// other's. KDG1034 within one stage's grid, KDG1035 across stages or datasets.
    /// </summary>
    private void CheckUnique(StageInstance inst, Dictionary<string, StageInstance> ids, Dictionary<string, StageInstance> keys)
    {
        var sameKey = keys.TryGetValue(inst.Key, out var other);
        if (sameKey || ids.TryGetValue(inst.Id, out other))
        {
            if (other!.Name == inst.Name && other.Dataset == inst.Dataset)
                throw new KdgException(ErrorCodes.SweepIdClash,
                    $"stage '{inst.Name}': two points of its sweep grid give the same job and record id '{inst.IdName}' (one is {inst.Variant}, the other {other.Variant}). Rename a sweep dimension or change a value so they differ other than by '=', ',' and '_'.",
                    Config.File, inst.Config.Line, inst.Config.Column);
            var what = sameKey
                ? $"the same run dir '{PathText.ToStored(Root, inst.RunDir)}' (manifest, logs, state and run records)"
                : $"the same attempt and run record id and SLURM job name '{inst.Id}'";
            var rename = other.Name == inst.Name ? $"Rename dataset '{inst.Dataset}' or '{other.Dataset}'"
                : other.Dataset == inst.Dataset ? $"Rename stage '{inst.Name}' or '{other.Name}' (its entry in {Path.GetFileName(Config.File)} and its KdGatStage item in the pipeline)"
                : $"Rename stage '{inst.Name}' or '{other.Name}' (its entry in {Path.GetFileName(Config.File)} and its KdGatStage item in the pipeline), or dataset '{inst.Dataset}' or '{other.Dataset}'";
            // The same run dir: a guard; names without '/' and '=' (KDG1101, KDG1105) keep a stage's dir apart from another's points.
            var why = sameKey ? ""
                : other.Dataset == inst.Dataset ? " (a '.' in a stage name reads as a sweep point of another stage: stage.dimension_value)"
                : " (a '-' in a stage or dataset name reads as the boundary between dataset and stage: dataset-stage)";
            throw new KdgException(ErrorCodes.InstanceIdClash,
                $"{Describe(inst)} and {Describe(other)} (at {Path.GetFileName(Config.File)}({other.Config.Line},{other.Config.Column})) get {what}, " +
                $"so the result, run record or job of one could be taken for the other's. {rename} so they differ{why}.",
                Config.File, inst.Config.Line, inst.Config.Column);
        }
        ids.Add(inst.Id, inst);
        keys.Add(inst.Key, inst);

        static string Describe(StageInstance i) => $"stage '{i.Name}'{(i.Sweep.IsEmpty ? "" : $" ({i.Variant})")} of dataset '{i.Dataset}'";
    }

    /// <summary>
    /// Stage instances for every dataset, in dependency order; refuses undeclared dependencies (<see cref="DependencyCheck"/>).
    /// A stage has one instance per point of its sweep grid: the points of its upstreams joined on
    /// the dimensions they share, times its own dimensions (one it also inherits keeps only its listed values).
    /// </summary>
    public IReadOnlyList<StageInstance> Instantiate(StageGraph graph, IReadOnlyList<string> datasets)
    {
        var all = new List<StageInstance>();
        var index = new OverlapIndex();
        var ids = new Dictionary<string, StageInstance>(StringComparer.Ordinal);
        var keys = new Dictionary<string, StageInstance>(StringComparer.Ordinal);
        foreach (var d in datasets)
        {
            var byName = new Dictionary<string, IReadOnlyList<StageInstance>>(StringComparer.Ordinal);
            var ofDataset = new List<StageInstance>();
            foreach (var s in graph.Stages)
            {
                var config = Config.Stages[s.Name];
                var mine = new List<StageInstance>();
                foreach (var (sweep, ups) in Points(config, s.Needs.Select(n => byName[n]).ToArray()))
                {
                    if (all.Count + ofDataset.Count + mine.Count >= MaxInstances) throw TooManyInstances(datasets.Count);
                    var inst = AtStage(Config.File, config, () => new StageInstance(this, d, config, ups, sweep));
                    CheckNameLength(inst, config);
                    CheckUnique(inst, ids, keys);
                    CheckNoOverlap(inst, index);
                    index.Add(inst);
                    mine.Add(inst);
                }
                byName[s.Name] = mine;
                ofDataset.AddRange(mine);
            }
            DependencyCheck.Verify(ofDataset);
            all.AddRange(ofDataset);
        }
        return all;
    }

    /// <summary>
    /// Longest instance id (dataset-stage.point, <see cref="StageInstance.Id"/>): its run records are named
    /// by it and ~60 characters more, and a point's run dir by its variant, under the 255-byte limit of a
    /// file name. A sweep of long values (a 300-character one, or three upstreams' dimensions joined) failed
    /// every stage as KDG3007/KDG3008 "path too long"; it is said when the configuration loads.
    /// </summary>
    public const int MaxIdLength = 190;

    private void CheckNameLength(StageInstance inst, StageConfig config)
    {
        if (inst.Id.Length <= MaxIdLength && inst.Variant.Length <= 240) return;
        throw new KdgException(ErrorCodes.SweepUnsafeValue,
            $"stage '{inst.Name}' (dataset {inst.Dataset}): its sweep point {inst.Variant} (with its upstreams' dimensions) makes names longer than a file name may be: " +
            $"its run records are named by dataset, stage and point, {inst.Id.Length} characters here, at most {MaxIdLength}. Use shorter sweep values (long ones belong in a params file the stage reads), fewer or shorter sweep names, or a shorter stage name.",
            Config.File, config.Line, config.Column);
    }

    /// <summary>
    /// Most stage instances one build plans (about 1 GB of memory): 600 datasets of 13 stages are
    /// 7,800, the largest sweep (1,000 points a stage) of 6 such datasets 78,000. A configuration of
    /// many thousand datasets, or datasets times sweep points, is refused (KDG1036) before it uses
    /// unbounded time and memory.
    /// </summary>
    public const int MaxInstances = 100_000;

    private KdgException TooManyInstances(int datasets) => new(ErrorCodes.TooManyInstances,
        $"this build would have more than {MaxInstances} stage instances ({datasets} dataset(s) times their stages and sweep points). " +
        "Build fewer datasets at a time (-p:Dataset=\"NAME NAME\"; every instance of the selected datasets is planned, whatever -p:Stage or -p:Sweep select), or sweep fewer values.",
        Config.File, Config.DatasetsAt.Line, Config.DatasetsAt.Column);

    /// <summary>The grid points of one stage and, for each, the upstream instances it reads (the ones whose points agree with it).</summary>
    private List<(SweepAssignment Sweep, StageInstance[] Upstreams)> Points(StageConfig config, IReadOnlyList<IReadOnlyList<StageInstance>> needs)
    {
        var points = new List<(SweepAssignment Sweep, StageInstance[] Upstreams)> { (SweepAssignment.None, []) };
        foreach (var candidates in needs)
        {
            var next = new List<(SweepAssignment, StageInstance[])>();
            foreach (var (sweep, ups) in points)
                foreach (var u in candidates)
                    if (u.Sweep.AgreesWith(sweep))
                    {
                        next.Add((sweep.Union(u.Sweep), [.. ups, u]));
                        if (next.Count > SweepReader.MaxGridPoints) throw TooLarge(config);
                    }
            points = next;
        }
        foreach (var dim in config.Sweep)
        {
            if (points.Count > 0 && points[0].Sweep.Get(dim.Name) is not null)
            {
                points = points.Where(p => dim.Values.Contains(p.Sweep.Get(dim.Name)!)).ToList(); // inherited: keep the listed values
                continue;
            }
            if ((long)points.Count * dim.Values.Count > SweepReader.MaxGridPoints) throw TooLarge(config);
            points = points.SelectMany(p => dim.Values.Select(v => (p.Sweep.With(new SweepItem(dim.Name, v, dim.Source)), p.Upstreams))).ToList();
        }
        if (points.Count == 0)
            throw new KdgException(ErrorCodes.SweepInvalid,
                $"stage '{config.Name}' has no instance: its sweep keeps none of the values its upstreams are swept over (or two upstreams share no point). List values its upstreams have, or remove the dimension from its sweep.",
                Config.File, config.Line, config.Column);
        return points;
    }

    /// <summary>A placeholder error in a stage's paths or command names the stage's entry in the configuration, file(line,col).</summary>
    /// <param name="at">A place inside the stage's entry the errors are about (its command); the entry itself by default.</param>
    internal static T AtStage<T>(string configFile, StageConfig config, Func<T> make, (int Line, int Column)? at = null)
    {
        try { return make(); }
        catch (KdgException e) when (e.File is null)
        {
            var (line, column) = at is { Line: > 0 } place ? place : (config.Line, config.Column);
            throw e.At(configFile, line, column);
        }
    }

    private KdgException TooLarge(StageConfig config) => new(ErrorCodes.SweepTooLarge,
        $"stage '{config.Name}': its sweep grid (its own dimensions times those of its upstreams) has more than {SweepReader.MaxGridPoints} instances per dataset. Sweep fewer values.",
        Config.File, config.Line, config.Column);
}
