using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// Reads a YAML file (kdgat.yaml or a params file) into a node tree with bounded work: regular
/// files only, at most <see cref="MaxFileBytes"/>, nesting at most <see cref="MaxDepth"/> levels
/// and at most <see cref="MaxNodes"/> nodes with every alias expanded, and no alias inside the
/// node it names (a cycle). Merge keys (<c>&lt;&lt;: *base</c>) are expanded (<see cref="YamlMerge"/>).
/// Whatever YamlDotNet throws (YamlException, but also
/// InvalidOperationException from its scanner) becomes a KDG1002 with file(line,col).
/// </summary>
internal static partial class YamlLoader
{
    /// <summary>Largest configuration or params file read (1 MiB; kdgat.yaml for 600 datasets is ~20 KiB).</summary>
    public const int MaxFileBytes = 1 << 20;
    /// <summary>Deepest nesting of mappings and lists, aliases expanded.</summary>
    public const int MaxDepth = 64;
    /// <summary>Most nodes in one file with every alias expanded (stops "billion laughs").</summary>
    public const int MaxNodes = 100_000;

    /// <summary>The first document's root node, or null for an empty file. The file must exist.</summary>
    /// <param name="sources">Told the file and a digest of exactly the bytes parsed.</param>
    public static YamlNode? Load(string file, ConfigSources? sources = null)
    {
        var text = ReadBounded(file, sources);
        CheckNoNul(file, text);
        var scanner = new Scanner(new StringReader(text), skipComments: true);
        var parser = new Parser(scanner);
        var events = new List<ParsingEvent>();
        var budget = new Budget(file);
        var open = new Stack<NodeEvent>(); // collections not yet ended: an unclosed '[' or '{' is the usual cause of the scanner's InvalidOperationException
        try
        {
            while (parser.MoveNext())
            {
                budget.Add(parser.Current!);
                CheckTag(file, parser.Current!);
                events.Add(parser.Current!);
                if (parser.Current is SequenceStart or MappingStart) open.Push((NodeEvent)parser.Current);
                else if (parser.Current is SequenceEnd or MappingEnd && open.Count > 0) open.Pop();
            }
        }
        catch (KdgException) { throw; }
        // An unclosed '[' or '{' is reported where it opens: YamlDotNet names the end of the file or
        // the next line, and for the latter throws InvalidOperationException ("Operation is not valid
        // due to the current state of the object").
        // YamlDotNet's flow errors count only at the end of the file: "{a: b: c}" is closed, only malformed.
        catch (Exception e) when (e is not YamlException || (e is YamlException { Start.Index: var at } && at >= text.TrimEnd().Length
                                                             && e.Message.Contains("While parsing a flow", StringComparison.Ordinal)))
        {
            if (open.FirstOrDefault(Flow) is not { } unclosed) throw Syntax(file, text, e, e is YamlException y ? y.Start : scanner.CurrentPosition);
            var (opening, closing) = unclosed is SequenceStart ? ('[', ']') : ('{', '}');
            throw new KdgException(ErrorCodes.YamlSyntax,
                $"malformed YAML: the '{opening}' here is not closed (the file ends, or a line below starts something else, before its '{closing}'). Add the '{closing}', or write the value as a block list or mapping.",
                file, Math.Max(1, (int)unclosed.Start.Line), Math.Max(1, (int)unclosed.Start.Column), e);
        }
        // Some scanner errors (a tab as indentation) carry the document's start, (1,1): where the scanner stopped is the place.
        catch (YamlException e) { throw Syntax(file, text, e, e.Start is { Line: <= 1, Column: <= 1 } ? scanner.CurrentPosition : e.Start); }

        var replay = new Replay(events);
        var stream = new YamlStream();
        try { stream.Load(replay); }
        catch (YamlException e) { throw Syntax(file, text, e, e.Start); }
        catch (Exception e) { throw Syntax(file, text, e, replay.Current?.Start ?? Mark.Empty); }
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            throw new KdgException(ErrorCodes.YamlSyntax,
                "a second YAML document ('---') starts here; KdGat reads one document per file, so it would be ignored. Remove the '---' line, or move what follows into the first document.",
                file, Math.Max(1, (int)second.Line), Math.Max(1, (int)second.Column));
        }
        if (stream.Documents.Count == 0) return null;
        var root = stream.Documents[0].RootNode;
        YamlMerge.Expand(root, file);
        return root;
    }

    private static string ReadBounded(string file, ConfigSources? sources)
    {
        var stat = PathStat.Of(file);
        if (stat.Kind != PathKind.File)
            throw new KdgException(ErrorCodes.YamlSyntax, $"'{file}' is a {stat.TypeName}, not a regular file. Point at a YAML file.", file);
        byte[] buffer;
        int total = 0, n;
        try
        {
            using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            // Sized to the file (not 1 MiB per file read); a file that grows while read is read on, to the limit.
            buffer = new byte[(int)Math.Min(MaxFileBytes + 1L, fs.Length + 1)];
            while (true)
            {
                while (total < buffer.Length && (n = fs.Read(buffer, total, buffer.Length - total)) > 0) total += n;
                if (total < buffer.Length || buffer.Length > MaxFileBytes) break;
                Array.Resize(ref buffer, MaxFileBytes + 1);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KdgException(ErrorCodes.FileAccess, $"cannot read '{file}' ({e.Message}). Fix the file or its permissions.", file);
        }
        if (total > MaxFileBytes)
            throw new KdgException(ErrorCodes.YamlSyntax, $"'{file}' is larger than {MaxFileBytes / 1024} KiB, the most KdGat reads as YAML. Keep configuration and parameters small; put data in inputs.", file);
        CheckUtf8(file, buffer.AsSpan(0, total));
        sources?.Add(file, buffer.AsSpan(0, total));
        return new StreamReader(new MemoryStream(buffer, 0, total), detectEncodingFromByteOrderMarks: true).ReadToEnd();
    }

    /// <summary>
    /// YAML is read as UTF-8 (UTF-16 or UTF-32 with their byte order mark): invalid bytes (a file saved
    /// as Latin-1) became U+FFFD without a word, changing a value's text.
    /// </summary>
    private static void CheckUtf8(string file, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && (bytes[0], bytes[1]) is (0xFE, 0xFF) or (0xFF, 0xFE)) return;
        if (bytes.Length >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0xFE && bytes[3] == 0xFF) return;
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return;
        System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var valid, out _, replaceInvalidSequences: false);
        var before = bytes[..valid];
        var line = 1 + before.Count((byte)'\n');
        var column = valid - before.LastIndexOf((byte)'\n');
        throw new KdgException(ErrorCodes.YamlSyntax,
            $"not valid UTF-8 at byte {valid}: YAML files are UTF-8 here, and a wrong byte would silently change the text. Save the file as UTF-8 (for example `iconv -f latin1 -t utf-8`).",
            file, line, column);
    }

    /// <summary>'!!str' on a value (read as quoted: <see cref="ParamsReader.Value"/>), and '!!map'/'!!seq' on their own kind.</summary>
    public const string StrTag = "tag:yaml.org,2002:str";

    /// <summary>
    /// A tag KdGat would not honour is refused where it is written: `version: !!str 1.10` became the
    /// number 1.1 and `hidden: !!int "32"` the string "32", without a word (a review). A value's type
    /// comes from how it is written; quoting (or !!str) makes it text.
    /// </summary>
    private static void CheckTag(string file, ParsingEvent e)
    {
        if (e is not NodeEvent { Tag: var tag } node || tag.IsEmpty || tag.IsNonSpecific) return;
        var allowed = node switch
        {
            Scalar => tag.Value == StrTag,
            SequenceStart => tag.Value == "tag:yaml.org,2002:seq",
            MappingStart => tag.Value == "tag:yaml.org,2002:map",
            _ => false,
        };
        if (allowed) return;
        var shown = tag.Value.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) ? "!!" + tag.Value["tag:yaml.org,2002:".Length..] : tag.Value;
        throw new KdgException(ErrorCodes.YamlSyntax,
            $"the YAML tag '{shown}' is not supported: KdGat takes a value's type from how it is written (42, 0.5, true, or quoted text) and resolves no tags of other tools (!ENV, !include). Remove the tag: a number or true/false needs none, quotes (or !!str) keep text; write $NAME in a path value for an environment variable, and a params_file for a file of parameters.",
            file, Math.Max(1, (int)node.Start.Line), Math.Max(1, (int)node.Start.Column));
    }

    /// <summary>A NUL byte (a binary file, a truncated write) was reported as a missing ',' two columns on (a review): said as what it is.</summary>
    private static void CheckNoNul(string file, string text)
    {
        var at = text.IndexOf('\0');
        if (at < 0) return;
        var lineStart = text.LastIndexOf('\n', Math.Max(0, at - 1)) + 1;
        throw new KdgException(ErrorCodes.YamlSyntax,
            "a NUL byte (\\0) here: YAML files are text, and this one holds a byte no text has (a binary file, or a write cut short). Remove it, or write the file again.",
            file, 1 + text.AsSpan(0, at).Count('\n'), at - lineStart + 1);
    }

    private static bool Flow(NodeEvent e) => e is SequenceStart { Style: SequenceStyle.Flow } or MappingStart { Style: MappingStyle.Flow };

    private static KdgException Syntax(string file, string text, Exception e, Mark at)
    {
        var message = (e.InnerException as YamlException)?.Message ?? e.Message;
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 40) - (...): "; the position is ours to print.
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && cut > 0) message = message[(cut + 3)..];
        return new KdgException(ErrorCodes.YamlSyntax, $"malformed YAML: {message.TrimEnd('.')}. Fix the syntax at this position.{PlaceholderHint(text, (int)at.Line)}",
            file, Math.Max(1, (int)at.Line), Math.Max(1, (int)at.Column), e);
    }

    /// <summary>
    /// An unquoted value that starts with a placeholder (<c>command: {vars.sample} train</c>,
    /// <c>inputs: [{raw_dir}/frames.csv]</c>, <c>- {raw_dir}/x</c>) is YAML's flow mapping, and the
    /// parser's complaint ("did not find expected key") names none of that. Looked for on the line of
    /// the error and the one before it (the parser often stops on the next line).
    /// </summary>
    private static string PlaceholderHint(string text, int line)
    {
        var lines = text.Split('\n');
        for (var i = Math.Min(line, lines.Length) - 1; i >= Math.Max(0, line - 2); i--)
        {
            var m = UnquotedPlaceholder().Match(lines[i].TrimEnd('\r'));
            if (!m.Success) continue;
            var value = m.Groups["value"].Value.TrimEnd();
            return $" Line {i + 1} has a value that starts with '{m.Groups["name"].Value}' unquoted, which YAML reads as the start of a mapping: quote the whole value, '{value.Replace("'", "''")}'.";
        }
        return "";
    }

    /// <summary>A '{name}' that starts a plain value: after "key: ", "- ", '[' or ','; the value runs to a comment, or in a flow list to ',' or ']'.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"(?:^\s*-\s+|:\s+|(?<flow>[\[,])\s*)(?<value>(?<name>\{[A-Za-z_][\w.]*\})(?(flow)[^,\]#]*|(?:[^#]|(?<!\s)#)*))")]
    private static partial System.Text.RegularExpressions.Regex UnquotedPlaceholder();

    /// <summary>Counts expanded nodes and depth as the events arrive, before any tree is built.</summary>
    private sealed class Budget(string file)
    {
        private sealed class Open(string? anchor)
        {
            public string? Anchor { get; } = anchor;
            public long Nodes = 1;
            public int Depth = 1;
        }

        private readonly Stack<Open> _open = new();
        private readonly Dictionary<string, (long Nodes, int Depth)> _anchors = new(StringComparer.Ordinal);
        private long _documentNodes;
        /// <summary>Whether an alias was expanded: only then is "aliases" the advice.</summary>
        private bool _aliases;

        public void Add(ParsingEvent e)
        {
            switch (e)
            {
                case Scalar s:
                    // A "\0" escape: every path with it crashed as KDG9001 (ArgumentException), and a command was cut there (a review).
                    if (s.Value.Contains('\0'))
                        throw new KdgException(ErrorCodes.YamlSyntax,
                            "this value holds a NUL character (a \\0 escape in double quotes): no path, command or parameter can hold one, since the operating system ends a path or an argument at it. Remove the \\0.",
                            file, Math.Max(1, (int)s.Start.Line), Math.Max(1, (int)s.Start.Column));
                    Node(s, s.Anchor, 1, 1);
                    break;
                case NodeEvent { } start and (SequenceStart or MappingStart):
                    if (_open.Count + 1 > MaxDepth) throw Deep(e);
                    _open.Push(new Open(start.Anchor.IsEmpty ? null : start.Anchor.Value));
                    break;
                case SequenceEnd or MappingEnd:
                    var done = _open.Pop();
                    Node(e, done.Anchor is null ? AnchorName.Empty : new AnchorName(done.Anchor), done.Nodes, done.Depth);
                    break;
                case AnchorAlias alias:
                    _aliases = true;
                    var name = alias.Value.Value;
                    if (_anchors.TryGetValue(name, out var target)) Node(alias, AnchorName.Empty, target.Nodes, target.Depth);
                    else if (_open.Any(o => o.Anchor == name))
                        throw Limit(e, $"alias '*{name}' refers to a node that contains it (a cycle), which would never end", AliasFix);
                    else throw new KdgException(ErrorCodes.YamlSyntax,
                        $"malformed YAML: alias '*{name}' refers to no anchor '&{name}' before it. Define the anchor first ('key: &{name} value'), or write the value out.",
                        file, (int)e.Start.Line, (int)e.Start.Column);
                    break;
                case DocumentStart:
                    _documentNodes = 0;
                    break;
            }
        }

        private void Node(ParsingEvent at, AnchorName anchor, long nodes, int depth)
        {
            if (!anchor.IsEmpty) _anchors[anchor.Value] = (nodes, depth);
            if (_open.Count + depth > MaxDepth) throw Deep(at);
            if (_open.TryPeek(out var parent))
            {
                parent.Nodes += nodes;
                parent.Depth = Math.Max(parent.Depth, depth + 1);
                if (parent.Nodes > MaxNodes) throw Large(at);
            }
            else if ((_documentNodes += nodes) > MaxNodes) throw Large(at);
        }

        private const string AliasFix = "Write the values out, or use fewer and smaller aliases.";

        private KdgException Deep(ParsingEvent at) => _aliases
            ? Limit(at, $"with aliases expanded, nesting is deeper than {MaxDepth} levels", "Write the values out, or use fewer and less deeply nested aliases.")
            : Limit(at, $"nesting is deeper than {MaxDepth} levels", "Nest mappings and lists less deeply.");

        // Keys count: `a: 1` is two nodes, so a file of 60,000 parameters is over the limit.
        private KdgException Large(ParsingEvent at) => _aliases
            ? Limit(at, $"with aliases expanded, it has more than {MaxNodes:N0} nodes (keys and values)", AliasFix)
            : Limit(at, $"it has more than {MaxNodes:N0} nodes (keys and values)", "Keep configuration and parameters small: put data (tables, long lists) in a file the stage reads, named under inputs.");

        private KdgException Limit(ParsingEvent at, string what, string fix) =>
            new(ErrorCodes.YamlSyntax, $"YAML too large to read: {what}. {fix}",
                file, (int)at.Start.Line, (int)at.Start.Column);
    }

    /// <summary>Feeds the checked events to YamlStream, remembering the current one for error positions.</summary>
    private sealed class Replay(List<ParsingEvent> events) : IParser
    {
        private int _next;
        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= events.Count) return false; // Current stays the last event: the position of an error at the end
            Current = events[_next++];
            return true;
        }
    }
}
