using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace KdGat.Core.Hashing;

/// <summary>XxHash128 of bytes, streams and canonical text, as lowercase hex.</summary>
internal static partial class ContentHash
{
    private const int BufferSize = 1 << 20;

    /// <summary>
    /// Files at least this large are hashed through a read-only memory map where
    /// <see cref="MappedRead"/> allows it: the hash then reads the page cache itself instead of a
    /// copy of it (read(2) copies every byte once more, which costs about as much CPU as XxHash128).
    /// </summary>
    internal const long MapThreshold = 1 << 20;

    /// <summary>KDGAT_HASH_MMAP=0 turns memory-mapped hashing off (every file is read(2) into a buffer).</summary>
    internal static bool MapEnabled { get; set; } = Environment.GetEnvironmentVariable("KDGAT_HASH_MMAP") != "0";

    public static string OfFile(string path)
    {
        // SequentialScan: the kernel reads ahead further. No FileStream: 1 MiB reads go straight to the kernel.
        using var fh = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        var length = RandomAccess.GetLength(fh);
        if (length >= MapThreshold && MapEnabled && MappedRead.TryHash(fh, length) is { } mapped) return ToHex(mapped);
        return ToHex(OfHandleRead(fh));
    }

    /// <summary>The file read(2) in 1 MiB pieces from its start to its end (whatever its length is by then).</summary>
    internal static byte[] OfHandleRead(SafeFileHandle fh)
    {
        var hasher = new XxHash128();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long offset = 0;
            int n;
            while ((n = RandomAccess.Read(fh, buffer.AsSpan(0, BufferSize), offset)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, n));
                offset += n;
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
        return hasher.GetCurrentHash();
    }

    public static string OfText(string text) => ToHex(XxHash128.Hash(Encoding.UTF8.GetBytes(text)));

    /// <summary>Hash of ordered (name, hash) pairs: the digest of a directory or of a set of outputs.</summary>
    public static string OfEntries(IEnumerable<KeyValuePair<string, string>> entries)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in entries) sb.Append(k).Append('\0').Append(v).Append('\n');
        return OfText(sb.ToString());
    }

    private static string ToHex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>
    /// mmap(2) of a whole file, hashed in place (Linux on x64 or arm64, local file systems only). Not on
    /// network or cluster file systems (NFS, Lustre, GPFS, CIFS, FUSE...): a failed page-in there
    /// is a SIGBUS that kills the process, where read(2) returns an error. The one hazard left
    /// on a local disk: a file truncated while it is hashed (rewritten in place, not replaced by
    /// a rename) is a SIGBUS too, which .NET cannot catch: the build then dies ("Fatal error.
    /// System.AccessViolationException"); building again hashes the new content.
    /// KDGAT_HASH_MMAP=0 avoids it (see README, Hashing).
    /// </summary>
    internal static unsafe partial class MappedRead
    {
        private const int ProtRead = 1, MapShared = 1, MadvSequential = 2;
        private static readonly nint MapFailed = -1;
        private static bool _unavailable;

        [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
        private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

        [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
        private static partial int Munmap(nint addr, nuint length);

        [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
        private static partial int Madvise(nint addr, nuint length, int advice);

        [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
        private static partial int Fstatfs(int fd, byte* buf);

        /// <summary>Local file systems (statfs f_type) whose page-in cannot fail for network reasons.</summary>
        private static readonly HashSet<long> LocalFileSystems =
        [
            0xEF53,      // ext2, ext3, ext4
            0x58465342,  // xfs
            0x9123683E,  // btrfs
            0x01021994,  // tmpfs
            0x794C7630,  // overlayfs (containers)
            0x2FC12FC1,  // zfs
            0xF2F52010,  // f2fs
        ];

        /// <summary>The XxHash128 of the file's first <paramref name="length"/> bytes through a map, or null when mapping is not possible here (the caller reads instead).</summary>
        public static byte[]? TryHash(SafeFileHandle fh, long length)
        {
            if (_unavailable || !OperatingSystem.IsLinux() || length <= 0
                || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)) return null; // the statfs layout below
            var added = false;
            try
            {
                fh.DangerousAddRef(ref added);
                var fd = (int)fh.DangerousGetHandle();
                if (!IsLocal(fd)) return null;
                var map = Mmap(0, (nuint)length, ProtRead, MapShared, fd, 0);
                if (map == MapFailed) return null; // e.g. ENODEV: a file system without mmap
                try
                {
                    Madvise(map, (nuint)length, MadvSequential); // read ahead further on a cold read; advice only
                    var hasher = new XxHash128();
                    for (long off = 0; off < length; off += 1 << 30)
                        hasher.Append(new ReadOnlySpan<byte>((byte*)map + off, (int)Math.Min(1 << 30, length - off)));
                    return hasher.GetCurrentHash();
                }
                finally { Munmap(map, (nuint)length); }
            }
            catch (EntryPointNotFoundException) { _unavailable = true; return null; }
            catch (DllNotFoundException) { _unavailable = true; return null; }
            finally { if (added) fh.DangerousRelease(); }
        }

        private static bool IsLocal(int fd)
        {
            // struct statfs on 64-bit Linux: f_type is the first field, a long (120 bytes in all).
            byte* buf = stackalloc byte[256];
            return Fstatfs(fd, buf) == 0 && LocalFileSystems.Contains(*(long*)buf);
        }
    }
}
