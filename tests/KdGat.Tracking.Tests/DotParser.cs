using System.Text;

namespace KdGat.Tracking.Tests;

/// <summary>
/// A parser for the Graphviz DOT language (the grammar of graphviz.org/doc/info/lang.html: IDs,
/// numerals, quoted strings with \" escapes and '+' concatenation, comments, attribute lists,
/// subgraphs, edge chains, ports), so a test checks that -t:Graph's file parses without needing
/// Graphviz installed. Throws FormatException with the offset on anything else.
/// </summary>
internal sealed class DotParser
{
    /// <param name="Nodes">Nodes declared by a node statement (not those only named by an edge), with their attributes.</param>
    public sealed record Graph(bool Directed, string? Name, IReadOnlyDictionary<string, Dictionary<string, string>> Nodes, IReadOnlyList<(string From, string To)> Edges, int Subgraphs);

    private enum Kind { Id, Punct, End }
    private readonly record struct Token(Kind Kind, string Text, int At, bool Keyword);

    private readonly List<Token> _tokens;
    private int _pos;
    private bool _directed;
    private int _subgraphs;
    private readonly Dictionary<string, Dictionary<string, string>> _nodes = new(StringComparer.Ordinal);
    private readonly List<(string, string)> _edges = [];

    private DotParser(string text) => _tokens = Tokenize(text);

