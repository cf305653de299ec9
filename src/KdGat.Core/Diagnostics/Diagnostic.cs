namespace KdGat.Core.Diagnostics;

internal enum Severity { Message, Warning, Error }

/// <summary>One line of user-facing output with an optional KDG code and location.</summary>
internal sealed record Diagnostic(Severity Severity, string? Code, string Message, string? File = null, int Line = 0, int Column = 0)
{
    public static Diagnostic From(KdgException e) => new(Severity.Error, e.Code, e.Message, e.File, e.Line, e.Column);
}

/// <summary>Where the core reports progress; the MSBuild task maps it to its logger.</summary>
internal interface IBuildLog
{
    void Report(Diagnostic diagnostic);

    /// <summary>
    /// Whether this build counts a warning with <paramref name="code"/> as an error (MSBuild's
    /// -warnAsError, WarningsAsErrors): MSBuild fails its build on it, so KdGat's verdict must fail too.
    /// </summary>
    bool WarningIsError(string? code);
}

internal static class BuildLogExtensions
{
    public static void Info(this IBuildLog log, string message) => log.Report(new Diagnostic(Severity.Message, null, message));
    public static void Warn(this IBuildLog log, string code, string message, string? file = null) => log.Report(new Diagnostic(Severity.Warning, code, message, file));
    public static void Error(this IBuildLog log, string code, string message, string? file = null) => log.Report(new Diagnostic(Severity.Error, code, message, file));
}

/// <summary>Collects diagnostics; used by tests and by callers that decide later what to print.</summary>
internal sealed class RecordingLog : IBuildLog
{
    private readonly List<Diagnostic> _items = new();
    private readonly IBuildLog? _forward;
    public RecordingLog(IBuildLog? forward = null) => _forward = forward;
    public IReadOnlyList<Diagnostic> Items { get { lock (_items) return _items.ToArray(); } }
    /// <summary>Without a log to forward to: the warning codes this build counts as errors (tests' -warnAsError).</summary>
    public IReadOnlySet<string> WarningsAsErrors { get; init; } = new HashSet<string>();
    public bool WarningIsError(string? code) => _forward?.WarningIsError(code) ?? (code is not null && WarningsAsErrors.Contains(code));
    public void Report(Diagnostic diagnostic)
    {
        lock (_items) _items.Add(diagnostic);
        _forward?.Report(diagnostic);
    }
}
