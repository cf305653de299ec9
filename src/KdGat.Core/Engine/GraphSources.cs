namespace KdGat.Core.Engine;

/// <summary>
/// What MSBuild makes the stage graph from, as far as the plan task can name it without
/// evaluating the project a second time: the stage names the project declares
/// (KdGatStageDefinition), every global property with its value, and the project files that hold
/// the stage targets (the project itself, KdGat's targets, and any file a pipeline adds as a
/// KdGatGraphFile item). The plan's no-op certificate is keyed by the first two and observes the
/// files, in place of the graph: so an edited Needs, a new stage target or another -p: value means
/// the full plan, and MSBuild runs the stage targets that plan says are stale. (The build task's
/// certificate key has the graph itself; it decides what runs in any case.)
/// </summary>
public sealed record GraphSources(IReadOnlyList<string> DefinedStages, IReadOnlyList<KeyValuePair<string, string>> GlobalProperties, IReadOnlyList<string> Files)
{
    public static readonly GraphSources None = new([], [], []);

    /// <summary>The plan certificate key's part of these (the files are observations, not key).</summary>
    internal string[] KeyParts() =>
    [
        .. DefinedStages.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(s => "stage:" + s),
        .. GlobalProperties.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => "global:" + p.Key + "=" + p.Value),
    ];
}
