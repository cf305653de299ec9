namespace KdGat.Core.Tracking;

/// <summary>
/// A flock beside the index: every user holds it shared; replacing a damaged database takes it
/// exclusive, so no process is left writing into a file that is being moved aside (and no stale
/// -wal file is ever paired with a new database).
/// </summary>
internal sealed class IndexLock : IDisposable
{
    private FileStream? _stream;
    private IndexLock(FileStream s) => _stream = s;

    // .NET on Unix takes flock(LOCK_SH|LOCK_NB) when a file is opened for reading with sharing,
    // and flock(LOCK_EX|LOCK_NB) with FileShare.None; a conflict throws IOException.
    public static IndexLock Shared(string path, TimeSpan timeout) =>
        Acquire(path, timeout, () => new FileStream(path, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));

    public static IndexLock Exclusive(string path, TimeSpan timeout) =>
        Acquire(path, timeout, () => new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));

    private static IndexLock Acquire(string path, TimeSpan timeout, Func<FileStream> open)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var until = DateTime.UtcNow + timeout;
        var delay = 5;
        while (true)
        {
            try { return new IndexLock(open()); }
            catch (IOException) when (DateTime.UtcNow < until)
            {
                Thread.Sleep(delay + Random.Shared.Next(delay));
                delay = Math.Min(delay * 2, 250);
            }
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
