using KdGat.Core.Config;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>Config, selected datasets, stage graph and instances: what every entry point starts from.</summary>
public sealed record LoadedPipeline(PipelineConfig Config, IReadOnlyList<string> Datasets, StageGraph Graph, PipelineLayout Layout, IReadOnlyList<StageInstance> Instances)
{
    public static LoadedPipeline Load(BuildRequest request)
    {
        var root = Path.GetFullPath(request.Root);
        var config = ConfigLoader.Load(Path.GetFullPath(Path.Combine(root, request.ConfigFile)), root);
        var datasets = DatasetName.Select(request.Datasets, config.Datasets, config.File);
        var graph = StageGraph.Build(request.Stages, config, request.PipelineFile);
        if (!string.IsNullOrWhiteSpace(request.OnlyStage))
            graph = request.StageWithDownstream
                ? graph.RestrictToDownstream(request.OnlyStage.Trim(), request.PipelineFile)
                : graph.RestrictTo(request.OnlyStage.Trim(), request.PipelineFile);
        var layout = new PipelineLayout(config, request.ToolsDir);
        return new LoadedPipeline(config, datasets, graph, layout, layout.Instantiate(graph, datasets));
    }
}
