using KdGat.Core.Diagnostics;

namespace KdGat.Core.Engine;

/// <summary>
/// KDG1217 (warning): a -p: name KdGat does not read that is a letter or two from one it does
/// (-p:Datset=hcrl_sa). MSBuild takes any name, so the build went on without it, with the default:
/// every dataset (a user review; with -p:Executor=slurm that submits every job). MSBuild property
/// names ignore case (-p:dataset is Dataset), and so does this comparison.
/// </summary>
internal static class PropertySpelling
{
    /// <summary>The -p: properties KdGat reads (README, "Properties").</summary>
    public static readonly IReadOnlyList<string> Known =
    [
        "Dataset", "Stage", "Sweep", "Executor", "MaxParallelStages", "VerifyHashes", "CacheMaxSize", "CacheMaxAge", "Wait", "CancelOnAbort",
        "AdoptOverwrite", "Limit", "RunId", "Metrics", "ReportFile", "LiveReport", "LiveReportRefresh", "GraphFile", "KdGatTracking", "KdGatIndex",
        "KdGatConfig", "KdGatToolsDir", "KdGatSkipBootstrap", "KdGatSourceDir", "FailIfStale", "KdGatToolsConfiguration",
    ];

    private const int MaxDistance = 2;

    public static IReadOnlyList<Diagnostic> Warnings(BuildRequest request) =>
        NearMisses(request).Select(m => new Diagnostic(Severity.Warning, ErrorCodes.PropertyMisspelt,
            $"-p:{m.Name} is not a property KdGat reads, so this build went on without it{(m.Near == "Dataset" ? " (without -p:Dataset every dataset is selected)" : "")}. Did you mean -p:{m.Near}? " +
            $"If -p:{m.Name} is a property of your own targets, ignore this (-noWarn:{ErrorCodes.PropertyMisspelt}).",
            string.IsNullOrEmpty(request.PipelineFile) ? null : request.PipelineFile, 0, 0)).ToArray();

    /// <summary>
    /// Clean deletes: a misspelt selection (-p:Stages=train, -p:Datset=hcrl_sa) made it clean every stage of every
    /// dataset, and so rerun them all (a first-week review). Refused, nothing deleted; other near misses are said as warnings.
    /// </summary>
    public static KdgException? CleanSelectionMisspelt(BuildRequest request) =>
        NearMisses(request).FirstOrDefault(m => m.Near is "Dataset" or "Stage" or "Sweep") is { Name: not null } m
            ? new KdgException(ErrorCodes.CleanSelectionMisspelt,
                $"Clean refused, nothing was deleted: -p:{m.Name} is not a property KdGat reads, so Clean would have deleted the results of every {(m.Near == "Dataset" ? "dataset" : m.Near == "Stage" ? "stage" : "sweep point")} selected without it. Did you mean -p:{m.Near}? " +
                  $"Spell it so and run Clean again; to clean without that selection, leave -p:{m.Name} out.",
                string.IsNullOrEmpty(request.PipelineFile) ? null : request.PipelineFile, 0, 0)
            : null;

    /// <summary>Each -p: name KdGat does not read with the known property it is a letter or two from.</summary>
    private static IEnumerable<(string Name, string Near)> NearMisses(BuildRequest request)
    {
        foreach (var name in request.GlobalPropertyNames.Order(StringComparer.OrdinalIgnoreCase))
        {
            if (name.StartsWith('_') || Known.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            var near = Known.Select(k => (Name: k, Distance: Spelling.Distance(k.ToLowerInvariant(), name.ToLowerInvariant())))
                .Where(k => k.Distance <= MaxDistance).OrderBy(k => k.Distance).Select(k => k.Name).FirstOrDefault();
            if (near is not null) yield return (name, near);
        }
    }
}
