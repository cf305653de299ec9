using KdGat.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// Reads parameters: a per-model file (models/gat/large.yaml) and inline overrides. Nested
/// mappings flatten to dotted names (training.lr) so any shape of model file works.
/// </summary>
internal static class ParamsReader
{
    /// <param name="sources">Filled with where each parameter is written ("models/gat/large.yaml(3,1)"), for stale reasons.</param>
    public static void ReadFile(string path, SortedDictionary<string, ParamValue> into, string stage, string configFile, YamlNode at, YamlReader configReader,
        IDictionary<string, string>? sources = null, string? pipelineRoot = null, ConfigSources? files = null)
    {
        var stat = Hashing.PathStat.Of(path);
        if (stat.Kind == Hashing.PathKind.Missing)
            throw configReader.Error(ErrorCodes.ParamsFile, at, $"stage '{stage}': params_file '{path}' {MissingPath.Why(path)}. {MissingPath.Fix(path, "Create it or fix the path (relative to the pipeline root).")}");
        if (stat.Kind != Hashing.PathKind.File)
            throw configReader.Error(ErrorCodes.ParamsFile, at, $"stage '{stage}': params_file '{path}' is a {stat.TypeName}, not a file. Point it at a YAML file of parameters.");
        YamlNode? root;
        try { root = YamlReader.LoadRoot(path, files); }
        catch (KdgException e) when (e.Code == ErrorCodes.YamlSyntax)
        {
            throw new KdgException(ErrorCodes.ParamsFile, $"stage '{stage}': in its params_file, {e.Message}", e.File, e.Line, e.Column, e);
        }
        if (root is null || YamlReader.IsNull(root)) return;
        var reader = new YamlReader(path);
        if (root is not YamlMappingNode map)
            throw reader.Error(ErrorCodes.ParamsFile, root, $"stage '{stage}': a params_file must be a mapping of parameter names to values (name: value lines).");
        Flatten(reader, map, "", into, sources, pipelineRoot);
    }

    /// <param name="code">The code of a parameter written twice (KDG1009 in a params file, KDG1002 inline in kdgat.yaml, as a key written twice in one mapping).</param>
    public static void Flatten(YamlReader r, YamlMappingNode map, string prefix, SortedDictionary<string, ParamValue> into,
        IDictionary<string, string>? sources = null, string? root = null, string code = ErrorCodes.ParamsFile) =>
        FlattenInto(r, map, prefix, into, sources, root, code, new Dictionary<string, YamlNode>(StringComparer.Ordinal));

    /// <param name="written">Each dotted name flattened so far from this mapping, at its key: `a.b: 1` and `a: {b: 2}` are both
    /// the parameter a.b, and one value was dropped without a word (found by review).</param>
    private static void FlattenInto(YamlReader r, YamlMappingNode map, string prefix, SortedDictionary<string, ParamValue> into,
        IDictionary<string, string>? sources, string? root, string code, Dictionary<string, YamlNode> written)
    {
        foreach (var (k, v) in map.Children)
        {
            var name = prefix + r.Scalar(k, "parameter name");
            var at = $"{(root is null ? r.File : IO.PathText.ToStored(root, r.File))}({k.Start.Line},{k.Start.Column})";
            if (v is not YamlMappingNode)
            {
                if (written.TryGetValue(name, out var first))
                    throw r.Error(code, k,
                        $"parameter '{name}' is written twice: at {(root is null ? r.File : IO.PathText.ToStored(root, r.File))}({first.Start.Line},{first.Start.Column}) and here at {at} " +
                        $"(a dotted key and a nested mapping name the same parameter), so one value would be dropped. Write it once.");
                written[name] = k;
            }
            if (sources is not null)
                sources[name] = at;
            switch (v)
            {
                case YamlMappingNode m: FlattenInto(r, m, name + ".", into, sources, root, code, written); break;
                case YamlSequenceNode seq:
                    var items = seq.Children.Select(c => ToJson(r, c, name));
                    into[name] = new ParamValue("[" + string.Join(",", items) + "]", ParamKind.Json);
                    break;
                case YamlScalarNode s:
                    into[name] = Value(r, s, $"parameter '{name}'");
                    break;
            }
        }
    }

    private static string ToJson(YamlReader r, YamlNode node, string name)
    {
        var s = node as YamlScalarNode ?? throw r.Error(ErrorCodes.ConfigWrongType, node, $"parameter '{name}': lists may hold plain values only.");
        var v = Value(r, s, $"parameter '{name}'");
        return v.Kind switch { ParamKind.String => System.Text.Json.JsonSerializer.Serialize(v.Text), ParamKind.Null => "null", _ => v.Text };
    }

    /// <summary>
    /// A parameter or sweep value: text when quoted or tagged !!str (the only value tag <see cref="YamlLoader"/> lets
    /// through) or '!' (YAML's non-specific tag, which makes a scalar a string; it was read as a number, a review), else by how it reads.
    /// A block scalar (| or >) is text too: `blk: |` then `5` is the string "5\n" in YAML (it was the number 5; a review).
    /// </summary>
    /// <summary>
    /// <see cref="Value(YamlScalarNode)"/>, refusing a plain yes/no/on/off (KDG1043): YAML 1.1 (PyYAML, and so
    /// Snakemake configs) reads them as booleans, YAML 1.2 (KdGat) as text, and params.json had the string "no",
    /// which Python takes as true (a user review: `augment: no` trained with augmentation).
    /// </summary>
    /// <param name="what">The parameter or sweep value, for the message.</param>
    public static ParamValue Value(YamlReader r, YamlScalarNode s, string what)
    {
        var v = Value(s);
        if (v.Kind == ParamKind.String && s.Style is ScalarStyle.Plain or ScalarStyle.Any && s.Tag.IsEmpty && Yaml11Booleans.Contains(v.Text))
            throw r.Error(ErrorCodes.AmbiguousBoolean, s,
                $"{what}: '{v.Text}' is a boolean to YAML 1.1 (PyYAML, Snakemake configs: {(v.Text.ToLowerInvariant() is "yes" or "on" ? "true" : "false")}) but text to KdGat's YAML 1.2, which would give the stage the string \"{v.Text}\" in params.json " +
                $"(true to Python). Write {(v.Text.ToLowerInvariant() is "yes" or "on" ? "true" : "false")} for the boolean, or quote it ('{v.Text}') for the text.");
        return v;
    }

    /// <summary>What PyYAML reads as a boolean beyond true/false (its resolver: not y/n).</summary>
    private static readonly HashSet<string> Yaml11Booleans = new(StringComparer.Ordinal) { "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF" };

    public static ParamValue Value(YamlScalarNode s) =>
        ParamValue.FromScalar(s.Value ?? "", s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded
            || s.Tag is { IsEmpty: false, Value: "!" or YamlLoader.StrTag });
}
