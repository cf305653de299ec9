using KdGat.Core.Tracking;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KdGat.Tasks.Tracking;

/// <summary>Each stage instance: up to date, stale and why, running with its job id, or failed with its log.</summary>
public sealed class KdGatStatus : TrackingTask
{
    public string? Stage { get; set; }
    /// <summary>-p:ReportFile / -p:LiveReport / -p:LiveReportRefresh: Status rewrites the report (as a build does), reloading while jobs run.</summary>
    public string? ReportFile { get; set; }
    public string? LiveReport { get; set; }
    public string? LiveReportRefresh { get; set; }

    /// <summary>Include = dataset/stage; metadata State, Detail, JobId, Log.</summary>
    [Output] public ITaskItem[] Rows { get; private set; } = [];

    private protected override bool VariantErrorsWarn => true;

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        var stage = string.IsNullOrWhiteSpace(Stage) ? null : t.RequireStage(Stage);
        var all = t.StatusAsync(cancel: Cancelled).GetAwaiter().GetResult(); // MSBuild tasks are synchronous: the one blocking point
        var rows = stage is null ? all : all.Where(r => r.Stage == stage).ToArray();
        Print(TrackingText.StatusHeadline(t.Pipeline, rows, stage));
        foreach (var line in TextTable.Format(["stage instance", "state", "detail"], rows.Select(r => (IReadOnlyList<string>)[r.Key, r.State, r.Detail])))
            Print(line);
        foreach (var failed in rows.Where(r => r.State == StatusRow.Failed))
            log.Report(new Core.Diagnostics.Diagnostic(Core.Diagnostics.Severity.Warning, Core.Diagnostics.ErrorCodes.LastAttemptFailed,
                $"{failed.Key}: its last attempt failed ({failed.Detail}), so it stays stale until a build of it succeeds: fix what its log says, then build again.", failed.Log));
        Print($"KdGat: {t.Index.Count()} recorded attempt(s); index {t.Index.Location.DbPath} ({t.Index.Location.Why})");
        if (ParseBool(nameof(LiveReport), LiveReport, true))
        {
            // After -p:Wait=false the build's page says "jobs left in SLURM"; Status brings it up to date.
            var path = KdGatBuild.LiveReportPath(Root, ReportFile, Given(nameof(ReportFile)));
            var reload = all.Any(r => r.Active) ? KdGatBuild.ParseRefresh(LiveReportRefresh, Given(nameof(LiveReportRefresh))) : 0;
            if (FailIfNotIncremental)
            {
                if (!HtmlReport.Holds(path, at => HtmlReport.Render(t, VariantList(), at, all, reload, variantErrors: log))) WouldWrite($"the report {path} (missing, or another state)");
            }
            else try
            {
                HtmlReport.Write(path, HtmlReport.Render(t, VariantList(), TimeProvider.System.GetUtcNow(), all, reload, variantErrors: log));
                Print($"KdGat: report updated: {path}{(reload > 0 ? $" (reloads every {reload} s while jobs run)" : "")}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Report(new Core.Diagnostics.Diagnostic(Core.Diagnostics.Severity.Warning, Core.Diagnostics.ErrorCodes.LiveReportWriteFailed,
                    $"could not write the report {path} ({e.Message}); the status above is complete. Choose another file with -p:ReportFile=PATH or -p:LiveReport=false."));
            }
        }
        Rows = rows.Select(r =>
        {
            var item = new TaskItem(r.Key);
            item.SetMetadata("Dataset", r.Dataset);
            item.SetMetadata("Stage", r.Stage);
            item.SetMetadata("Variant", r.Variant ?? "");
            item.SetMetadata("State", r.State);
            item.SetMetadata("Detail", r.Detail);
            item.SetMetadata("JobId", r.JobId ?? "");
            item.SetMetadata("Log", r.Log ?? "");
            return (ITaskItem)item;
        }).ToArray();
        return true;
    }
}
