using KdGat.Core.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KdGat.Tasks;

/// <summary>Maps core diagnostics onto MSBuild's logger, codes in errorCode so -noWarn and -warnAsMessage work.</summary>
internal sealed class MSBuildLog : IBuildLog
{
    private readonly TaskLoggingHelper _log;
    private readonly IBuildEngine? _engine;
    private readonly string? _projectFile;

    /// <param name="projectFile">
    /// Where a diagnostic without a file of its own is (a -p: value, SLURM, a cancel): the pipeline
    /// project. MSBuild would put it at the task's line in KdGat's targets, which is not for the user to edit.
    /// </param>
    public MSBuildLog(TaskLoggingHelper log, IBuildEngine? engine = null, string? projectFile = null)
    {
        _log = log;
        _engine = engine;
        _projectFile = string.IsNullOrEmpty(projectFile) ? null : projectFile;
    }

    public void Report(Diagnostic d)
    {
        d = d with { Message = Bounded(ConsoleText.Printable(d.Message)), File = d.File is null ? null : ConsoleText.Printable(d.File) };
        var file = string.IsNullOrEmpty(d.File) ? _projectFile : d.File;
        // The MSBuild logger is thread-safe for these calls; stages report from many threads.
        switch (d.Severity)
        {
            case Severity.Error:
                _log.LogError(null, d.Code, null, file, d.Line, d.Column, 0, 0, d.Message);
                break;
            case Severity.Warning:
                _log.LogWarning(null, d.Code, null, file, d.Line, d.Column, 0, 0, d.Message);
                // The terminal logger shows a warning only when its project ends: a build waiting for
                // another's lock (minutes, behind a running stage) would sit there saying nothing.
                if (d.Code == ErrorCodes.LockWait && TerminalLogger) Message($"KdGat: {d.Message}");
                break;
            default:
                Message(d.Message);
                break;
        }
    }

    /// <summary>MSBuild's answer (-warnAsError, -warnNotAsError, -warnAsMessage and -noWarn taken into account); it fails its build on such a warning.</summary>
    public bool WarningIsError(string? code) =>
        code is not null && _engine is IBuildEngine8 engine && engine.ShouldTreatWarningAsError(code);

    /// <summary>
    /// A line for the user. The terminal logger (-tl) holds a project's messages until the project
    /// ends, and shows them only at detailed verbosity, except "TLTESTOUTPUT" messages of a project
    /// it saw run _TestRunStart (the protocol test runners use): those it prints at once. The
    /// targets that print (running stages, Explain, Clean, Status, ...) run that target, so their
    /// lines appear live without -tlp:verbosity=detailed; every other logger (console, file,
    /// binlog, IDEs) sees a plain high-importance message.
    /// </summary>
    public void Message(string text)
    {
        text = ConsoleText.Printable(text);
        if (_engine is not null)
            _engine.LogMessageEvent(new ExtendedBuildMessageEventArgs("TLTESTOUTPUT", text, null, "KdGat", MessageImportance.High));
        else
            _log.LogMessage(MessageImportance.High, text);
    }

    /// <summary>Whether MSBuild's terminal logger (-tl) prints this build: it sets this variable for its process.</summary>
    private static bool TerminalLogger => Environment.GetEnvironmentVariable("_MSBUILDTLENABLED") == "1";

    /// <summary>Longest message printed whole; a longer one (a 500,000-character dataset name echoed back) keeps its start and its end, where the fix is.</summary>
    internal const int MaxMessage = 4000;

    internal static string Bounded(string message) => message.Length <= MaxMessage ? message
        : $"{message[..(MaxMessage * 3 / 4)]} … ({message.Length - MaxMessage} characters left out) … {message[^(MaxMessage / 4)..]}";

    /// <summary>User errors print as one line with code and location, never a stack trace.</summary>
    public void Report(KdgException e) => Report(Diagnostic.From(e));
}
