using KdGat.Core.Hashing;

namespace KdGat.Core.Config;

/// <summary>
/// The files a configuration was read from and a digest of exactly the bytes parsed: a loaded
/// pipeline may be used again only while every one of them still has those bytes
/// (<see cref="Engine.BuildSession"/>).
/// </summary>
internal sealed class ConfigSources
{
    private readonly List<(string Path, string Digest)> _files = [];

    public void Add(string path, ReadOnlySpan<byte> bytes) => _files.Add((path, ContentHash.OfBytes(bytes)));

    /// <summary>True when every file still holds the bytes that were parsed (hashed again: they are small).</summary>
    public bool Unchanged()
    {
        foreach (var (path, digest) in _files)
        {
            try
            {
                // not a regular file any more (a FIFO would block the read): load again, which says what is wrong
                if (PathStat.Of(path).Kind != PathKind.File || ContentHash.OfFile(path) != digest) return false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        }
        return true;
    }
}
