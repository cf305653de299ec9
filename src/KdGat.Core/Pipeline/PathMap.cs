namespace KdGat.Core.Pipeline;

/// <summary>
/// Full paths mapped to what they are, answering "which entries are this path or lie above it,
/// and which lie below it?" by hash lookups of the path's ancestors and an ordinal range of the
/// sorted keys, so checking n paths against m entries costs O(n log m), not O(n m).
/// </summary>
internal sealed class PathMap<T>
{
    private readonly Dictionary<string, T> _entries = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _sorted = new(StringComparer.Ordinal);
    /// <summary>Every folder strictly above a key: a path not in it has nothing <see cref="Below"/> it, told by one lookup.</summary>
    private readonly HashSet<string> _above = new(StringComparer.Ordinal);

    public static string Normalize(string path) => Path.GetFullPath(path).TrimEnd('/') is { Length: > 0 } p ? p : "/";

    /// <summary>Adds an entry; the first one added for a path wins.</summary>
    public void Add(string path, T value)
    {
        var p = Normalize(path);
        if (!_entries.TryAdd(p, value)) return;
        _sorted.Add(p);
        for (var a = Path.GetDirectoryName(p); !string.IsNullOrEmpty(a); a = Path.GetDirectoryName(a))
            if (!_above.Add(a)) break; // the folders above it are there already
    }

    /// <summary>Entries at <paramref name="path"/> and at the directories above it, nearest first.</summary>
    public IEnumerable<KeyValuePair<string, T>> AtOrAbove(string path)
    {
        for (var a = Normalize(path); !string.IsNullOrEmpty(a); a = Path.GetDirectoryName(a))
            if (_entries.TryGetValue(a, out var v)) yield return new(a, v);
    }

    /// <summary>Entries strictly below <paramref name="path"/>: keys in [p + "/", p + "0") ('0' follows '/').</summary>
    public IEnumerable<KeyValuePair<string, T>> Below(string path)
    {
        var p = Normalize(path);
        if (!_above.Contains(p)) yield break;
        var prefix = p == "/" ? "/" : p + "/";
        foreach (var k in _sorted.GetViewBetween(prefix, prefix[..^1] + "0"))
            if (k.StartsWith(prefix, StringComparison.Ordinal) && k != p) yield return new(k, _entries[k]);
    }
}
