using KdGat.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// Expands YAML 1.1 merge keys in a loaded node tree: <c>&lt;&lt;: *base</c> and
/// <c>&lt;&lt;: [*a, *b]</c> (or mappings written in place) put the keys of the named mappings into
/// the mapping holding the <c>&lt;&lt;</c>, where the <c>&lt;&lt;</c> stood. Keys written in the mapping
/// itself win over merged ones, and with a list the earlier mappings win over later ones. Only a
/// plain, untagged <c>&lt;&lt;</c> is a merge key; a quoted <c>'&lt;&lt;'</c> stays an ordinary key.
/// Merged entries keep their nodes, so positions name where a value is written (in the anchored
/// mapping). The work is bounded by <see cref="YamlLoader"/>'s budget: every mapping is merged
/// once, and a merge adds at most the entries of mappings the budget counted at the
/// <c>&lt;&lt;</c> (aliases expanded) and never nests deeper than they stood.
/// </summary>
internal static class YamlMerge
{
    public static void Expand(YamlNode root, string file) => new Expander(file).Visit(root);

    /// <summary>A plain, untagged '&lt;&lt;' (YAML 1.1's merge key, tag:yaml.org,2002:merge).</summary>
    public static bool IsMergeKey(YamlNode key) =>
        key is YamlScalarNode { Value: "<<", Style: ScalarStyle.Plain or ScalarStyle.Any } s && s.Tag.IsEmpty;

    private sealed class Expander(string file)
    {
        // By reference: an aliased node is one object wherever it is used, and is merged once.
        // (YamlNode's own equality compares whole subtrees.)
        private readonly HashSet<YamlNode> _seen = new(ReferenceEqualityComparer.Instance);

        public void Visit(YamlNode node)
        {
            if (node is YamlScalarNode || !_seen.Add(node)) return;
            if (node is YamlSequenceNode seq)
                foreach (var child in seq.Children) Visit(child);
            else if (node is YamlMappingNode map)
            {
                // Values only: a key is hashed in its mapping, so it is never changed. Merged-in
                // mappings are visited first, so a chain (an anchor that merges another) arrives expanded.
                foreach (var value in map.Children.Values) Visit(value);
                Merge(map);
            }
        }

        private void Merge(YamlMappingNode map)
        {
            var mergeKey = map.Children.Keys.FirstOrDefault(IsMergeKey);
            if (mergeKey is null) return;
            var sources = Sources(mergeKey, map.Children[mergeKey]);
            // The mapping's own keys first (two '<<' or two equal keys were already a "Duplicate key" error).
            var taken = new HashSet<YamlNode>(map.Children.Keys.Where(k => !ReferenceEquals(k, mergeKey)));
            var entries = new List<KeyValuePair<YamlNode, YamlNode>>(map.Children.Count);
            foreach (var entry in map.Children)
            {
                if (!ReferenceEquals(entry.Key, mergeKey)) { entries.Add(entry); continue; }
                foreach (var source in sources)
                    foreach (var merged in source.Children)
                        if (taken.Add(merged.Key)) entries.Add(merged);
            }
            map.Children.Clear();
            foreach (var (k, v) in entries) map.Children.Add(k, v);
        }

        private List<YamlMappingNode> Sources(YamlNode mergeKey, YamlNode value)
        {
            switch (value)
            {
                case YamlMappingNode m: return [m];
                case YamlSequenceNode list:
                    var sources = new List<YamlMappingNode>(list.Children.Count);
                    for (var i = 0; i < list.Children.Count; i++)
                        sources.Add(list.Children[i] as YamlMappingNode ?? throw Wrong(mergeKey, $"item {i + 1} of its list is {Describe(list.Children[i])}"));
                    return sources;
                default: throw Wrong(mergeKey, $"its value is {Describe(value)}");
            }
        }

        // At the '<<' itself: the value may be an alias, whose node stands elsewhere.
        private KdgException Wrong(YamlNode mergeKey, string what) =>
            new(ErrorCodes.YamlSyntax,
                $"a merge key '<<' that is not given mappings: {what}. '<<' takes a mapping, an alias of one (`<<: *base`) or a list of those (`<<: [*a, *b]`); point it at an anchored mapping or write the keys out (quote it, '<<', for a key with that name).",
                file, Math.Max(1, (int)mergeKey.Start.Line), Math.Max(1, (int)mergeKey.Start.Column));

        private static string Describe(YamlNode node) => node switch
        {
            YamlMappingNode => "a mapping",
            YamlSequenceNode => "a list",
            YamlScalarNode s when YamlReader.IsNull(s) => "empty",
            YamlScalarNode s => $"'{s.Value}'",
            _ => "something else",
        };
    }
}
