namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // 6xxx: the read/write audit of stages (-t:Audit).
    /// <summary>Error: a stage read an output of a stage that is not among its Needs, so its fingerprint misses that change.</summary>
    public const string AuditUndeclaredUpstream = "KDG6001";
    /// <summary>Warning: a stage read a file under the repository or the raw/cache roots that is not a declared input, code file or params file.</summary>
    public const string AuditUndeclaredInput = "KDG6002";
    /// <summary>Warning: a stage wrote a file outside its run dir and its declared outputs.</summary>
    public const string AuditUndeclaredWrite = "KDG6003";
    /// <summary>Error: strace is missing or cannot trace here (ptrace not permitted), so the audit cannot run.</summary>
    public const string AuditTracerUnavailable = "KDG6004";
    /// <summary>Error: the audit runs stages on this machine and cannot run with the SLURM executor.</summary>
    public const string AuditNeedsLocalExecutor = "KDG6005";
    /// <summary>Warning: a stage's trace is missing or could not be read, so that stage was not audited.</summary>
    public const string AuditTraceUnreadable = "KDG6006";
    /// <summary>Error: a stage read a file in a needed upstream's run dir that is not one of its declared outputs (nor its params.json): the upstream's output digest does not cover it.</summary>
    public const string AuditUndeclaredUpstreamFile = "KDG6007";
    /// <summary>Warning: a stage read its params_file itself: its fingerprint has the values KdGat parsed from it, not its bytes.</summary>
    public const string AuditParamsFileRead = "KDG6008";
}
