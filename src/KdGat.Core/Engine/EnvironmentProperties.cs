using System.Collections;
using System.Globalization;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;

namespace KdGat.Core.Engine;

/// <summary>A KdGat property whose value MSBuild took from an environment variable (<see cref="EnvironmentProperties"/>).</summary>
public sealed record EnvironmentProperty(string Property, string Variable, string Value);

/// <summary>
/// KDG1225 (warning): MSBuild makes every environment variable a property (names ignore case), so a shell
/// that exports STAGE, DATASET, EXECUTOR or WAIT for its own scripts changes what a plain build selects
/// (a review: STAGE=dev made every build KDG1203 "in -p:Stage"; DATASET=hcrl_sa built one dataset of six).
/// The value is honoured, as MSBuild users expect of Configuration, and said, naming the variable, so
/// errors about it name the variable too (<see cref="BuildRequest.Given"/>), not a -p: never passed.
/// </summary>
internal static class EnvironmentProperties
{
    private static readonly HashSet<string> Known = new(PropertySpelling.Known, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The KdGat properties that have an environment variable's value and were not given with -p:
    /// (a global property wins over the environment). <paramref name="valueOf"/> is the property's value as
    /// the task got it (null: the task does not read it). A value other than the variable's was set by the
    /// project, so it is not one; a project that sets the variable's very value is taken as the variable
    /// (MSBuild does not tell a task where a property came from; the value is the same either way). Only the
    /// environment's names are looked at, so a build without such a variable asks <paramref name="valueOf"/> nothing.
    /// A value that changes nothing (<see cref="ChangesNothing"/>) is not one.
    /// </summary>
    public static IReadOnlyList<EnvironmentProperty> Find(IDictionary environment, IReadOnlyCollection<string> globalPropertyNames, Func<string, string?> valueOf)
    {
        List<EnvironmentProperty>? found = null;
        foreach (DictionaryEntry e in environment)
        {
            if (e.Key is not string variable || !Known.TryGetValue(variable, out var property) || e.Value is not string value || value.Trim().Length == 0) continue;
            if (globalPropertyNames.Contains(property, StringComparer.OrdinalIgnoreCase)) continue;
            if (valueOf(property) != value || ChangesNothing(property, value) || (found?.Exists(f => f.Property == property) ?? false)) continue;
            (found ??= []).Add(new EnvironmentProperty(property, variable, value));
        }
        return found is null ? [] : [.. found.OrderBy(f => f.Property, StringComparer.Ordinal)];
    }

    /// <summary>
    /// A value that changes nothing: the property's fixed default (README's properties table) as KdGat reads it (WAIT=yes
    /// is Wait's default true: YesNo). Only fixed defaults: EXECUTOR=local, though kdgat.yaml says local too, pins what a
    /// later kdgat.yaml would choose, and a path equal to the default one is said (paths are not compared).
    /// </summary>
    internal static bool ChangesNothing(string property, string value) => property switch
    {
        "Wait" or "CancelOnAbort" or "LiveReport" => YesNo.Read(value) == true,
        "VerifyHashes" or "AdoptOverwrite" or "FailIfStale" => YesNo.Read(value) == false,
        // Read by the targets' conditions, which ignore case but take only these words, spaces included.
        "KdGatTracking" => value.Equals("true", StringComparison.OrdinalIgnoreCase),
        "KdGatSkipBootstrap" => value.Equals("false", StringComparison.OrdinalIgnoreCase),
        // In the tools' stamp as written: 'debug' would build the tools again.
        "KdGatToolsConfiguration" => value.Trim() == "Debug",
        "LiveReportRefresh" => int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n == LiveReport.DefaultRefreshSeconds,
        _ => false,
    };

    /// <summary>How a message names where a property's value came from: "-p:Stage", or "the environment variable STAGE".</summary>
    public static string Given(IReadOnlyList<EnvironmentProperty> fromEnvironment, string property) =>
        fromEnvironment.FirstOrDefault(f => string.Equals(f.Property, property, StringComparison.OrdinalIgnoreCase)) is { } f
            ? $"the environment variable {f.Variable} (MSBuild makes it the property {f.Property}; no -p:{f.Property} was given)"
            : $"-p:{property}";

    /// <summary>
    /// How a message names a setting in force: "-p:Wait=false", or "WAIT=no in the environment (the property Wait; no -p:Wait)"
    /// with the variable's own text. <paramref name="value"/> is the -p: form's value.
    /// </summary>
    public static string Setting(IReadOnlyList<EnvironmentProperty> fromEnvironment, string property, string value) =>
        fromEnvironment.FirstOrDefault(f => string.Equals(f.Property, property, StringComparison.OrdinalIgnoreCase)) is { } f
            ? $"{f.Variable}={ConsoleText.OneLine(f.Value.Trim())} in the environment (the property {f.Property}; no -p:{f.Property})"
            : $"-p:{property}={value}";

    /// <summary>A property and its value in an error: "-p:Sweep='seed=9'", or "the environment variable SWEEP (...), 'seed=9'".</summary>
    /// <param name="given"><see cref="Given"/>'s answer; null is -p:.</param>
    public static string WithValue(string? given, string property, string value) =>
        given is null || given == "-p:" + property ? $"-p:{property}='{value}'" : $"{given}, '{value}'";

    public static IReadOnlyList<Diagnostic> Warnings(BuildRequest request) =>
        request.FromEnvironment.Select(f => new Diagnostic(Severity.Warning, ErrorCodes.PropertyFromEnvironment,
            $"{f.Property} is '{ConsoleText.OneLine(f.Value)}' from the environment variable {f.Variable}, not from -p:{f.Property}: MSBuild makes every environment variable a property " +
            $"(names ignore case), so this build uses it as if -p:{f.Property}={ConsoleText.OneLine(f.Value)} had been given{Effect(f.Property)}. " +
            $"If that is not meant, unset {f.Variable} for KdGat's builds (env -u {f.Variable} dotnet msbuild ...) or pass -p:{f.Property}= (empty: the default); to mean it, pass -p:{f.Property}=... instead.",
            string.IsNullOrEmpty(request.PipelineFile) ? null : request.PipelineFile, 0, 0)).ToArray();

    private static string Effect(string property) => property switch
    {
        "Dataset" => " (only these datasets, not every dataset in the configuration)",
        "Stage" => " (only this stage and what it needs)",
        "Sweep" => " (only these sweep points)",
        "Executor" => " (the executor: jobs go where it says)",
        _ => "",
    };
}
