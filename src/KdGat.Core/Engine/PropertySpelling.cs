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

    public static IReadOnlyList<Diagnostic> Warnings(BuildRequest request)
    {
        var warnings = new List<Diagnostic>();
        foreach (var name in request.GlobalPropertyNames.Order(StringComparer.OrdinalIgnoreCase))
        {
            if (name.StartsWith('_') || Known.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
            var near = Known.Select(k => (Name: k, Distance: Spelling.Distance(k.ToLowerInvariant(), name.ToLowerInvariant())))
                .Where(k => k.Distance <= MaxDistance).OrderBy(k => k.Distance).Select(k => k.Name).FirstOrDefault();
            if (near is null) continue;
            warnings.Add(new Diagnostic(Severity.Warning, ErrorCodes.PropertyMisspelt,
                $"-p:{name} is not a property KdGat reads, so this build went on without it{(near == "Dataset" ? " (without -p:Dataset every dataset is selected)" : "")}. Did you mean -p:{near}? " +
                $"If -p:{name} is a property of your own targets, ignore this (-noWarn:{ErrorCodes.PropertyMisspelt}).",
                string.IsNullOrEmpty(request.PipelineFile) ? null : request.PipelineFile, 0, 0));
        }
        return warnings;
    }
}
