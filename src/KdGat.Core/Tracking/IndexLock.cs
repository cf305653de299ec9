using KdGat.Core.Locking;

namespace KdGat.Core.Tracking;

/// <summary>
/// A flock beside the index: every user holds it shared; replacing a damaged database takes it
/// exclusive, so no process is left writing into a file that is being moved aside (and no stale
/// -wal file is ever paired with a new database). flock itself (<see cref="Flock"/>), as the stage
/// locks: .NET's FileShare locking is off under DOTNET_SYSTEM_IO_DISABLEFILELOCKING.
/// </summary>
internal sealed class IndexLock : IDisposable
{
    private FileStream? _stream;
    private IndexLock(FileStream s) => _stream = s;

    /// <param name="waiting">Called once when the lock is found busy, before waiting (to print a line, as stage locks do: KDG2002).</param>
    public static IndexLock Shared(string path, TimeSpan timeout, TimeProvider? time = null, Action? waiting = null) => Acquire(path, timeout, exclusive: false, time ?? TimeProvider.System, waiting);

    public static IndexLock Exclusive(string path, TimeSpan timeout, TimeProvider? time = null, Action? waiting = null) => Acquire(path, timeout, exclusive: true, time ?? TimeProvider.System, waiting);

    /// <summary>Waits up to <paramref name="timeout"/>; then an IOException naming the lock file.</summary>
    private static IndexLock Acquire(string path, TimeSpan timeout, bool exclusive, TimeProvider time, Action? waiting)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var until = time.GetUtcNow() + timeout;
        var delay = 5;
        while (true)
        {
            FileStream? fs = null;
            try
            {
                IO.SmallFile.RefuseSpecial(path); // opening a FIFO for reading waits for a writer
                fs = new FileStream(path, FileMode.OpenOrCreate, exclusive ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                if (Flock.TryLock(fs.SafeFileHandle, exclusive)) return new IndexLock(fs);
            }
            catch (IOException e) when (fs is null && Flock.IsHeld(e))
            {
                // .NET's own lock on open met the holder's: the same "busy"; any other error is real.
            }
            catch (IOException) when (fs is not null)
            {
                fs.Dispose(); // flock itself failed (ENOLCK, ...): the error stands, the file is not left open
                throw;
            }
            fs?.Dispose();
            waiting?.Invoke();
            waiting = null;
            if (time.GetUtcNow() >= until)
                throw new IndexLockHeldException($"the run index lock {path} is still held by another process after {timeout.TotalSeconds:0.#} s");
            Time.Clock.Sleep(time, TimeSpan.FromMilliseconds(delay + Random.Shared.Next(delay)));
            delay = Math.Min(delay * 2, 250);
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}

/// <summary>The index lock stayed held past its bound: said as "held by another process", not as a file that cannot be written.</summary>
internal sealed class IndexLockHeldException(string message) : IOException(message);
