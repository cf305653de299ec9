using System.Globalization;
using System.Text;

namespace KdGat.Core.Diagnostics;

/// <summary>What KdGat prints, made safe for a terminal.</summary>
internal static class ConsoleText
{
    /// <summary>
    /// Control characters but line breaks and tabs, written out (\x1b): a parameter value or reason holding an
    /// escape sequence or a carriage return reached the terminal raw, recolouring it or cutting the line (a review).
    /// </summary>
    public static string Printable(string text)
    {
        var i = 0;
        while (i < text.Length && !IsControl(text[i])) i++;
        if (i == text.Length) return text;
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, i);
        for (; i < text.Length; i++)
            if (IsControl(text[i])) sb.Append(text[i] < 0x100 ? "\\x" : "\\u").Append(((int)text[i]).ToString(text[i] < 0x100 ? "x2" : "x4", CultureInfo.InvariantCulture));
            else sb.Append(text[i]);
        return sb.ToString();
    }

    /// <summary>A value quoted inside a line, kept on that line: its line breaks written out (\n), as a newline in
    /// -p:Dataset split the KDG1101 line in two, the second without its code's context.</summary>
    public static string OneLine(string value) =>
        value.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>C0 and C1 controls but line breaks and tabs, and the bidirectional format marks (U+202E shows text reversed).</summary>
    private static bool IsControl(char c) => (char.IsControl(c) && c is not '\n' and not '\t') || c is '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
