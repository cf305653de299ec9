using KdGat.Core.Pipeline;

namespace KdGat.Core.Diagnostics;

/// <summary>
/// Diagnostics about a stage instance point at the stage's entry in the configuration
/// (kdgat.yaml(line,col)), so an IDE's error list opens the user's stage, not KdGat's targets file.
/// </summary>
internal static class StageDiagnostic
{
    public static Diagnostic At(StageInstance s, Severity severity, string code, string message)
    {
        var text = message.StartsWith(s.Key, StringComparison.Ordinal) ? message : $"{s.Key}: {message}";
        return new Diagnostic(severity, code, text, s.Layout.Config.File, s.Config.Line, s.Config.Column);
    }
}
