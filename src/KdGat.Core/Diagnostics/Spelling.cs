namespace KdGat.Core.Diagnostics;

/// <summary>"Did you mean": the known name nearest to a misspelt one, by edit distance.</summary>
internal static class Spelling
{
    /// <summary>" Did you mean 'x'?" for the candidate nearest to <paramref name="word"/> when it is at most <paramref name="maxDistance"/> edits away; else "".</summary>
    public static string DidYouMean(string word, IEnumerable<string> candidates, int maxDistance) => Offer(word, Nearest(word, candidates, maxDistance));

    /// <summary>The " Did you mean 'x'?" text for a guess <see cref="Nearest"/> already made; "" for none.</summary>
    public static string Offer(string word, string? near) =>
        near is null ? ""
        : near != word && string.Equals(near, word, StringComparison.OrdinalIgnoreCase) ? $" Did you mean '{near}'? (names are case-sensitive)"
        : $" Did you mean '{near}'?";

    /// <summary>The candidate <see cref="DidYouMean"/> would offer (one differing only in case first), or null.</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates, int maxDistance)
    {
        if (word.Length > 256) return null; // no guess for a pasted blob, and no table of its size
        // Names are case-sensitive: HCRL_SA is hcrl_sa however many letters differ in case.
        if (candidates.FirstOrDefault(c => string.Equals(c, word, StringComparison.OrdinalIgnoreCase) && c != word) is { } cased) return cased;
        var near = candidates.Where(c => c.Length <= 256).OrderBy(c => Distance(c, word)).FirstOrDefault();
        return near is not null && Distance(near, word) <= maxDistance ? near : null;
    }

    /// <summary>Levenshtein distance.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
