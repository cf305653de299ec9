using KdGat.Core.IO;

namespace KdGat.Core.Locking;

/// <summary>
/// One lock per stage instance so two builds never run the same instance at once. It is an OS
/// file lock (flock; on NFS the kernel maps it to NFS byte-range locks), so the kernel releases it
/// when the holder dies, even under kill -9: a dead build's lock is recovered without guessing
/// from pids or ages. An owner file next to it says who holds it, for the waiting message.
/// flock is called directly rather than through FileShare.None, which .NET silently skips when
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set (as some cluster module files do).
/// </summary>
internal sealed partial class StageLock : IDisposable
{
    private readonly FileStream _stream;
    private readonly string? _ownerFile;

    private StageLock(FileStream stream, string? ownerFile)
    {
        _stream = stream;
        _ownerFile = ownerFile;
    }

    /// <summary>
    /// The lock a build holds shared on each dataset it builds, for its whole duration; Clean takes
    /// it exclusively, so it never deletes what a running build is about to read.
    /// </summary>
    public static string DatasetLockFile(Pipeline.PipelineLayout layout, string dataset) => Path.Combine(layout.DatasetStateDir(dataset), "build.lock");

    /// <param name="shared">Several holders at once (builds of one dataset); excludes only an exclusive holder. No owner file.</param>
    public static StageLock? TryAcquire(string lockFile, bool shared = false, TimeProvider? time = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        FileStream fs;
        try
        {
            fs = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, OperatingSystem.IsWindows() ? FileShare.None : FileShare.ReadWrite);
        }
        catch (IOException e) when (OperatingSystem.IsWindows() || Flock.IsHeld(e))
        {
            return null; // another holder: Windows' FileShare.None, or .NET's own advisory lock on open meeting the holder's flock
        }
        catch (IOException e)
        {
            // A read-only file system, a full disk or quota, an I/O error: read as another holder, the
            // build waited forever for it (KDG2002) and Clean said a build was running (a crash review).
            throw Unusable(lockFile, e);
        }
        bool locked;
        try { locked = OperatingSystem.IsWindows() || Flock.TryLock(fs.SafeFileHandle, exclusive: !shared); }
        catch (IOException e)
        {
            fs.Dispose();
            throw Unusable(lockFile, e);
        }
        if (!locked)
        {
            fs.Dispose(); // EWOULDBLOCK: another process (or another open in this one) holds it
            return null;
        }
        if (shared) return new StageLock(fs, null);
        var owner = lockFile + ".owner";
        try
        {
            // Informational (the waiting message) and deleted on release: no fsync, which cost one disk flush per stage in a no-op.
            AtomicFile.WriteAllText(owner, $"pid {Environment.ProcessId} on {Environment.MachineName} since {(time ?? TimeProvider.System).GetUtcNow():O}\n", durable: false);
        }
        catch (IOException)
        {
            // Only the waiting message loses its detail; the lock itself is held.
        }
        catch
        {
            fs.Dispose(); // never leave the lock held by an unreachable stream
            throw;
        }
        return new StageLock(fs, owner);
    }

    private static IOException Unusable(string lockFile, IOException e) => e.HResult == Execution.Local.StartRefusedException.EMFile
        // A build holds a lock per dataset: "read-only or full" sent a login node's user (ulimit -n 256, 60 datasets) looking at the disk.
        ? new($"KdGat cannot take its lock '{lockFile}': this build is at its open-file limit ({OpenFiles()}), and a build holds one lock file per dataset it builds. Raise the limit (`ulimit -n`, up to `ulimit -Hn`) or build fewer datasets at once (-p:Dataset=...); nothing was changed there.", e)
        : new($"KdGat cannot take its lock '{lockFile}' ({e.Message.TrimEnd('.')}): the folder is read-only or full, or its file system refuses file locks (an NFS mount without lock support). Make it writable, free space, or use a file system with locks; nothing was changed there.", e);

    private static string OpenFiles()
    {
        var limits = Execution.Local.ProcessLimits.Read();
        return $"{limits.Text("Max open files")}; {limits.Usage}";
    }

    /// <summary>Waits for the lock on this thread (short critical sections of synchronous code, e.g. publishing a build report).</summary>
    public static StageLock Acquire(string lockFile, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        while (true)
        {
            if (TryAcquire(lockFile, shared: false, clock) is { } l) return l;
            Time.Clock.Sleep(clock, TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Waits for the lock, calling <paramref name="onWait"/> once with the holder's description.</summary>
    public static async Task<StageLock> AcquireAsync(string lockFile, Action<string> onWait, CancellationToken cancel, bool shared = false, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        var told = false;
        while (true)
        {
            var l = TryAcquire(lockFile, shared, clock);
            if (l is not null) return l;
            if (!told)
            {
                told = true;
                string holder;
                try { holder = IO.SmallFile.ReadAllText(lockFile + ".owner", 4096).Trim(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { holder = "another build"; }
                onWait(holder);
            }
            await Time.Clock.Delay(clock, TimeSpan.FromMilliseconds(250), cancel).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (_ownerFile is not null)
            // Best effort: the lock is the flock, released below whatever happens here (a denied delete, an
            // immutable state dir, escaped as a build-wide KDG1207 and cut the build's summary off; a SLURM review).
            try { File.Delete(_ownerFile); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
    }
}
