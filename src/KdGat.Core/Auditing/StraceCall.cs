using System.Globalization;

namespace KdGat.Core.Auditing;

internal sealed partial class StraceParser
{
    /// <summary>
    /// One complete traced call: <c>name(arg, arg, ...) = result</c>. Arguments are split at
    /// top-level commas only: commas inside quoted strings, -y decorations (&lt;...&gt;), and
    /// structs, arrays or calls ({...} [...] (...)) stay in their argument.
    /// </summary>
    internal sealed record Call(string Name, IReadOnlyList<string> Args, long? Return, bool Failed)
    {
        public static bool TryParse(string text, out Call call)
        {
            call = null!;
            var open = text.IndexOf('(');
            if (open <= 0 || !IsName(text.AsSpan(0, open))) return false;
            var args = new List<string>();
            var depth = 0;
            var inQuote = false;
            var inDecoration = false;
            var start = open + 1;
            var i = start;
            for (; i < text.Length; i++)
            {
                var c = text[i];
                if (inQuote)
                {
                    if (c == '\\') i++;
                    else if (c == '"') inQuote = false;
                    continue;
                }
                if (inDecoration) { inDecoration = c != '>'; continue; }
                if (c == '"') inQuote = true;
                else if (c == '<') inDecoration = true;
                else if (c is '(' or '[' or '{') depth++;
                else if (c is ']' or '}') depth--;
                else if (c == ')')
                {
                    if (depth == 0) break;
                    depth--;
                }
                else if (c == ',' && depth == 0)
                {
                    args.Add(text[start..i].Trim());
                    start = i + 1;
                }
            }
            if (i >= text.Length) return false; // no closing parenthesis: a damaged or cut-off line
            var last = text[start..i].Trim();
            if (last.Length > 0 || args.Count > 0) args.Add(last);

            var result = text[(i + 1)..].TrimStart();
            if (!result.StartsWith('=')) return false;
            result = result[1..].Trim();
            // "= -1 ENOENT (...)" failed; "= ?" never returned (the process ended inside the call).
            var failed = result.StartsWith("-1", StringComparison.Ordinal) || result.StartsWith('?');
            var number = result.Split(' ', '<')[0];
            long? ret = long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
            call = new Call(text[..open], args, ret, failed);
            return true;
        }

        private static bool IsName(ReadOnlySpan<char> s)
        {
            foreach (var c in s)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
            return true;
        }
    }
}
