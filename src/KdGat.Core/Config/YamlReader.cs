using System.Globalization;
using KdGat.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// Typed reads from a YAML node tree that fail with a KDG code, the file, line and column, and
/// what to write instead. Used for kdgat.yaml and for per-model parameter files.
/// </summary>
internal sealed partial class YamlReader
{
    public YamlReader(string file) => File = file;
    public string File { get; }
    /// <summary>Where what the configuration depends on is noted (the environment variables it expands); null for params files.</summary>
    public ConfigSources? Sources { get; init; }

    /// <summary>The root node of a YAML file (null when empty); every problem is a KdgException with the file and position.</summary>
    public static YamlNode? LoadRoot(string file, ConfigSources? sources = null)
    {
        var stat = Hashing.PathStat.Of(file);
        if (stat.Kind == Hashing.PathKind.Missing)
            throw new KdgException(ErrorCodes.ConfigNotFound, $"configuration file '{file}' {MissingPath.Why(file)}. {MissingPath.Fix(file, "Create it, or pass -p:KdGatConfig=<path>.")}", file);
        if (stat.Kind != Hashing.PathKind.File)
            throw new KdgException(ErrorCodes.ConfigNotFound, $"configuration file '{file}' is a {stat.TypeName}, not a file. Pass -p:KdGatConfig=<path of a YAML file>.", file);
        return YamlLoader.Load(file, sources);
    }

    /// <summary>How a key is named in a message: "stages.train.lr", and a top-level one by itself ("trust_ctime", not "configuration.trust_ctime": no such key).</summary>
    public static string Named(string what, string key) => what == "configuration" ? key : $"{what}.{key}";

    /// <summary>Where a node starts (line, column), for a message about it; (0, 0) for none.</summary>
    public static (int Line, int Column) At(YamlNode? node) => node is null ? (0, 0) : ((int)node.Start.Line, (int)node.Start.Column);

    public KdgException Error(string code, YamlNode node, string message) =>
        new(code, message, File, (int)node.Start.Line, (int)node.Start.Column);

    public YamlMappingNode Mapping(YamlNode node, string what)
    {
        if (node is YamlMappingNode m) return m;
        throw Error(ErrorCodes.ConfigWrongType, node, $"'{what}' must be a mapping (key: value lines), not {Describe(node)}.");
    }

    /// <summary>Rejects keys not in <paramref name="allowed"/>, naming the closest allowed one.</summary>
    public void CheckKeys(YamlMappingNode map, string what, params string[] allowed)
    {
        foreach (var key in map.Children.Keys)
        {
            var k = Scalar(key, what);
            if (allowed.Contains(k)) continue;
            var suggestion = Spelling.DidYouMean(k, allowed, 3);
            throw Error(ErrorCodes.ConfigUnknownKey, key, $"unknown key '{k}' in {what}.{suggestion} Allowed keys: {string.Join(", ", allowed)}.");
        }
    }

