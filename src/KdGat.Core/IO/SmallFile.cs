using KdGat.Core.Hashing;

namespace KdGat.Core.IO;

/// <summary>
/// Reads a state file (a run record, manifest, journal, metrics.json, build report) only when it is
/// a regular file of bounded size. A FIFO named like one blocked History and a build's index step
/// for ever (its open waits for a writer), and a 200 MB "record" took 4.6 GB to parse; both are
/// now an IOException, which every caller already treats as "damaged: skip it, or stale".
/// </summary>
internal static class SmallFile
{
    /// <summary>
    /// Room for what KdGat writes at scale (a manifest lists every code file, ~100 bytes each: 16 MiB
    /// was ~170,000 of them; a build report of 39,000 swept instances is ~17 MB) while a hostile
    /// file costs at most ~1.5 GB to parse (a 200 MB one took 4.6 GB).
    /// </summary>
    public const long MaxBytes = 64L << 20;

    /// <param name="checkedRegular">The caller's statx just found a regular file there (the same check, one syscall fewer).</param>
    public static byte[] ReadAllBytes(string path, long maxBytes = MaxBytes, bool checkedRegular = false)
    {
        if (!checkedRegular) RefuseSpecial(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (fs.Length > maxBytes)
            throw new IOException($"'{path}' is {fs.Length / 1048576.0:0.#} MiB, more than the {maxBytes >> 20} MiB such a file can be; it was not read");
        var bytes = new byte[fs.Length];
        var read = 0;
        while (read < bytes.Length && fs.Read(bytes, read, bytes.Length - read) is var n && n > 0) read += n;
        return read == bytes.Length ? bytes : bytes[..read];
    }

    public static string ReadAllText(string path, long maxBytes = MaxBytes) => System.Text.Encoding.UTF8.GetString(ReadAllBytes(path, maxBytes));

    /// <summary>The first <paramref name="bytes"/> of a file (fewer when it is shorter): enough to tell what wrote it. A FIFO or device is an IOException, as above.</summary>
    public static byte[] Head(string path, int bytes)
    {
        RefuseSpecial(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var head = new byte[bytes];
        return head[..fs.ReadAtLeast(head, bytes, throwOnEndOfStream: false)];
    }

    /// <summary>An IOException when the path is a FIFO, device or socket: an open could block or never end.</summary>
    public static void RefuseSpecial(string path)
    {
        if (PathStat.Of(path) is { Kind: PathKind.Other } other)
            throw new IOException($"'{path}' is a {other.TypeName}, not a regular file; remove it");
    }
}
