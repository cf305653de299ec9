using KdGat.Core.Config;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>Config, selected datasets, stage graph and instances: what every entry point starts from.</summary>
internal sealed record LoadedPipeline(PipelineConfig Config, IReadOnlyList<string> Datasets, StageGraph Graph, PipelineLayout Layout, IReadOnlyList<StageInstance> Instances)
{
    public static LoadedPipeline Load(BuildRequest request)
    {
        var observed = new NoOp.FileObservations();
        using (NoOp.FileObservations.RecordAlso(observed))
            return LoadObserved(request) with { Observed = observed };
    }

    /// <summary>
    /// What the load asked the file system besides the configuration's bytes (a declared path's
    /// symlink before '..' is KDG1018, a glob's directories, the tools): a pipeline kept for a
    /// later build of the process is used again only while each is answered the same
    /// (<see cref="StillValid"/>; the MSBuild server skipped KDG1018 for a link made since: review).
    /// </summary>
    public NoOp.FileObservations Observed { get; init; } = new();

    /// <summary>Every configuration file has the bytes parsed, every variable its value, every file-system answer the load got is the same (and was one answer that can vouch: <see cref="NoOp.FileObservations.Usable"/>), and the tools are the same.</summary>
    public bool StillValid() => Observed.Usable && Config.Sources.Unchanged()
        // A configuration file's identity: its bytes were just compared (rewritten with the same bytes, it still serves).
        && Observed.StillAnswered((probe, path) => probe is NoOp.FileObservations.Probe.Stat or NoOp.FileObservations.Probe.Identity && Config.Sources.Holds(path))
        && Layout.ToolsUnchanged();

    private static LoadedPipeline LoadObserved(BuildRequest request)
    {
        var root = Path.GetFullPath(request.Root);
        var config = ConfigLoader.Load(Path.GetFullPath(Path.Combine(root, request.ConfigFile)), root);
        var datasets = DatasetName.Select(request.Datasets, config.Datasets, config.File, config.DatasetsAt, request.Given("Dataset"));
        var graph = StageGraph.Build(request.Stages, config, request.PipelineFile);
        var layout = new PipelineLayout(config, request.ToolsDir);
        RawData.CheckGenerator(config, layout.ToolsDir);
        // Every declared stage is instantiated (and checked) even with -p:Stage, so a pipeline is valid or not whatever is selected.
        var instances = layout.Instantiate(graph, datasets);
        if (!string.IsNullOrWhiteSpace(request.OnlyStage))
        {
            graph = request.StageWithDownstream
                ? graph.RestrictToDownstream(request.OnlyStage.Trim(), request.PipelineFile, request.Given("Stage"))
                : graph.RestrictTo(request.OnlyStage.Trim(), request.PipelineFile, request.Given("Stage"));
            var selected = graph.Stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            instances = instances.Where(i => selected.Contains(i.Name)).ToArray();
        }
        var sweep = SweepSelection.Parse(request.Sweep, instances, config.File, request.GlobalPropertyNames, request.Given("Sweep"));
        var grid = instances;
        if (sweep is not null) instances = sweep.Apply(instances, config.File, request.Given("Sweep"));
        return new LoadedPipeline(config, datasets, graph, layout, instances) { Sweep = sweep, Grid = grid };
    }

    /// <summary>-p:Sweep as parsed; null when not given.</summary>
    public SweepSelection? Sweep { get; init; }

    /// <summary>
    /// The instances before -p:Sweep narrowed them (every grid point of the selected stages and
    /// datasets): a view of a selection can say how much of the grid it covers ("n=1 of 3 seeds").
    /// </summary>
    public IReadOnlyList<StageInstance> Grid { get => _grid ?? Instances; init => _grid = value; }
    private readonly IReadOnlyList<StageInstance>? _grid;
}
