namespace KdGat.Testing;

/// <summary>
/// File-system clocks for HashCache's racy-row rule (a file hashed in the tick of its last change
/// is not saved). A test writes its files microseconds before it hashes them, in the same tick;
/// tests of other cache behaviour pass <see cref="LongAfterEveryWrite"/>, as if the files had been
/// written long before the build.
/// </summary>
public static class FileSystemClock
{
    public static long LongAfterEveryWrite() => long.MaxValue;
}
