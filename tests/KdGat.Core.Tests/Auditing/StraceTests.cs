using KdGat.Core.Auditing;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Local;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Auditing;

/// <summary>The real strace (installed by scripts/strace/ensure-strace.sh) under the local executor.</summary>
[Trait("Category", "Unit")]
public sealed class StraceTests : IDisposable
{
    private readonly TestPipeline _p = new("datasets: [d1]\npaths:\n  runs: runs\nstages:\n  a: { command: x, outputs: [o] }\n");
    private readonly StageInstance _s;

    public StraceTests() => _s = _p.Instances([new("a", [])]).Single();

    public void Dispose() => _p.Dispose();

    private async Task<(ExecutionResult Result, StraceParser Trace)> RunTraced(string command)
    {
        var trace = Path.Combine(_s.LogDir, "attempt.strace");
        var job = new StageJob
        {
            Instance = _s, Command = command, AttemptId = "b1-1", Resources = new(), TraceFile = trace,
            StdoutPath = Path.Combine(_s.LogDir, "attempt.out"), StderrPath = Path.Combine(_s.LogDir, "attempt.err"),
        };
        var r = await new LocalExecutor(1).RunAsync(job, CancellationToken.None);
        return (r, StraceParser.ParseFile(trace, _s.RunDir));
    }

    [Fact]
    public async Task TracedCommand_RunsInItsRunDir_AndItsReadsAndWritesAreSeen()
    {
        _p.Dir.Write("data/in put.csv", "x\n");

        var (r, trace) = await RunTraced("cat '../../../data/in put.csv' > o && (cd ../../../data && echo y > side.txt)");

        Assert.Equal(ExecState.Completed, r.State);
        Assert.Equal("x\n", File.ReadAllText(Path.Combine(_s.RunDir, "o")));
        Assert.Contains(trace.Accesses, a => a.Kind == AccessKind.Read && a.Path == _p.Dir["data/in put.csv"]);
        Assert.Contains(trace.Accesses, a => a.Kind == AccessKind.Write && a.Path == Path.Combine(_s.RunDir, "o"));
        Assert.Contains(trace.Accesses, a => a.Kind == AccessKind.Write && a.Path == _p.Dir["data/side.txt"]);
        Assert.Equal(0, trace.Unparsed);
    }

    [Fact]
    public async Task TracedCommand_KeepsItsExitCode()
    {
        var (r, _) = await RunTraced("exit 3");

        Assert.Equal(ExecState.Failed, r.State);
        Assert.Equal(3, r.ExitCode);
    }

    [Fact]
    public void MissingStrace_IsKdg6004WithTheInstallCommand()
    {
        var e = Assert.Throws<KdgException>(() => Strace.EnsureUsable("/nonexistent/strace"));

        Assert.Equal(ErrorCodes.AuditTracerUnavailable, e.Code);
        Assert.Contains("apt-get install strace", e.Message);
    }

    [Fact]
    public void InstalledStrace_CanTraceHere() => Strace.EnsureUsable();
}
