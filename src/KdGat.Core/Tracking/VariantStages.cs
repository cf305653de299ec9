using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tracking;

/// <summary>
/// A KdGatVariant item as the targets hand it over: its Stages as written, the *DependsOn property
/// the default items are made from (its list names targets, not stages; null for the user's own
/// item, whose Stages name stages), and the project file that defines the item.
/// </summary>
internal sealed record VariantItem(string Name, IReadOnlyList<string> Stages, string? FromProperty = null, string? DefinedIn = null);

/// <summary>
/// Compare's and Report's variants from the KdGatVariant items. The default ones take their stages
/// from LargeDependsOn etc., which name stage targets: a stage with a target of its own
/// (StageTarget="eval_large_target") became a variant of a stage that does not exist, an all-'-'
/// column without a word (a review). Its target is mapped to its stage through the
/// KdGatStageDefinition items; a name that is then no stage of the pipeline is KDG5027.
/// </summary>
internal static class VariantStages
{
    /// <summary>
    /// The variants (those with no stage at all left out), and KDG5027 for the first one naming no
    /// stage in <paramref name="stages"/>, or null. The variants are returned either way, for Status,
    /// which says the error as a warning and writes its report.
    /// </summary>
    /// <param name="definitions">The KdGatStageDefinition items: stage, and its StageTarget metadata ("" without one: the target is the stage's name).</param>
    /// <param name="commandLine">The build's global properties (-p:), to say that a *DependsOn came from there.</param>
    public static (IReadOnlyList<Variant> Variants, KdgException? Error) Resolve(
        IReadOnlyList<VariantItem> items, IReadOnlyList<(string Stage, string StageTarget)> definitions,
        IReadOnlyCollection<string> stages, string? pipelineFile, IReadOnlyCollection<string>? commandLine = null)
    {
        // MSBuild's target names ignore case; the first definition of a target wins, as a stage target runs once.
        var stageOfTarget = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (stage, stageTarget) in definitions)
            stageOfTarget.TryAdd(Pipeline.StageTargets.TargetOf(stage, stageTarget), stage);

        var variants = new List<Variant>();
        KdgException? error = null;
        foreach (var item in items.Where(i => i.Stages.Count > 0))
        {
            var named = item.FromProperty is null ? item.Stages
                : item.Stages.Select(t => stageOfTarget.GetValueOrDefault(t, t)).ToArray();
            var unknown = named.Where(n => !stages.Contains(n)).Distinct(StringComparer.Ordinal).ToArray();
            // A *DependsOn list is an extension point: a target of the user's own beside the stage targets
            // (LargeDependsOn=eval_large_evaluation;PublishLarge) is no stage and was refused (a review). Only a
            // list with no stage at all is a column of '-'. A KdGatVariant's Stages name stages: every name counts.
            if (item.FromProperty is not null && unknown.Length < named.Distinct(StringComparer.Ordinal).Count())
            {
                named = [.. named.Where(stages.Contains)];
                unknown = [];
            }
            variants.Add(new Variant(item.Name, named));
            if (unknown.Length > 0)
                error ??= Unknown(item, unknown, stageOfTarget, stages, pipelineFile, commandLine ?? []);
        }
        return (variants, error);
    }

    private static KdgException Unknown(VariantItem item, IReadOnlyList<string> unknown, IReadOnlyDictionary<string, string> stageOfTarget,
        IReadOnlyCollection<string> stages, string? pipelineFile, IReadOnlyCollection<string> commandLine)
    {
        var known = $" Stages: {string.Join(", ", stages)}.";
        var guesses = string.Concat(unknown.Select(n => Guess(n, item.FromProperty is null, stageOfTarget, stages, several: unknown.Count > 1)));
        var names = string.Join(", ", unknown.Select(n => $"'{ConsoleText.OneLine(n)}'"));
        string message;
        ProjectPlace? at;
        string? file;
        if (item.FromProperty is { } property)
        {
            var onCommandLine = commandLine.Contains(property, StringComparer.OrdinalIgnoreCase);
            message = $"the Compare/Report variant '{item.Name}' takes its stages from the targets {(onCommandLine ? $"-p:{property}" : property)} lists, " +
                $"and {names} {(unknown.Count == 1 ? "is" : "are")} the target of no stage (no KdGatStageDefinition item names {(unknown.Count == 1 ? "it" : "them")} as its StageTarget, " +
                $"and no stage is called so), so its column would show '-' in every row.{guesses}{known} " +
                $"Give the stage's KdGatStageDefinition item StageTarget=\"TARGET\" when its target is named apart from it, or define the variants yourself " +
                $"(<KdGatVariant Include=\"{item.Name}\" Stages=\"STAGE;...\" /> in an ItemGroup before the Import of KdGat's targets: Stages names stages).";
            at = onCommandLine ? null : StageTargets.Place(pipelineFile, property, last: true);
            file = pipelineFile;
        }
        else
        {
            message = $"the Compare/Report variant '{item.Name}' (its KdGatVariant item's Stages) names {names}, which {(unknown.Count == 1 ? "is" : "are")} no stage of the pipeline, " +
                $"so its column would show '-' in every row.{guesses}{known} Fix the name in Stages (stage names, as in the configuration), or remove the item.";
            file = item.DefinedIn ?? pipelineFile;
            at = StageTargets.Place(file, "KdGatVariant", e => StageTargets.Lists(e, "Include", item.Name) && StageTargets.Lists(e, "Stages", unknown[0]))
                 ?? StageTargets.Place(file, "KdGatVariant", e => StageTargets.Lists(e, "Include", item.Name));
        }
        return at is null
            ? new KdgException(ErrorCodes.UnknownVariantStage, message, file)
            : new KdgException(ErrorCodes.UnknownVariantStage, message, at.File, at.Line, at.Column);
    }

    /// <summary>" Did you mean 'x'?" for one unknown name: the stage whose target it is (a user's Stages naming a target), else the nearest stage name.</summary>
    private static string Guess(string name, bool namesStages, IReadOnlyDictionary<string, string> stageOfTarget, IReadOnlyCollection<string> stages, bool several)
    {
        if (namesStages && stageOfTarget.TryGetValue(name, out var stage) && stages.Contains(stage))
            return $" '{name}' is the target of stage '{stage}': Stages names stages. Did you mean '{stage}'?";
        var near = Spelling.DidYouMean(name, stages, Math.Max(2, name.Length / 3));
        return near.Length == 0 || !several ? near : near.Replace("Did you mean", $"For '{ConsoleText.OneLine(name)}': did you mean", StringComparison.Ordinal);
    }
}
