using KdGat.Core.Tracking;
using Microsoft.Build.Framework;

namespace KdGat.Tasks.Tracking;

/// <summary>Writes one self-contained HTML report (default .kdgat/report.html; -p:ReportFile=...).</summary>
public sealed class KdGatReport : TrackingTask
{
    public string? ReportFile { get; set; }

    [Output] public string WrittenFile { get; private set; } = "";

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        var path = ReportPath(t.Pipeline.Layout.Root, ReportFile, Core.Diagnostics.ErrorCodes.TrackingBadProperty, source: Given(nameof(ReportFile)));
        if (FailIfNotIncremental)
        {
            var status = t.StatusAsync().GetAwaiter().GetResult();
            if (!HtmlReport.Holds(path, at => HtmlReport.Render(t, VariantList(), at, status))) WouldWrite($"the report {path} (missing, or other runs or states)");
            return true;
        }
        try
        {
            HtmlReport.Write(path, HtmlReport.Render(t, VariantList(), TimeProvider.System.GetUtcNow(), t.StatusAsync().GetAwaiter().GetResult()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Core.Diagnostics.KdgException(Core.Diagnostics.ErrorCodes.FileAccess,
                $"cannot write the report to {path} ({e.Message}). Choose a writable place with -p:ReportFile=<path>.");
        }
        WrittenFile = path;
        Print($"KdGat: report written to {path} ({t.Index.Count()} recorded attempt(s)); open it in a browser, no server needed");
        return true;
    }
}