    public static Graph Parse(string text)
    {
        var p = new DotParser(text);
        var g = p.ParseGraph();
        return g;
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase) { "strict", "graph", "digraph", "node", "edge", "subgraph" };

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#' && (i == 0 || s[i - 1] == '\n')) { while (i < s.Length && s[i] != '\n') i++; continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '/') { while (i < s.Length && s[i] != '\n') i++; continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                var end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0) throw new FormatException($"unclosed comment at {i}");
                i = end + 2;
                continue;
            }
            if (c == '-' && i + 1 < s.Length && (s[i + 1] == '>' || s[i + 1] == '-')) { tokens.Add(new(Kind.Punct, s.Substring(i, 2), i, false)); i += 2; continue; }
            if ("{}[];,=:".Contains(c)) { tokens.Add(new(Kind.Punct, c.ToString(), i, false)); i++; continue; }
            if (c == '"')
            {
                var start = i;
                var sb = new StringBuilder();
                while (true) // "a" + "b" is one ID
                {
                    i++;
                    while (true)
                    {
                        if (i >= s.Length) throw new FormatException($"unclosed string at {start}");
                        if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == '\n') { i += 2; continue; }
                        if (s[i] == '"') { i++; break; }
                        sb.Append(s[i++]);
                    }
                    var j = i;
                    while (j < s.Length && char.IsWhiteSpace(s[j])) j++;
                    if (j < s.Length && s[j] == '+')
                    {
                        j++;
                        while (j < s.Length && char.IsWhiteSpace(s[j])) j++;
                        if (j < s.Length && s[j] == '"') { i = j; continue; }
                    }
                    break;
                }
                tokens.Add(new(Kind.Id, sb.ToString(), start, false));
                continue;
            }
            if (c == '<') throw new FormatException($"HTML string at {i}: not produced by KdGat");
            if (char.IsLetter(c) || c == '_' || c >= '\u0080')
            {
                var start = i;
                while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_' || s[i] >= '\u0080')) i++;
                var word = s[start..i];
                tokens.Add(new(Kind.Id, word, start, Keywords.Contains(word)));
                continue;
            }
            if (char.IsDigit(c) || c == '.' || c == '-')
            {
                var start = i;
                if (c == '-') i++;
                var digits = 0;
                while (i < s.Length && char.IsDigit(s[i])) { i++; digits++; }
                if (i < s.Length && s[i] == '.') { i++; while (i < s.Length && char.IsDigit(s[i])) { i++; digits++; } }
                if (digits == 0) throw new FormatException($"bad numeral at {start}");
                tokens.Add(new(Kind.Id, s[start..i], start, false));
                continue;
            }
            throw new FormatException($"unexpected character '{c}' at {i}");
        }
        tokens.Add(new(Kind.End, "", s.Length, false));
        return tokens;
    }

    private Token Peek(int ahead = 0) => _tokens[Math.Min(_pos + ahead, _tokens.Count - 1)];
    private Token Next() => _tokens[_pos++];
    private bool IsPunct(string p, int ahead = 0) => Peek(ahead) is { Kind: Kind.Punct } t && t.Text == p;
    private bool IsKeyword(string k) => Peek() is { Kind: Kind.Id, Keyword: true } t && string.Equals(t.Text, k, StringComparison.OrdinalIgnoreCase);

    private void Expect(string p)
    {
        var t = Next();
        if (t.Kind != Kind.Punct || t.Text != p) throw new FormatException($"expected '{p}' at {t.At}, found '{t.Text}'");
    }

    private string ExpectId()
    {
        var t = Next();
        if (t.Kind != Kind.Id || t.Keyword) throw new FormatException($"expected an ID at {t.At}, found '{t.Text}'");
        return t.Text;
    }

    private Graph ParseGraph()
    {
        if (IsKeyword("strict")) Next();
        if (IsKeyword("digraph")) _directed = true;
        else if (!IsKeyword("graph")) throw new FormatException($"expected 'graph' or 'digraph' at {Peek().At}");
        Next();
        string? name = Peek() is { Kind: Kind.Id, Keyword: false } ? ExpectId() : null;
        Expect("{");
        StatementList();
        Expect("}");
        if (Peek().Kind != Kind.End) throw new FormatException($"text after the graph at {Peek().At}");
        return new Graph(_directed, name, _nodes, _edges, _subgraphs);
    }

    private void StatementList()
    {
        while (!IsPunct("}"))
        {
            if (Peek().Kind == Kind.End) throw new FormatException("unexpected end: missing '}'");
            Statement();
            if (IsPunct(";")) Next();
        }
    }

    private void Statement()
    {
        if (IsKeyword("graph") || IsKeyword("node") || IsKeyword("edge")) { Next(); AttrList(required: true); return; }
        if (Peek() is { Kind: Kind.Id, Keyword: false } && IsPunct("=", 1)) { Next(); Next(); ExpectId(); return; }
        var first = Operand();
        if (IsPunct("->") || IsPunct("--"))
        {
            var from = first;
            while (IsPunct("->") || IsPunct("--"))
            {
                var op = Next();
                if ((op.Text == "->") != _directed) throw new FormatException($"edge operator '{op.Text}' at {op.At} does not match the graph kind");
                var to = Operand();
                foreach (var a in from) foreach (var b in to) _edges.Add((a, b));
                from = to;
            }
            if (IsPunct("[")) AttrList(required: true);
            return;
        }
        if (first.Count == 1 && !_subgraphJustParsed)
        {
            var attrs = IsPunct("[") ? AttrList(required: true) : new Dictionary<string, string>(StringComparer.Ordinal);
            if (!_nodes.TryGetValue(first[0], out var known)) _nodes[first[0]] = known = new(StringComparer.Ordinal);
            foreach (var (k, v) in attrs) known[k] = v;
        }
    }

    private bool _subgraphJustParsed;

    /// <summary>A node id (with an optional port) or a subgraph; returns the node ids it stands for.</summary>
    private List<string> Operand()
    {
        _subgraphJustParsed = false;
        if (IsKeyword("subgraph") || IsPunct("{"))
        {
            if (IsKeyword("subgraph")) { Next(); if (Peek() is { Kind: Kind.Id, Keyword: false }) Next(); }
            var before = new HashSet<string>(_nodes.Keys, StringComparer.Ordinal);
            var edgesBefore = _edges.Count;
            Expect("{");
            _subgraphs++;
            StatementList();
            Expect("}");
            _subgraphJustParsed = true;
            return _nodes.Keys.Where(k => !before.Contains(k)).Concat(_edges.Skip(edgesBefore).SelectMany(e => new[] { e.Item1, e.Item2 })).Distinct().ToList();
        }
        var id = ExpectId();
        if (IsPunct(":")) { Next(); ExpectId(); if (IsPunct(":")) { Next(); ExpectId(); } }
        return [id];
    }

    private Dictionary<string, string> AttrList(bool required)
    {
        var attrs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (required && !IsPunct("[")) throw new FormatException($"expected '[' at {Peek().At}");
        while (IsPunct("["))
        {
            Next();
            while (!IsPunct("]"))
            {
                var key = ExpectId();
                Expect("=");
                attrs[key] = ExpectId();
                if (IsPunct(",") || IsPunct(";")) Next();
            }
            Expect("]");
        }
        return attrs;
    }
}
