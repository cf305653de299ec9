namespace KdGat.Core.Execution;

/// <summary>
/// The build is ending because its terminal went away (SIGHUP: an SSH drop, a closed window), not
/// because someone asked it to stop: batch jobs it submitted are left running for the next build to
/// re-attach to, as with -p:CancelOnAbort=false, where Ctrl+C and SIGTERM cancel them. A dropped
/// connection cancelled hours of GPU jobs, while the README promised re-attach (a review).
/// Process-wide: the signal handler notes it before it cancels the running task.
/// </summary>
internal static class HangUp
{
    private static int s_seen;

    public static bool Seen => Volatile.Read(ref s_seen) == 1;

    public static void Note() => Volatile.Write(ref s_seen, 1);

    /// <summary>Tests only: a test process outlives the build it hung up.</summary>
    internal static void Reset() => Volatile.Write(ref s_seen, 0);
}
