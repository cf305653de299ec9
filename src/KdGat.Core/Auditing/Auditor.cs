using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Auditing;

/// <summary>
/// The audit of one build (-t:Audit): which stage instances are forced to run under strace, where
/// each attempt's trace goes (beside its .out/.err log), and the findings once it has ended.
/// Thread-safe: instances finish in parallel.
/// </summary>
internal sealed class Auditor
{
    private readonly AccessClassifier _classifier;
    private readonly string? _onlyStage;
    private int _traced, _errors, _warnings;

    /// <param name="onlyStage">-p:Stage: audit that stage only (what it needs is built normally); null audits every stage.</param>
    public Auditor(AccessClassifier classifier, string? onlyStage)
    {
        _classifier = classifier;
        _onlyStage = string.IsNullOrWhiteSpace(onlyStage) ? null : onlyStage.Trim();
    }

    /// <summary>Audited instances always run (up to date or not, never restored from the cache): tracing needs a run.</summary>
    public bool Selects(StageInstance s) => _onlyStage is null || s.Name == _onlyStage;

    public static string TraceFileFor(string logStem) => logStem + ".strace";

    /// <summary>Reads one attempt's trace and reports its findings.</summary>
    public void Inspect(StageInstance s, string traceFile, IBuildLog log)
    {
        Interlocked.Increment(ref _traced);
        StraceParser trace;
        try
        {
            trace = StraceParser.ParseFile(traceFile, s.RunDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _warnings);
            log.Warn(ErrorCodes.AuditTraceUnreadable, $"{s.Key}: its trace {traceFile} cannot be read ({e.Message}), so this stage was not audited. Run the audit again.");
            return;
        }
        foreach (var d in _classifier.Classify(s, trace.Accesses))
        {
            if (d.Severity == Severity.Error) Interlocked.Increment(ref _errors);
            else Interlocked.Increment(ref _warnings);
            log.Report(d);
        }
    }

    public void Summarize(IBuildLog log) =>
        log.Info($"KdGat: audit: {_traced} stage run(s) traced: {_errors} error(s), {_warnings} warning(s). Traces: logs/*.strace in each run dir.");
}
