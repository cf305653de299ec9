using KdGat.Core.Config;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tests.Support;

/// <summary>A pipeline root in a temp dir: kdgat.yaml written from a string, raw data present for each dataset.</summary>
public sealed class TestPipeline : IDisposable
{
    public TestPipeline(string yaml, params string[] rawDatasets)
    {
        Dir = new TempDir();
        WriteConfig(yaml);
        foreach (var d in rawDatasets) Dir.Write($"raw/{d}/frames.csv", $"frames of {d}\n");
    }

    public TempDir Dir { get; }
    public string Root => Dir.Path;
    public string ConfigFile => Dir["kdgat.yaml"];
    public string ToolsDir => Dir["tools"];

    public void WriteConfig(string yaml) => File.WriteAllText(ConfigFile, yaml);

    public PipelineConfig LoadConfig() => ConfigLoader.Load(ConfigFile, Root);

    public StageGraph Graph(IEnumerable<StageDeclaration> stages) => StageGraph.Build(stages, LoadConfig(), "pipeline.proj");

    public IReadOnlyList<StageInstance> Instances(IEnumerable<StageDeclaration> stages, params string[] datasets)
    {
        var config = LoadConfig();
        var graph = StageGraph.Build(stages, config, "pipeline.proj");
        return new PipelineLayout(config, ToolsDir).Instantiate(graph, datasets.Length > 0 ? datasets : config.Datasets);
    }

    public BuildRequest Request(IReadOnlyList<StageDeclaration> stages, string? datasets = null, int parallel = 2) => new()
    {
        Root = Root,
        ConfigFile = "kdgat.yaml",
        ToolsDir = ToolsDir,
        Stages = stages,
        Datasets = datasets,
        MaxParallelStages = parallel,
    };

    public void Dispose() => Dir.Dispose();
}
