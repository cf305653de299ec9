using KdGat.Core.Pipeline;

namespace KdGat.Core.Diagnostics;

/// <summary>
/// Diagnostics about a stage instance point at the stage's entry in the configuration
/// (kdgat.yaml(line,col)), so an IDE's error list opens the user's stage, not KdGat's targets file.
/// </summary>
internal static class StageDiagnostic
{
    /// <param name="at">A place inside the stage's entry (the line of one of its inputs or outputs), when the message is about it.</param>
    public static Diagnostic At(StageInstance s, Severity severity, string code, string message, (int Line, int Column)? at = null)
    {
        var text = message.StartsWith(s.Key, StringComparison.Ordinal) ? message : $"{s.Key}: {message}";
        var (line, column) = at ?? (s.Config.Line, s.Config.Column);
        return new Diagnostic(severity, code, text, s.Layout.Config.File, line, column);
    }
}
