using System.Collections.Concurrent;
using System.Text;
using KdGat.Core.IO;

namespace KdGat.Core.Hashing;

/// <summary>
/// Remembers the hash of a file version so an unchanged large file is never hashed twice.
/// Keyed by (path, size, mtime, ctime, inode, device): a hit may only skip hashing; any difference
/// means "hash again", so a touched file is re-hashed and found unchanged. Persisted as a small
/// text file written atomically; a damaged file is simply an empty cache.
/// </summary>
public sealed class HashCache
{
    private const string Header = "kdgat-hash-cache v1";
    private readonly ConcurrentDictionary<string, (FileIdentity Id, string Hash)> _entries = new(StringComparer.Ordinal);
    private readonly string? _file;
    private int _dirty;

    public HashCache(string? file = null, bool verifyAll = false)
    {
        _file = file;
        VerifyAll = verifyAll;
        if (file is not null && !verifyAll) Load(file);
    }

    /// <summary>When set (-p:VerifyHashes=true) every file is hashed, whatever the cache says.</summary>
    public bool VerifyAll { get; }

    public int FilesHashed => _filesHashed;
    public long BytesHashed => Interlocked.Read(ref _bytesHashed);
    private int _filesHashed;
    private long _bytesHashed;

    /// <summary>Hash of a regular file, or null when it does not exist.</summary>
    public string? HashFile(string fullPath)
    {
        var id = FileIdentity.Of(fullPath);
        if (id is null) return File.Exists(fullPath) ? Fresh(fullPath, null) : null;
        if (!VerifyAll && _entries.TryGetValue(fullPath, out var hit) && hit.Id == id.Value) return hit.Hash;
        return Fresh(fullPath, id);
    }

    private string Fresh(string fullPath, FileIdentity? before)
    {
        var hash = ContentHash.OfFile(fullPath);
        Interlocked.Increment(ref _filesHashed);
        // Cache only if the file did not change while we read it.
        var after = FileIdentity.Of(fullPath);
        if (before is not null && after == before)
        {
            _entries[fullPath] = (before.Value, hash);
            Interlocked.Exchange(ref _dirty, 1);
            Interlocked.Add(ref _bytesHashed, before.Value.Size);
        }
        return hash;
    }

    public void Save()
    {
        if (_file is null || Volatile.Read(ref _dirty) == 0) return;
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var (path, (id, hash)) in _entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!File.Exists(path)) continue;
            sb.Append(id.Size).Append('\t').Append(id.MtimeNs).Append('\t').Append(id.CtimeNs).Append('\t')
              .Append(id.Inode).Append('\t').Append(id.Device).Append('\t').Append(hash).Append('\t').Append(path).Append('\n');
        }
        // Merge is unnecessary: a concurrent build's lost entries only cost a re-hash.
        AtomicFile.WriteAllText(_file, sb.ToString());
        _dirty = 0;
    }

    private void Load(string file)
    {
        string[] lines;
        try { lines = File.ReadAllLines(file); }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        if (lines.Length == 0 || lines[0] != Header) return;
        for (var i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split('\t', 7);
            if (f.Length != 7) continue; // a damaged line is a cache miss, nothing more
            if (long.TryParse(f[0], out var size) && long.TryParse(f[1], out var m) && long.TryParse(f[2], out var c)
                && ulong.TryParse(f[3], out var ino) && ulong.TryParse(f[4], out var dev) && f[5].Length == 32)
                _entries[f[6]] = (new FileIdentity(size, m, c, ino, dev), f[5]);
        }
    }
}
