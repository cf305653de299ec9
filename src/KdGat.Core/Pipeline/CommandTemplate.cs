using System.Text;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Pipeline;

/// <summary>
/// Fills {placeholders} in commands and paths. In shell mode every substituted value reaches the
/// program verbatim and runs nothing, whatever quotes, $(...), backticks or newlines it holds: it is
/// single-quoted where the template text around it is unquoted, and escaped for the quotes it stands
/// in where the author quoted it ("{raw_dir}/x.csv", 'print({params.lr})', as Snakemake users write),
/// instead of carrying literal quote characters into the value. Only the template text itself
/// (written by the config's author) is shell. '{{' and '}}' stand for literal braces.
/// </summary>
internal static class CommandTemplate
{
    /// <summary>Resolves a placeholder name to a value; <c>Raw</c> values are template text (vars) rendered in place.</summary>
    public readonly record struct Value(string Text, bool Raw = false);

    /// <summary>
    /// Longest rendered text: Linux refuses a longer single argument (MAX_ARG_STRLEN, the command
    /// given to sh -c) anyway, and vars that each repeat the one before grow tenfold a level (a
    /// hostile-input pass reached 13 GB before the depth limit).
    /// </summary>
    public const int MaxLength = 128 * 1024;

    /// <param name="known">The placeholders this text may name (for a did-you-mean when one is unknown).</param>
    public static string Render(string template, Func<string, Value?> resolve, bool shell, string where, Func<IEnumerable<string>>? known = null)
    {
        var sb = new StringBuilder(template.Length + 64);
        Render(sb, template, resolve, shell ? new ShellQuotes() : null, where, 0, known);
        return sb.ToString();
    }

    private static void Render(StringBuilder sb, string template, Func<string, Value?> resolve, ShellQuotes? shell, string where, int depth, Func<IEnumerable<string>>? known)
    {
        if (depth > 8) throw new KdgException(ErrorCodes.UnknownPlaceholder, $"{where}: vars refer to each other in a loop. Break the cycle.");
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{') { sb.Append('{'); shell?.Read('{'); i++; continue; }
            if (c == '}' && i + 1 < template.Length && template[i + 1] == '}') { sb.Append('}'); shell?.Read('}'); i++; continue; }
            if (c != '{') { sb.Append(c); shell?.Read(c); continue; }
            var end = template.IndexOf('}', i + 1);
            if (end < 0) throw new KdgException(ErrorCodes.UnknownPlaceholder, $"{where}: '{{' without a closing '}}' in '{template}'. Write '{{{{' for a literal brace.");
            var name = template[(i + 1)..end];
            var value = resolve(name) ?? throw new KdgException(ErrorCodes.UnknownPlaceholder,
                $"{where}: unknown placeholder '{{{name}}}'.{(known is null ? "" : Spelling.DidYouMean(name, known(), 3))} Known: {{dataset}}, {{stage}}, {{run}}, {{run_dir}}, {{raw_dir}}, {{cache_dir}}, {{root}}, {{tools}}, {{params_file}}, {{params.NAME}}, {{vars.NAME}}, {{teacher}}, {{upstream.STAGE}}. Write '{{{{' for a literal brace.");
            if (value.Raw) Render(sb, value.Text, resolve, shell, where, depth + 1, known);
            else sb.Append(shell?.Literal(value.Text) ?? value.Text);
            if (sb.Length > MaxLength)
                throw new KdgException(ErrorCodes.UnknownPlaceholder, $"{where}: the text with its placeholders filled in is longer than {MaxLength / 1024} KiB (at '{{{name}}}'), more than a command line can hold. Check vars that repeat other vars, or pass large values in a file ({{params_file}}).");
            i = end;
        }
    }

    /// <summary>POSIX single-quoting: the only character needing care inside '...' is ' itself.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>
    /// Which quotes the template text read so far leaves open, as sh reads it: '...', "...", and
    /// $(...) and `...` (unquoted inside, also within "..."); a backslash escapes the next character
    /// outside '...'. Enough for the commands people write; a value is safe in any case where this
    /// is right, and where it is wrong (a here-document, a quote in a comment) the command is as the author wrote it.
    /// </summary>
    private sealed class ShellQuotes
    {
        private enum Context { Unquoted, Single, Double, Substitution, Backtick }
        private readonly Stack<Context> _open = new();
        private bool _escaped, _dollar;

        private Context Top => _open.Count == 0 ? Context.Unquoted : _open.Peek();

        public void Read(char c)
        {
            var dollar = _dollar;
            _dollar = false;
            if (_escaped) { _escaped = false; return; }
            switch (Top)
            {
                case Context.Single:
                    if (c == '\'') _open.Pop();
                    return;
                case Context.Double:
                    if (c == '"') _open.Pop();
                    else if (c == '\\') _escaped = true;
                    else if (c == '`') _open.Push(Context.Backtick);
                    else if (c == '(' && dollar) _open.Push(Context.Substitution);
                    _dollar = c == '$';
                    return;
                default:
                    if (c == '\'') _open.Push(Context.Single);
                    else if (c == '"') _open.Push(Context.Double);
                    else if (c == '\\') _escaped = true;
                    else if (c == '`' && Top == Context.Backtick) _open.Pop();
                    else if (c == '`') _open.Push(Context.Backtick);
                    else if (c == '(') _open.Push(Context.Substitution); // $( or a subshell's (: both end at )
                    else if (c == ')' && Top == Context.Substitution) _open.Pop();
                    _dollar = c == '$';
                    return;
            }
        }

        /// <summary>The value as text that sh reads back as exactly the value, here.</summary>
        public string Literal(string value) => Top switch
        {
            Context.Single => value.Replace("'", "'\\''"),
            // Inside "...", only \ " $ and ` are special (a backslash before anything else stays).
            Context.Double => Escape(value, "\\\"$`"),
            // `...` takes the backslash before \ ` and $ away before it runs its text: quoted, then those escaped.
            Context.Backtick => Escape(Quote(value), "\\`$"),
            _ => Quote(value),
        };

        private static string Escape(string value, string special)
        {
            var sb = new StringBuilder(value.Length + 8);
            foreach (var c in value)
            {
                if (special.Contains(c)) sb.Append('\\');
                sb.Append(c);
            }
            return sb.ToString();
        }
    }
}
