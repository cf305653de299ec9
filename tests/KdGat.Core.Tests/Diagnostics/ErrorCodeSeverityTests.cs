using System.Text.RegularExpressions;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Diagnostics;

/// <summary>
/// One code, one severity: a user filtering a log by code must not find the same code once as a
/// warning and once as an error. Scans the sources for every site that raises a code.
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class ErrorCodeSeverityTests
{
    [Fact]
    public void EveryCode_IsRaisedWithOneSeverityOnly()
    {
        var sites = new List<(string Code, string Severity, string Where)>();
        foreach (var (rel, file) in RepoFiles.Sources())
        {
            var text = File.ReadAllText(file);
            foreach (Match m in Site().Matches(text))
            {
                var severity = m.Groups["warn"].Success ? "warning" : "error";
                var line = text[..m.Index].Count(c => c == '\n') + 1;
                sites.Add((m.Groups["code"].Value, severity, $"{rel}:{line}"));
            }
        }
        Assert.True(sites.Count > 30, $"the scan found only {sites.Count} sites: the pattern no longer matches the code");
        var mixed = sites.GroupBy(s => s.Code).Where(g => g.Select(s => s.Severity).Distinct().Count() > 1)
            .Select(g => $"{g.Key}: " + string.Join(", ", g.Select(s => $"{s.Severity} at {s.Where}"))).ToArray();
        Assert.True(mixed.Length == 0, "codes raised with two severities:\n" + string.Join("\n", mixed));
    }

    // Warnings: Warn(ErrorCodes.X / Severity.Warning, ErrorCodes.X. Errors: Error(ErrorCodes.X / Severity.Error, ErrorCodes.X /
    // KdgException(ErrorCodes.X / a stage result's ErrorCode (BuildEngine reports every failed or cancelled instance as an error).
    [GeneratedRegex(@"(?:(?<warn>\.Warn\(|Severity\.Warning,\s*)|(?:\.Error\(|Severity\.Error,\s*|KdgException\(|ErrorCode\s*=\s*|ErrorCode\s*\?\?\s*))(?:KdGat\.Core\.Diagnostics\.|Core\.Diagnostics\.)?ErrorCodes\.(?<code>\w+)")]
    private static partial Regex Site();
}
