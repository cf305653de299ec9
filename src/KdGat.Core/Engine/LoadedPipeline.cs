using KdGat.Core.Config;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>Config, selected datasets, stage graph and instances: what every entry point starts from.</summary>
internal sealed record LoadedPipeline(PipelineConfig Config, IReadOnlyList<string> Datasets, StageGraph Graph, PipelineLayout Layout, IReadOnlyList<StageInstance> Instances)
{
    public static LoadedPipeline Load(BuildRequest request)
    {
        var root = Path.GetFullPath(request.Root);
        var config = ConfigLoader.Load(Path.GetFullPath(Path.Combine(root, request.ConfigFile)), root);
        var datasets = DatasetName.Select(request.Datasets, config.Datasets, config.File, config.DatasetsAt);
        var graph = StageGraph.Build(request.Stages, config, request.PipelineFile);
        var layout = new PipelineLayout(config, request.ToolsDir);
        // Every declared stage is instantiated (and checked) even with -p:Stage, so a pipeline is valid or not whatever is selected.
        var instances = layout.Instantiate(graph, datasets);
        if (!string.IsNullOrWhiteSpace(request.OnlyStage))
        {
            graph = request.StageWithDownstream
                ? graph.RestrictToDownstream(request.OnlyStage.Trim(), request.PipelineFile)
                : graph.RestrictTo(request.OnlyStage.Trim(), request.PipelineFile);
            var selected = graph.Stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            instances = instances.Where(i => selected.Contains(i.Name)).ToArray();
        }
        var sweep = SweepSelection.Parse(request.Sweep, instances, config.File, request.GlobalPropertyNames);
        if (sweep is not null) instances = sweep.Apply(instances, config.File);
        return new LoadedPipeline(config, datasets, graph, layout, instances) { Sweep = sweep };
    }

    /// <summary>-p:Sweep as parsed; null when not given.</summary>
    public SweepSelection? Sweep { get; init; }
}
