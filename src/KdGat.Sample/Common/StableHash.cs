using System.Text;

namespace KdGat.Sample.Common;

/// <summary>
/// FNV-1a over UTF-8. string.GetHashCode is randomized per process, so seeds derived from it
/// would make "the same dataset" different on every run.
/// </summary>
internal static class StableHash
{
    public static ulong Of(string text)
    {
        var h = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h;
    }
}
