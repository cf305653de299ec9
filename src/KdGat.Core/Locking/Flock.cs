using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace KdGat.Core.Locking;

/// <summary>
/// flock(2) itself, for every lock KdGat takes (stage locks, the run index lock). .NET's own
/// FileShare locking is not used for exclusion: DOTNET_SYSTEM_IO_DISABLEFILELOCKING (set by some
/// cluster module files) silently turns it off. The kernel drops a flock when its holder dies.
/// </summary>
internal static partial class Flock
{
    private const int LockSh = 1, LockEx = 2, LockNb = 4;
    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)] private static partial int Native(nint fd, int operation);

    /// <summary>
    /// Takes the lock without waiting; false when another open file (in any process, this one included)
    /// holds a conflicting one (EWOULDBLOCK). Any other failure (ENOLCK: an NFS mount without lock
    /// support) is an IOException: read as "held", it made builds wait for a holder that did not exist.
    /// </summary>
    public static bool TryLock(SafeFileHandle file, bool exclusive)
    {
        while (true)
        {
            if (Native(file.DangerousGetHandle(), (exclusive ? LockEx : LockSh) | LockNb) == 0) return true;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR) continue;
            if (errno == (OperatingSystem.IsMacOS() ? 35 : 11)) return false; // EWOULDBLOCK
            throw new IOException($"flock failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }

    private const int EINTR = 4;

    /// <summary>
    /// Drops the lock of <paramref name="fd"/>'s open file, whatever took it (.NET takes one on every open), as .NET's own
    /// close does first: a child forked meanwhile shares the open file until its exec, and would hold it on (a reader of a
    /// just-renamed manifest failed with "being used by another process" after AtomicFile closed the descriptor itself).
    /// </summary>
    public static void Release(nint fd) => Native(fd, 8); // LOCK_UN; a failure leaves only what close releases

    /// <summary>
    /// Whether opening a lock file failed because another holder has it (EWOULDBLOCK: .NET's own advisory
    /// lock on open, when not disabled, met the holder's flock; a sharing violation on Windows), not
    /// because the file cannot be used.
    /// </summary>
    public static bool IsHeld(IOException e) => (e.HResult & 0xFFFF) is 11 or 35 or 32;
}
