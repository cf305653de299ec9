namespace KdGat.Core.Diagnostics;

/// <summary>
/// An error the user can cause and fix. Carries a KDG code, the file (and position) it is about,
/// and a message that says what to do. Front ends print it without a stack trace.
/// </summary>
internal sealed class KdgException : Exception
{
    public KdgException(string code, string message, string? file = null, int line = 0, int column = 0, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        File = file;
        Line = line;
        Column = column;
    }

    /// <summary>The same error at another place (a stage's entry in the configuration), its message optionally prefixed.</summary>
    public KdgException At(string file, int line, int column, string prefix = "") => new(Code, prefix + Message, file, line, column, this);

    public string Code { get; }
    public string? File { get; }
    public int Line { get; }
    public int Column { get; }

    public override string ToString()
    {
        var where = File is null ? "" : Line > 0 ? $"{File}({Line},{Column}): " : $"{File}: ";
        return $"{where}error {Code}: {Message}";
    }
}
