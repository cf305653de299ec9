namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // A bug in KdGat itself, not in the pipeline: the last resort of every task.
    /// <summary>Error: a KdGat task failed unexpectedly; the exception's stack trace is in .kdgat/crash/ (and the detailed log), not on the console.</summary>
    public const string InternalError = "KDG9001";
    /// <summary>Error: with KDGAT_NOOP_CERTIFICATE=verify, a no-op certificate held but the full check found an instance not up to date (a bug in what the certificate observes; please report it).</summary>
    public const string NoOpCertificateWrong = "KDG9002";
}
