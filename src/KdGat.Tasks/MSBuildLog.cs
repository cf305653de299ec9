using KdGat.Core.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KdGat.Tasks;

/// <summary>Maps core diagnostics onto MSBuild's logger, codes in errorCode so -noWarn and -warnAsMessage work.</summary>
internal sealed class MSBuildLog : IBuildLog
{
    private readonly TaskLoggingHelper _log;
    public MSBuildLog(TaskLoggingHelper log) => _log = log;

    public void Report(Diagnostic d)
    {
        // The MSBuild logger is thread-safe for these calls; stages report from many threads.
        switch (d.Severity)
        {
            case Severity.Error:
                _log.LogError(null, d.Code, null, d.File, d.Line, d.Column, 0, 0, d.Message);
                break;
            case Severity.Warning:
                _log.LogWarning(null, d.Code, null, d.File, d.Line, d.Column, 0, 0, d.Message);
                break;
            default:
                _log.LogMessage(MessageImportance.High, d.Message);
                break;
        }
    }

    /// <summary>User errors print as one line with code and location, never a stack trace.</summary>
    public void Report(KdgException e) => Report(Diagnostic.From(e));
}