    public YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    public string Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode s) return s.Value ?? "";
        throw Error(ErrorCodes.ConfigWrongType, node, $"'{what}' must be a single value, not {Describe(node)}.{UnquotedPlaceholder(node)}");
    }

    public string? OptionalString(YamlMappingNode map, string key, string what)
    {
        var node = Get(map, key);
        if (node is null || IsNull(node)) return null;
        return Scalar(node, Named(what, key));
    }

    public string RequiredString(YamlMappingNode map, string key, string what)
    {
        var node = Get(map, key);
        if (node is null || IsNull(node))
            throw Error(ErrorCodes.ConfigMissingKey, map, $"{what} needs '{key}'. Add a '{key}:' line to it.");
        var s = Scalar(node, Named(what, key));
        if (string.IsNullOrWhiteSpace(s)) throw Error(ErrorCodes.ConfigMissingKey, node, $"'{Named(what, key)}' is empty. Give it a value.");
        return s;
    }

    public int? OptionalInt(YamlMappingNode map, string key, string what, int min = 0)
    {
        var node = Get(map, key);
        if (node is null || IsNull(node)) return null;
        var s = Scalar(node, Named(what, key));
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < min)
            throw Error(ErrorCodes.ConfigWrongType, node, $"'{Named(what, key)}' must be a whole number of at least {min}, not '{s}'.");
        return v;
    }

    /// <summary>The largest number <see cref="OptionalDouble"/> takes: its keys are seconds (11 days).</summary>
    private const double MaxDouble = 1_000_000;

    public double? OptionalDouble(YamlMappingNode map, string key, string what)
    {
        var node = Get(map, key);
        if (node is null || IsNull(node)) return null;
        var s = Scalar(node, Named(what, key));
        // NaN and 1e400 (infinity) parse; a time that large overflows TimeSpan (a KDG9001 before).
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v <= 0 || v > MaxDouble)
            throw Error(ErrorCodes.ConfigWrongType, node, $"'{Named(what, key)}' must be a positive number of at most {MaxDouble:0}, not '{s}'.");
        return v;
    }

    public bool? OptionalBool(YamlMappingNode map, string key, string what)
    {
        var node = Get(map, key);
        if (node is null || IsNull(node)) return null;
        var s = Scalar(node, Named(what, key));
        // The words every yes/no setting takes: `TRUE` (YAML 1.2's boolean) and `on` were KDG1004 here only.
        return YesNo.Read(s) ?? throw Error(ErrorCodes.ConfigWrongType, node, $"'{Named(what, key)}' must be true or false ({YesNo.Words}), not '{s}'.");
    }

    /// <summary>The items of a list value: none when absent, a single value as a one-item list; anything else is KDG1004 ("a list of <paramref name="ofWhat"/>").</summary>
    private IEnumerable<YamlNode> ListItems(YamlMappingNode map, string key, string what, string ofWhat = "values")
    {
        var node = Get(map, key);
        if (node is null || IsNull(node)) return [];
        return node switch
        {
            YamlScalarNode => [node],
            YamlSequenceNode seq => seq.Children,
            _ => throw Error(ErrorCodes.ConfigWrongType, node, $"'{Named(what, key)}' must be a list of {ofWhat}, not {Describe(node)}."),
        };
    }

    /// <summary>A list of strings; a single value counts as a one-item list.</summary>
    public IReadOnlyList<string> StringList(YamlMappingNode map, string key, string what) =>
        ListItems(map, key, what).Select(c => Scalar(c, $"{Named(what, key)}[]")).ToArray();

    /// <summary>
    /// <see cref="StringList"/> of environment variable names: `env: ["$MODEL_VARIANT"]` (a path's
    /// way of naming one) was fingerprinted as the unset variable of that name, so changing the real
    /// one reran nothing (a soundness review).
    /// </summary>
    public IReadOnlyList<string> EnvNameList(YamlMappingNode map, string key, string what) =>
        ListItems(map, key, what, "environment variable names").Select(item =>
        {
            var name = Scalar(item, $"{Named(what, key)}[]");
            if (!EnvName().IsMatch(name))
                throw Error(ErrorCodes.ConfigWrongType, item,
                    $"'{Named(what, key)}' must name environment variables (letters, digits and '_', not starting with a digit), not '{name}'." +
                    (name.Trim().TrimStart('$').Trim('{', '}') is var bare && EnvName().IsMatch(bare) && bare != name ? $" Write {bare}." : ""));
            return name;
        }).ToArray();

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial System.Text.RegularExpressions.Regex EnvName();

    /// <summary>A path value: <see cref="OptionalString"/> with $NAME, ${NAME} and a leading ~ expanded (<see cref="PathExpansion"/>).</summary>
    public string? OptionalPath(YamlMappingNode map, string key, string what)
    {
        var node = Get(map, key);
        if (node is null || IsNull(node)) return null;
        return PathExpansion.Expand(this, node, Scalar(node, Named(what, key)), Named(what, key));
    }

    /// <summary>A list of paths: <see cref="StringList"/> with each item expanded as <see cref="OptionalPath"/> is.</summary>
    public IReadOnlyList<string> PathList(YamlMappingNode map, string key, string what) =>
        PathListAt(map, key, what).Select(p => p.Value).ToArray();

    /// <summary><see cref="PathList"/> with where each item is written (line, column), for a message about one of them.</summary>
    public IReadOnlyList<(string Value, int Line, int Column)> PathListAt(YamlMappingNode map, string key, string what) =>
        ListItems(map, key, what).Select(c => (PathExpansion.Expand(this, c, Scalar(c, $"{Named(what, key)}[]"), Named(what, key)), (int)c.Start.Line, (int)c.Start.Column)).ToArray();

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain } s && (s.Value is "" or "~" or "null" or null);

    /// <summary>A placeholder written unquoted ({raw_dir}) is a YAML flow mapping of one key without a value: say to quote it.</summary>
    private static string UnquotedPlaceholder(YamlNode node) =>
        node is YamlMappingNode m && m.Children.Count == 1 && m.Children.First() is { Key: YamlScalarNode k, Value: var v } && IsNull(v)
            ? $" YAML reads {{{k.Value}}} unquoted as a mapping: quote it, '{{{k.Value}}}'."
            : "";

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"the value '{s.Value}'",
        _ => "this",
    };
}
