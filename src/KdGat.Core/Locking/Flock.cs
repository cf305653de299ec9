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

    /// <summary>Takes the lock without waiting; false when another open file (in any process, this one included) holds a conflicting one.</summary>
    public static bool TryLock(SafeFileHandle file, bool exclusive) =>
        Native(file.DangerousGetHandle(), (exclusive ? LockEx : LockSh) | LockNb) == 0;
}
