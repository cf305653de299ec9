using System.Collections.Concurrent;
using System.IO.Hashing;

namespace KdGat.Core.IO;

/// <summary>
/// Parses of state files kept for the next build of a long-lived process (the MSBuild server, a
/// reused node, an IDE), each handed out again only for the very bytes it was made from (their
/// XxHash128, the hash KdGat trusts for data). A build still reads the file; it skips the parse.
/// Never by file identity: between builds, on an NFS home with coarse timestamps, a rewritten file
/// can come back with the same size and times and a reused inode. A parse must depend on nothing
/// but the bytes and the key. In a process that runs one build nothing is ever found here.
/// </summary>
internal sealed class KeptParses<T> where T : class
{
    private readonly ConcurrentDictionary<string, (UInt128 Content, T Parsed)> _kept = new(StringComparer.Ordinal);
    private readonly long _maxBytes;
    private long _bytes;

    /// <param name="maxBytes">
    /// Bytes parsed since the store was last emptied, beyond which it empties at once (many large
    /// pipelines in one process, or one whose files keep changing): a bound on memory by what was
    /// read, since a manifest that lists every code file can be megabytes.
    /// </param>
    public KeptParses(long maxBytes) => _maxBytes = maxBytes;

    public static UInt128 ContentOf(ReadOnlySpan<byte> bytes) => XxHash128.HashToUInt128(bytes);

    /// <summary>The parse kept for <paramref name="key"/> when it was made from bytes with this content hash.</summary>
    public T? Get(string key, UInt128 content) => _kept.TryGetValue(key, out var k) && k.Content == content ? k.Parsed : null;

    public void Keep(string key, UInt128 content, T parsed, long bytes)
    {
        if (bytes > _maxBytes)
        {
            _kept.TryRemove(key, out _); // one file beyond the bound is parsed in every build, not kept
            return;
        }
        if (Interlocked.Add(ref _bytes, bytes) > _maxBytes)
        {
            _kept.Clear();
            Interlocked.Exchange(ref _bytes, bytes);
        }
        _kept[key] = (content, parsed);
    }

    public void Forget(string key) => _kept.TryRemove(key, out _);
}
