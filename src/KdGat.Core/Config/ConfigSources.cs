using KdGat.Core.Hashing;

namespace KdGat.Core.Config;

/// <summary>
/// Everything a configuration was made from besides the build request: the files it was read from,
/// with a digest of exactly the bytes parsed, and the environment variables it expanded (a
/// path's or resource's $NAME or ${NAME}). A loaded pipeline may be used again only while every file still has those
/// bytes and every variable that value (<see cref="Engine.BuildSession"/>, <see cref="Engine.LoadedPipelineCache"/>).
/// </summary>
internal sealed class ConfigSources
{
    private readonly List<(string Path, string Digest)> _files = [];
    private readonly List<(string Name, string? Value)> _environment = [];

    public void Add(string path, ReadOnlySpan<byte> bytes) => _files.Add((path, ContentHash.OfBytes(bytes)));

    public void AddEnvironment(string name, string? value)
    {
        NoOp.FileObservations.SawVariable(name, value);
        lock (_environment) _environment.Add((name, value));
    }

    /// <summary>Whether <paramref name="path"/> is one of the files whose bytes <see cref="Unchanged"/> compares.</summary>
    public bool Holds(string path) => _files.Exists(f => f.Path == path);

    /// <summary>True when every file still holds the bytes that were parsed (hashed again: they are small) and every variable its value.</summary>
    public bool Unchanged()
    {
        lock (_environment)
            foreach (var (name, value) in _environment)
                if (Environment.GetEnvironmentVariable(name) != value) return false;
        return !_files.Exists(f => !HasBytes(f.Path, f.Digest));
    }

    /// <summary>The files that no longer hold the bytes that were parsed (edited, replaced or gone since), in the order read.</summary>
    public IReadOnlyList<string> ChangedFiles() => _files.Where(f => !HasBytes(f.Path, f.Digest)).Select(f => f.Path).Distinct(StringComparer.Ordinal).ToArray();

    private static bool HasBytes(string path, string digest)
    {
        try
        {
            // not a regular file any more (a FIFO would block the read): load again, which says what is wrong
            return PathStat.Of(path).Kind == PathKind.File && ContentHash.OfFile(path) == digest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
