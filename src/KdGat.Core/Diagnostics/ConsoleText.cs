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
            if (IsControl(text[i])) sb.Append("\\x").Append(((int)text[i]).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(text[i]);
        return sb.ToString();
    }

    private static bool IsControl(char c) => char.IsControl(c) && c is not '\n' and not '\t';
}
