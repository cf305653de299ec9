using System.IO.Hashing;
using System.Text;

namespace KdGat.Core.Hashing;

/// <summary>XxHash128 of bytes, streams and canonical text, as lowercase hex.</summary>
internal static class ContentHash
{
    private const int BufferSize = 1 << 20;

    /// <param name="cancel">Looked at with each 1 MiB read: a Ctrl+C stops a large file's hash at once, and nothing of it is returned.</param>
    public static string OfFile(string path, CancellationToken cancel = default)
    {
        var hasher = new XxHash128();
        // SequentialScan, and no FileStream buffer (bufferSize 0): our 1 MiB reads go straight to the kernel.
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.SequentialScan);
        // A small file gets a small buffer: a 1 MiB one per small file, when the pool has none to
        // give, is a large-object allocation (a full collection every few hundred, at 7,800 instances).
        var length = fs.Length;
        if ((length is 0 or 4096) && PseudoFile.Is(path)) // the sizes /proc and /sys give their files
            throw new Diagnostics.KdgException(Diagnostics.ErrorCodes.NotRegularFile,
                $"'{path}' is a file of the /proc or /sys pseudo-filesystem: its size says 0 (or 4096) whatever it holds, and reading it may never end (/proc/kmsg), so KdGat does not hash it. Declare regular files and directories only (remove the link, or copy what it shows into a file).", path);
        var size = (int)Math.Clamp(length + 1, 4096, BufferSize);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
        try
        {
            // The bytes the size said when the file was opened, and no more: what the hash cache's row
            // (size, mtime) describes, and a file that looks regular but never ends (/proc/kmsg: size 0,
            // a read blocks until the kernel logs) cannot hang the build. A file written meanwhile has
            // another mtime, so the next build reads it again.
            if (length >= Xxh3Long.MinLength && Xxh3Long.IsSupported) return ToHex(Xxh3Long.Hash(fs, length, buffer, cancel));
            long left = length;
            int n;
            while (left > 0 && (n = fs.Read(buffer, 0, (int)Math.Min(size, left))) > 0)
            {
                cancel.ThrowIfCancellationRequested();
                hasher.Append(buffer.AsSpan(0, n));
                left -= n;
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
        return ToHex(hasher.GetCurrentHash());
    }

    public static string OfBytes(ReadOnlySpan<byte> bytes) => ToHex(XxHash128.Hash(bytes));

    public static string OfText(string text) => ToHex(XxHash128.Hash(Encoding.UTF8.GetBytes(text)));

    /// <summary>Hash of ordered (name, hash) pairs: the digest of a directory or of a set of outputs.</summary>
    public static string OfEntries(IEnumerable<KeyValuePair<string, string>> entries)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in entries) sb.Append(k).Append('\0').Append(v).Append('\n');
        return OfText(sb.ToString());
    }

    private static string ToHex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
