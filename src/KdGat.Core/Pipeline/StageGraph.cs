using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Pipeline;

/// <summary>A stage target as pipeline.proj declares it: its name and the stages it reads from.</summary>
public sealed record StageDeclaration(string Name, IReadOnlyList<string> Needs);

/// <summary>
/// The stages of one build in dependency order (the order MSBuild ran the stage targets, which
/// DependsOnTargets makes topological), validated against the configuration.
/// </summary>
public sealed class StageGraph
{
    private StageGraph(IReadOnlyList<StageDeclaration> ordered, IReadOnlyList<string> withoutTarget)
    {
        Stages = ordered;
        WithoutTarget = withoutTarget;
    }

    public IReadOnlyList<StageDeclaration> Stages { get; }

    /// <summary>Stages the configuration has that no stage target of this build declared (all of the pipeline's when the build collected every stage).</summary>
    public IReadOnlyList<string> WithoutTarget { get; }

    /// <summary>
    /// KDG1012, one warning per stage of the configuration that no stage target of the whole pipeline
    /// declares (the plan's graph: the stage targets $(AllStagesDependsOn) reaches, by default
    /// $(EvaluateDependsOn)): a rule a Snakemake user adds to the YAML alone, which Evaluate never
    /// runs and Explain, Status and Clean never see. Only meaningful for the plan's graph.
    /// </summary>
    internal IEnumerable<Diagnostic> WithoutTargetWarnings(PipelineConfig config, string pipelineFile) => WithoutTarget.Select(name => new Diagnostic(
        Severity.Warning, ErrorCodes.StageWithoutTarget,
        $"stage '{name}' is under 'stages:' but no stage target that {Path.GetFileName(pipelineFile)}'s AllStagesDependsOn reaches (by default EvaluateDependsOn) declares it, " +
        "so Evaluate never runs it and Explain, Status and Clean do not see it " +
        "(or its stage target is reached only through a target of your own in that list, which builds run but collecting the stages does not: then Explain, Status, Clean and the plan miss it). " +
        $"Add a target with <KdGatStage Include=\"{name}\" Needs=\"...\" /> to EvaluateDependsOn (or to the DependsOnTargets of a stage target it reaches; or list every stage target in AllStagesDependsOn), name that stage target in the list itself, or remove the entry.",
        config.File, config.Stages[name].Line, config.Stages[name].Column));

