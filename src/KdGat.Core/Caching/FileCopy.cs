using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace KdGat.Core.Caching;

/// <summary>
/// The copy a restore or insert makes where link(2) is refused (EXDEV: a store on another filesystem; EPERM: another
/// user's file in a shared store under protected_hardlinks), and a move across file systems (Execution/FileMover). File.Copy let no Ctrl+C in until a 10 GB checkpoint was
/// copied; a copy of 1 MiB reads and writes gave up the kernel's ways File.Copy had. Now, looking at the cancel
/// between steps: a clone (FICLONE: btrfs, xfs; one call, no bytes copied), else copy_file_range(2) in steps of
/// <see cref="KernelStepBytes"/> (no bytes through this process; a server-side copy on NFS 4.2), else reads and
/// writes of <see cref="ChunkBytes"/>. The result is what File.Copy made: the bytes, the permission bits, the times.
/// </summary>
internal static unsafe partial class FileCopy
{
    /// <summary>How the bytes were copied (tests ask; a way the filesystem refuses falls to the next).</summary>
    public enum Way { Clone, KernelCopy, ReadWrite }

    internal const int ChunkBytes = 1 << 20;

    /// <summary>One copy_file_range call: 64 MiB is 30-60 ms on a local disk (the wait after a Ctrl+C), and few enough calls that their cost is nil.</summary>
    internal const long KernelStepBytes = 64L << 20;

    /// <summary>Copies <paramref name="from"/> to the new file <paramref name="to"/>.</summary>
    /// <param name="cancel">Looked at before each step: an OperationCanceledException leaves the part copied at <paramref name="to"/>, for the caller's cleanup.</param>
    /// <param name="copied">Told the bytes copied so far after each step (tests: a Ctrl+C in the middle of a file).</param>
    /// <param name="first">The first way tried (tests: the later ways on a filesystem that has the earlier ones).</param>
    /// <param name="kernelStep">The bytes of one copy_file_range call (tests: several steps of a small file).</param>
    public static Way Copy(string from, string to, CancellationToken cancel, Action<long>? copied = null, Way first = Way.Clone, long kernelStep = KernelStepBytes)
    {
        cancel.ThrowIfCancellationRequested();
        Way way;
        using (var source = File.OpenHandle(from, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan))
        using (var target = File.OpenHandle(to, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            way = Copy(source, target, to, cancel, copied, first, kernelStep);
            IO.AtomicFile.CloseChecked(target, to); // NFS reports a refused write-back only here: a move would delete its source after a cut copy
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, File.GetUnixFileMode(from)); // the x bit is part of an output's hash
        File.SetLastAccessTimeUtc(to, File.GetLastAccessTimeUtc(from));
        File.SetLastWriteTimeUtc(to, File.GetLastWriteTimeUtc(from));
        return way;
    }

    private static Way Copy(SafeFileHandle source, SafeFileHandle target, string to, CancellationToken cancel, Action<long>? copied, Way first, long kernelStep)
    {
        if (OperatingSystem.IsLinux() && first == Way.Clone && Clone(source, target))
        {
            copied?.Invoke(RandomAccess.GetLength(target));
            return Way.Clone;
        }
        long done = 0;
        var kernel = OperatingSystem.IsLinux() && first <= Way.KernelCopy && KernelCopy(source, target, to, ref done, cancel, copied, kernelStep);
        // Also after a kernel copy: one read that finds the end, or the rest where copy_file_range said 0 before it (a
        // filesystem that reports no size to it, as /proc's files do) or refused the rest.
        var rest = ReadWrite(source, target, done, cancel, copied);
        return kernel && rest == 0 ? Way.KernelCopy : Way.ReadWrite;
    }

    private const nuint Ficlone = 0x40049409; // _IOW(0x94, 9, int)
    private const int Eintr = 4;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(SafeFileHandle fd, nuint request, SafeFileHandle sourceFd);

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial nint CopyFileRange(SafeFileHandle fdIn, long* offIn, SafeFileHandle fdOut, long* offOut, nuint length, uint flags);

    /// <summary>The whole file shares the source's extents, or nothing happened: any refusal (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY) is the next way's turn.</summary>
    private static bool Clone(SafeFileHandle source, SafeFileHandle target)
    {
        try { return Ioctl(target, Ficlone, source) == 0; }
        catch (EntryPointNotFoundException) { return false; }
    }

    private static volatile bool s_noKernelCopy;

    /// <summary>
    /// copy_file_range(2) from <paramref name="done"/> until it says 0 (the end), advancing <paramref name="done"/>. False
    /// where it is refused for this pair of files (EXDEV, EINVAL, EOPNOTSUPP, EPERM of a seccomp filter) or missing
    /// (ENOSYS, an old libc): the reads and writes go on from <paramref name="done"/>. Any other error (ENOSPC, EDQUOT, EIO) is the copy's.
    /// </summary>
    private static bool KernelCopy(SafeFileHandle source, SafeFileHandle target, string to, ref long done, CancellationToken cancel, Action<long>? copied, long step)
    {
        if (s_noKernelCopy) return false;
        long inAt = done, outAt = done;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            nint n;
            try { n = CopyFileRange(source, &inAt, target, &outAt, (nuint)step, 0); }
            catch (EntryPointNotFoundException) { s_noKernelCopy = true; return false; }
            if (n == 0) return true;
            if (n > 0)
            {
                done = inAt;
                copied?.Invoke(done);
                continue;
            }
            switch (Marshal.GetLastPInvokeError())
            {
                case Eintr: continue;
                case 38: s_noKernelCopy = true; return false; // ENOSYS: not in this kernel (before 4.5)
                case 18 or 22 or 95 or 1 or 9 or 26: return false; // EXDEV, EINVAL, EOPNOTSUPP, EPERM, EBADF, ETXTBSY: not for these files
                case var errno: throw new IOException($"{Marshal.GetPInvokeErrorMessage(errno)}: {to}", errno);
            }
        }
    }

    /// <summary>Reads and writes of 1 MiB from <paramref name="at"/> to the end, looking at <paramref name="cancel"/> before each; the bytes copied.</summary>
    private static long ReadWrite(SafeFileHandle source, SafeFileHandle target, long at, CancellationToken cancel, Action<long>? copied)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var start = at;
        try
        {
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                var n = RandomAccess.Read(source, buffer.AsSpan(0, ChunkBytes), at);
                if (n == 0) return at - start;
                RandomAccess.Write(target, buffer.AsSpan(0, n), at);
                at += n;
                copied?.Invoke(at);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }
}
