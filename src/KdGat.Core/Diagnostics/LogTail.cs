using System.Text;

namespace KdGat.Core.Diagnostics;

/// <summary>
/// The last lines of a stage's stderr, for the failure message itself, so the cause is on the
/// console and in an IDE's error list, not only in the .err file. Bounded: reads at most the last
/// <see cref="MaxBytes"/> of the file, keeps <see cref="MaxLines"/> lines of at most
/// <see cref="MaxLineLength"/> characters, control characters removed.
/// </summary>
internal static class LogTail
{
    public const int MaxLines = 10;
    public const int MaxLineLength = 400; // a tool's one-line error with a long path and its fix (the sample's run to ~350)
    public const int MaxBytes = 16 * 1024;

    /// <summary>The last non-empty lines of <paramref name="path"/>; empty when it is missing, empty or unreadable.</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        byte[] bytes;
        bool truncated;
        try
        {
            IO.SmallFile.RefuseSpecial(path);
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            truncated = f.Length > MaxBytes;
            if (truncated) f.Seek(-MaxBytes, SeekOrigin.End);
            bytes = new byte[(int)Math.Min(f.Length, MaxBytes)];
            f.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        return lines.Skip(truncated ? 1 : 0) // the first line read mid-way is partial
            .Select(Clean).Where(l => l.Length > 0).TakeLast(MaxLines).ToArray();
    }

    /// <summary>"\nLast lines of its stderr (path):\n  | ..." to append to a message; empty when there is nothing to show.</summary>
    public static string Describe(string path, string shownPath)
    {
        var lines = Read(path);
        return lines.Count == 0 ? "" : $"\nLast lines of its stderr ({shownPath}):\n" + string.Join("\n", lines.Select(l => "  | " + l));
    }

    private static string Clean(string line)
    {
        var sb = new StringBuilder(Math.Min(line.Length, MaxLineLength + 1));
        foreach (var c in line)
        {
            if (sb.Length >= MaxLineLength) { sb.Append('…'); break; }
            if (c == '\t') sb.Append(' ');
            else if (!char.IsControl(c)) sb.Append(c);
        }
        return sb.ToString().TrimEnd();
    }
}