    public static StageGraph Build(IEnumerable<StageDeclaration> declared, PipelineConfig config, string pipelineFile)
    {
        var seen = new Dictionary<string, StageDeclaration>(StringComparer.Ordinal);
        var ordered = new List<StageDeclaration>();
        var all = declared as IReadOnlyList<StageDeclaration> ?? declared.ToArray();
        foreach (var s in all)
        {
            if (seen.TryGetValue(s.Name, out var prior))
            {
                if (!prior.Needs.SequenceEqual(s.Needs))
                    throw AtItem(ErrorCodes.DuplicateStage, $"stage '{s.Name}' is declared twice with different Needs (here: {Listed(s.Needs)}; first: {Listed(prior.Needs)}). Declare each stage once.", pipelineFile, s);
                continue;
            }
            foreach (var n in s.Needs)
                if (n == s.Name)
                    throw AtItem(ErrorCodes.UnknownUpstream, $"stage '{s.Name}' needs itself: no order can run it. Remove '{n}' from its Needs (and its target from its own DependsOnTargets).", pipelineFile, s);
                else if (!seen.ContainsKey(n))
                    throw AtItem(ErrorCodes.UnknownUpstream, $"stage '{s.Name}' needs '{n}', " + WhyNotBefore(s, n, all, config), pipelineFile, s);
            if (!config.Stages.TryGetValue(s.Name, out var sc))
            {
                // The near entry's own place too: the misspelt name may be that one (a user review: the hint read as "rename the item").
                var near = Spelling.Nearest(s.Name, config.Stages.Keys, Math.Max(2, s.Name.Length / 3));
                var entry = near is null ? "" : $" {Path.GetFileName(config.File)}({config.Stages[near].Line},{config.Stages[near].Column}) has '{near}'.";
                var message = $"stage '{s.Name}' (a KdGatStage item in the pipeline) has no entry under 'stages:' in {Path.GetFileName(config.File)}.{Spelling.Offer(s.Name, near)}{entry} Fix the name of one of the two (this item, or that entry), or add an entry with at least 'command:' and 'outputs:'.";
                // At the KdGatStage item that names it, the node with the name to fix; without one written
                // literally in the project (an imported target), at 'stages:', the other place to fix.
                if (StageTargets.Find(pipelineFile, s.Name) is { Item: var item })
                    throw new KdgException(ErrorCodes.StageNotConfigured, message, item.File, item.Line, item.Column);
                throw new KdgException(ErrorCodes.StageNotConfigured, message, config.File, config.StagesAt.Line, config.StagesAt.Column);
            }
            if (sc.Teacher is not null && !s.Needs.Contains(sc.Teacher))
                throw new KdgException(ErrorCodes.TeacherNotUpstream,
                    config.Stages.ContainsKey(sc.Teacher)
                        ? $"stage '{s.Name}': teacher '{sc.Teacher}' is not one of its upstream stages ({string.Join(", ", s.Needs)}). Add it to the stage's Needs, and {DependencyCheck.TheirTargets(1)} to the DependsOnTargets of its target."
                        // a misspelt teacher: the name to fix is in kdgat.yaml, not the Needs (a user review)
                        : $"stage '{s.Name}': teacher '{sc.Teacher}' is no stage of {Path.GetFileName(config.File)}.{Spelling.DidYouMean(sc.Teacher, s.Needs.Concat(config.Stages.Keys), Math.Max(2, sc.Teacher.Length / 3))} Name one of its upstream stages ({string.Join(", ", s.Needs)}).",
                    config.File, sc.Line, sc.Column);
            seen[s.Name] = s;
            ordered.Add(s);
        }
        return new StageGraph(ordered, [.. config.Stages.Keys.Where(k => !seen.ContainsKey(k)).Order(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// An error at the KdGatStage item of the declaration <paramref name="stage"/>, where its Needs are
    /// written: the one item of that stage with those Needs, or the stage's only item; else (Needs made
    /// from a property, an imported target, several items alike) at the file alone.
    /// </summary>
    private static KdgException AtItem(string code, string message, string pipelineFile, StageDeclaration stage)
    {
        var items = StageTargets.FindAll(pipelineFile, stage.Name).ToArray();
        var same = items.Where(i => i.Needs.SequenceEqual(stage.Needs, StringComparer.Ordinal)).ToArray();
        var at = same.Length == 1 ? same[0].Item : items.Length == 1 ? items[0].Item : null;
        return at is null ? new KdgException(code, message, pipelineFile) : new KdgException(code, message, at.File, at.Line, at.Column);
    }

    private static string Listed(IReadOnlyCollection<string> needs) => needs.Count == 0 ? "no Needs" : $"Needs=\"{string.Join(';', needs)}\"";

    /// <summary>The rest of KDG1201: a stage declared later (its target runs after: a missing DependsOnTargets, or a cycle), or one never declared (a misspelling).</summary>
    private static string WhyNotBefore(StageDeclaration s, string need, IReadOnlyList<StageDeclaration> all, PipelineConfig config)
    {
        if (all.Any(d => d.Name == need))
        {
            if (Reaches(need, s.Name, all) is { } path)
                return $"and '{need}' needs '{s.Name}' ({string.Join(" -> ", path)}): the stages need each other in a circle, and no order can run them. Remove one of those Needs (and its target from the other's DependsOnTargets).";
            return $"whose target runs after the target of stage '{s.Name}', so '{s.Name}' would run on what '{need}' has not made yet. Add {DependencyCheck.TheirTargets(1)} to the DependsOnTargets of the target of stage '{s.Name}'.";
        }
        // In kdgat.yaml, but no target that declares it ran (the slip: a stage target that lost its DependsOnTargets). It was
        // "which no stage target declares. Did you mean 'features'?", offering the very name (a first-week review).
        if (config.Stages.ContainsKey(need))
            return $"which is a stage of kdgat.yaml whose target did not run before the target of stage '{s.Name}' (nor, in this build, at all). " +
                $"Add the target whose KdGatStage item declares '{need}' to the DependsOnTargets of the target of stage '{s.Name}' ({DependencyCheck.TheirTargets(1)}).";
        var names = all.Select(d => d.Name).Concat(config.Stages.Keys).Distinct(StringComparer.Ordinal).ToArray();
        var guess = Spelling.DidYouMean(need, names.Where(x => x != s.Name), Math.Max(2, need.Length / 3));
        return $"which no stage target declares.{guess} Check the spelling of Needs in the KdGatStage item of '{s.Name}'; a stage of kdgat.yaml needs a target with its KdGatStage item that runs before this one ({DependencyCheck.TheirTargets(1)} in the DependsOnTargets of the target of stage '{s.Name}').";
    }

    /// <summary>A chain of Needs from <paramref name="from"/> to <paramref name="to"/>, or null.</summary>
    private static List<string>? Reaches(string from, string to, IReadOnlyList<StageDeclaration> all)
    {
        var needs = all.GroupBy(d => d.Name).ToDictionary(g => g.Key, g => g.First().Needs, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? Walk(string at)
        {
            if (at == to) return [at];
            if (!seen.Add(at) || !needs.TryGetValue(at, out var ns)) return null;
            foreach (var n in ns)
                if (Walk(n) is { } rest) { rest.Insert(0, at); return rest; }
            return null;
        }
        return Walk(from);
    }

    /// <summary>
    /// KDG1203: -p:Stage names no stage, whichever target was asked (the build, Explain, Clean, Status, History: one code).
    /// <paramref name="given"/> names where the value came from (an environment variable STAGE is one too: BuildRequest.Given).
    /// </summary>
    internal KdgException Unknown(string stage, string pipelineFile, string given = "-p:Stage") => new(ErrorCodes.UnknownStage,
        $"unknown stage '{ConsoleText.OneLine(stage)}' in {given}.{Guess(stage)} Stages: {string.Join(", ", Stages.Select(s => s.Name))}." +
        (WithoutTarget.Contains(stage) ? $" '{stage}' is under 'stages:' in the configuration, but no stage target that AllStagesDependsOn reaches declares it (KDG1012)." : ""), pipelineFile);

    /// <summary>A misspelling's nearest name, else the stages whose names hold it or it holds (gat_large: gat_large_curriculum).</summary>
    private string Guess(string stage)
    {
        var names = Stages.Select(s => s.Name).Concat(WithoutTarget).Where(n => n != stage).ToArray();
        if (Spelling.DidYouMean(stage, names, Math.Max(2, stage.Length / 3)) is { Length: > 0 } near) return near;
        var holding = stage.Trim().Length == 0 ? [] : names.Where(n => n.Contains(stage.Trim(), StringComparison.OrdinalIgnoreCase) || stage.Contains(n, StringComparison.OrdinalIgnoreCase)).Take(5).ToArray();
        return holding.Length == 0 ? "" : $" Did you mean {string.Join(" or ", holding.Select(n => $"'{n}'"))}?";
    }

    /// <summary>The named stage and every stage that (transitively) reads from it.</summary>
    public IReadOnlySet<string> WithDownstream(string stage, string pipelineFile, string given = "-p:Stage")
    {
        if (!Stages.Any(s => s.Name == stage))
            throw Unknown(stage, pipelineFile, given);
        var set = new HashSet<string>(StringComparer.Ordinal) { stage };
        foreach (var s in Stages) // topological order: one pass suffices
            if (s.Needs.Any(set.Contains)) set.Add(s.Name);
        return set;
    }

    /// <summary>The named stage and everything it (transitively) needs, as a graph of its own.</summary>
    public StageGraph RestrictTo(string stage, string pipelineFile, string given = "-p:Stage") => new(WithUpstream(stage, pipelineFile, given), WithoutTarget);

    /// <summary>The named stage and everything it (transitively) needs.</summary>
    public IReadOnlyList<StageDeclaration> WithUpstream(string stage, string pipelineFile, string given = "-p:Stage")
    {
        if (!Stages.Any(s => s.Name == stage))
            throw Unknown(stage, pipelineFile, given);
        return WithNeeds([stage]);
    }

    /// <summary>The named stage, its downstream, and everything those need: what Rebuild -p:Stage cleans and then builds.</summary>
    public StageGraph RestrictToDownstream(string stage, string pipelineFile, string given = "-p:Stage") => new(WithNeeds(WithDownstream(stage, pipelineFile, given)), WithoutTarget);

    private IReadOnlyList<StageDeclaration> WithNeeds(IEnumerable<string> stages)
    {
        var set = new HashSet<string>(stages, StringComparer.Ordinal);
        foreach (var s in Stages.Reverse()) // reverse topological order: one pass suffices
            if (set.Contains(s.Name)) set.UnionWith(s.Needs);
        return Stages.Where(s => set.Contains(s.Name)).ToArray();
    }
}
