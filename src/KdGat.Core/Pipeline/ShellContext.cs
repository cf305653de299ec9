using System.Text;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Pipeline;

/// <summary>
/// Where in sh's quoting the command text read so far stands, so a placeholder's value can be
/// written as text sh reads back as exactly the value: single-quoted where the text is unquoted (or
/// in $(...) or a subshell), escaped for '...' or "..." where the author quoted it. Comments are
/// followed. Where this reading cannot be sure (after a here-document, a `case`, backticks, $'...',
/// or quotes inside ${...}), a placeholder is an error (KDG1037), never a guess: a wrong guess would
/// leave the value unquoted, and a value could then run as a command (found by review).
/// </summary>
internal sealed class ShellContext
{
    private enum Kind { Single, Double, Subshell, Brace, Comment }

    private readonly Stack<Kind> _open = new();
    private readonly StringBuilder _word = new();
    private bool _escaped;
    private char _previous = '\n';
    private string? _unsure;

    private Kind? Top => _open.Count == 0 ? null : _open.Peek();

    /// <summary>A new context: a word being read before it is no keyword (quoted text never is one).</summary>
    private void Open(Kind kind)
    {
        _open.Push(kind);
        _word.Clear();
    }
    /// <summary>Unquoted text, $(...) or a subshell: where sh splits words and a '#' can start a comment.</summary>
    private bool Unquoted => Top is null or Kind.Subshell;

    /// <summary>One character of the template text (never of a value).</summary>
    public void Read(char c)
    {
        var previous = _previous;
        _previous = c;
        if (_escaped) { _escaped = false; return; }
        switch (Top)
        {
            case Kind.Comment:
                if (c == '\n') _open.Pop();
                return;
            case Kind.Single:
                if (c == '\'') _open.Pop();
                return;
            case Kind.Double:
                if (c == '"') _open.Pop();
                else if (c == '\\') _escaped = true;
                else if (c == '`') Unsure("backticks (write $(...) instead)");
                else if (c == '(' && previous == '$') Open(Kind.Subshell);
                else if (c == '{' && previous == '$') Open(Kind.Brace);
                return;
            case Kind.Brace:
                if (c == '}') _open.Pop();
                else if (c is '\'' or '"' or '`' or '\\') Unsure("quotes inside ${...} (sh and bash read them differently)");
                return;
        }
        // Unquoted, $(...) or a subshell.
        if (IsWordEnd(c))
        {
            var word = _word.ToString();
            _word.Clear();
            if (word is "case" or "esac") Unsure("a case statement (its patterns end in ')')");
        }
        else _word.Append(c);
        if (c == '#' && IsWordEnd(previous)) { Open(Kind.Comment); return; }
        if (c == '\'' && previous == '$') { Unsure("$'...' (sh and bash read it differently)"); return; }
        if (c == '<' && previous == '<') { Unsure("a here-document (<<)"); return; }
        switch (c)
        {
            case '\'': Open(Kind.Single); break;
            case '"': Open(Kind.Double); break;
            case '\\': _escaped = true; break;
            case '`': Unsure("backticks (write $(...) instead)"); break;
            case '(': Open(Kind.Subshell); break;
            case ')' when Top == Kind.Subshell: _open.Pop(); break;
            case '{' when previous == '$': Open(Kind.Brace); break;
        }
    }

    private void Unsure(string what) => _unsure ??= what;

    private static bool IsWordEnd(char c) => char.IsWhiteSpace(c) || c is ';' or '&' or '|' or '(' or ')' or '<' or '>';

    /// <summary>The value as text sh reads back as exactly the value, where the text read so far stands.</summary>
    /// <param name="placeholder">For the error: which placeholder, in which text.</param>
    public string Literal(string value, string placeholder, string where)
    {
        // In a comment the value is only text, unless a line break in it ended the comment.
        // A '$' right before it would make bash read the quoted value as $'...', with escapes, or,
        // inside "...", expand what the value starts with: $( runs a command.
        var dollar = (Unquoted || Top == Kind.Double) && _previous == '$';
        if (_unsure is not null || dollar || Top is Kind.Brace || Top is Kind.Comment && value.AsSpan().IndexOfAny('\n', '\r') >= 0)
            throw new KdgException(ErrorCodes.PlaceholderUnquotable,
                $"{where}: KdGat cannot tell how the shell quotes '{{{placeholder}}}' there ({(dollar ? "right after a '$'" : Top == Kind.Brace ? "inside ${...}" : Top == Kind.Comment ? "in a comment, with a line break in its value" : $"it comes after {_unsure}")}), so it cannot pass its value safely. " +
                "Move the placeholder before that part, or put that part of the command in a script (listed under code:) that takes the value as an argument.");
        return Top switch
        {
            Kind.Single => value.Replace("'", "'\\''"),
            // Inside "...", only \ " $ and ` are special (a backslash before anything else stays).
            Kind.Double => Escape(value, "\\\"$`"),
            _ => CommandTemplate.Quote(value),
        };
    }

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
