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

    private const string EveryStagePlaceholders = "{dataset}, {stage}, {run}, {run_dir}, {raw_dir}, {cache_dir}, {root}, {tools}, {params_file}, {params.NAME}, {vars.NAME}, {teacher}, {upstream.STAGE}";

    /// <summary>What a swept stage's command and paths may name, said when a placeholder is unknown.</summary>
    public const string StagePlaceholders = EveryStagePlaceholders + ", {variant}, {sweep.NAME}, {seed}";

    /// <summary>What an unswept stage's may name: its error does not list {variant} as known where it is the unknown one.</summary>
    public const string UnsweptStagePlaceholders = EveryStagePlaceholders + " ({variant}, {sweep.NAME} and {seed} only on a swept stage)";

    /// <param name="known">The placeholders this text may name (for a did-you-mean when one is unknown).</param>
    /// <param name="knownList">The placeholders this text may name, as the error lists them (a stage's by default: the generator and paths: have fewer).</param>
    public static string Render(string template, Func<string, Value?> resolve, bool shell, string where, Func<IEnumerable<string>>? known = null, string knownList = StagePlaceholders)
    {
        var sb = new StringBuilder(template.Length + 64);
        Render(sb, template, resolve, shell ? new ShellContext() : null, where, 0, known, knownList);
        return sb.ToString();
    }

    private static void Render(StringBuilder sb, string template, Func<string, Value?> resolve, ShellContext? shell, string where, int depth, Func<IEnumerable<string>>? known, string knownList)
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
                $"{where}: unknown placeholder '{{{name}}}'.{(known is null ? "" : Spelling.DidYouMean(name, known(), 3))} Known here: {knownList}. Write '{{{{' for a literal brace.");
            if (value.Raw) Render(sb, value.Text, resolve, shell, where, depth + 1, known, knownList);
            else sb.Append(shell?.Literal(value.Text, name, where) ?? value.Text);
            if (sb.Length > MaxLength)
                throw new KdgException(ErrorCodes.UnknownPlaceholder, $"{where}: the text with its placeholders filled in is longer than {MaxLength / 1024} KiB (at '{{{name}}}'), more than a command line can hold. Check vars that repeat other vars, or pass large values in a file ({{params_file}}).");
            i = end;
        }
    }

    /// <summary>POSIX single-quoting: the only character needing care inside '...' is ' itself.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
