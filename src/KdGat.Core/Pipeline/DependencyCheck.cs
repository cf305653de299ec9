using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>
/// The fingerprint of a stage covers the outputs of the stages in its Needs, and nothing else.
/// A stage that reads another stage's outputs without needing it (its command passes
/// <c>{cache_dir}</c>, a path under another run dir or output, or an <c>inputs:</c> entry there)
/// would stay "up to date" when those outputs change, so such a pipeline is refused when it loads,
/// before anything runs.
/// </summary>
internal static class DependencyCheck
{
    /// <summary>Checks the stage instances of one dataset (all of them, in dependency order).</summary>
    public static void Verify(IReadOnlyList<StageInstance> dataset)
    {
        var owners = new PathMap<StageInstance>(); // first added wins, as before
        foreach (var inst in dataset)
        {
            owners.Add(inst.RunDir, inst);
            foreach (var o in inst.Outputs) owners.Add(o, inst);
        }
        foreach (var inst in dataset)
        {
            var needs = inst.Upstreams.Select(u => u.Name).ToHashSet(StringComparer.Ordinal);
            var missing = new SortedDictionary<string, (string What, string Path)>(StringComparer.Ordinal);
            foreach (var (what, path) in PipelineLayout.AtStage(inst.Layout.Config.File, inst.Config, () => inst.ReferencedPaths().ToArray()))
                if (owners.AtOrAbove(path).Select(e => e.Value).FirstOrDefault() is { } owner && owner.Name != inst.Name && !needs.Contains(owner.Name))
                    missing.TryAdd(owner.Name, (what, path));
            if (missing.Count > 0) throw Undeclared(inst, missing);
        }
    }

    private static KdgException Undeclared(StageInstance inst, SortedDictionary<string, (string What, string Path)> missing)
    {
        var reads = string.Join("; ", missing.Select(m => $"its {m.Value.What} names '{PathText.ToStored(inst.Layout.Root, m.Value.Path)}', an output of stage '{m.Key}'"));
        var list = string.Join(";", missing.Keys);
        return new KdgException(ErrorCodes.UndeclaredDependency,
            $"stage '{inst.Name}' reads what another stage writes but does not need it ({reads}), so a change there would leave '{inst.Name}' wrongly up to date. " +
            $"Add {string.Join(", ", missing.Keys.Select(k => $"'{k}'"))} to Needs and to DependsOnTargets of target '{inst.Name}' in pipeline.proj (Needs=\"...;{list}\").",
            inst.Layout.Config.File, inst.Config.Line, inst.Config.Column);
    }

    /// <summary>Error for <c>{upstream.X}</c> where X is a stage but not one of the stage's Needs.</summary>
    public static KdgException NotNeeded(Config.StageConfig stage, string configFile, string upstream) => new(ErrorCodes.UndeclaredDependency,
        $"stage '{stage.Name}' uses {{upstream.{upstream}}} but '{upstream}' is not in its Needs, so a change of '{upstream}' would leave '{stage.Name}' wrongly up to date. " +
        $"Add '{upstream}' to Needs and to DependsOnTargets of target '{stage.Name}' in pipeline.proj.",
        configFile, stage.Line, stage.Column);
}
