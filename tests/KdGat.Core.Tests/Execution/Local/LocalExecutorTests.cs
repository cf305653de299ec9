using System.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Local;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Execution.Local;

[Trait("Category", "Unit")]
public sealed class LocalExecutorTests : IDisposable
{
    private readonly TestPipeline _p = new("datasets: [d1]\npaths:\n  runs: runs\nstages:\n  a: { command: x, outputs: [o] }\n");
    private readonly StageInstance _s;

    public LocalExecutorTests() => _s = _p.Instances([new("a", [])]).Single();

    public void Dispose() => _p.Dispose();

    private StageJob Job(string command, Action<AttemptHandle>? onStarted = null, Dictionary<string, string>? env = null) => new()
    {
        Instance = _s,
        Command = command,
        StdoutPath = Path.Combine(_s.LogDir, "attempt.out"),
        StderrPath = Path.Combine(_s.LogDir, "attempt.err"),
        AttemptId = "b1-1",
        Resources = new(),
        Environment = env ?? new Dictionary<string, string>(),
        OnStarted = onStarted,
    };

    [Fact]
    public async Task RunAsync_Success_CompletesInRunDirWithOutputCaptured()
    {
        AttemptHandle? handle = null;
        var job = Job("pwd; echo to-stderr >&2; echo \"$KDG_X\"; printf data > o", h => handle = h, new() { ["KDG_X"] = "from-env" });

        var r = await new LocalExecutor(1).RunAsync(job, CancellationToken.None);

        Assert.Equal(ExecState.Completed, r.State);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"{_s.RunDir}\nfrom-env\n", File.ReadAllText(job.StdoutPath));
        Assert.Equal("to-stderr\n", File.ReadAllText(job.StderrPath));
        Assert.Equal("data", File.ReadAllText(Path.Combine(_s.RunDir, "o")));
        Assert.Matches(@"^pid:\d+$", r.JobId!);
        Assert.Equal(r.Handle, handle);
        Assert.False(handle!.Value.IsBatchJob);
        Assert.Null(r.Detail);
        Assert.Equal(LeftoverProcesses.None, r.Leftovers);
        Assert.True(r.Finished >= r.Started);
    }

    /// <summary>
    /// A stage that dies of SIGINT just before the build's cancel arrives (a Ctrl+C reaching a stage
    /// spawned at that instant) is cancelled, not failed; with no cancel it is failed.
    /// </summary>
    [Fact]
    public async Task RunAsync_KilledBySigintJustBeforeTheBuildsCancel_IsCancelled_WithoutACancel_Failed()
    {
        using var cts = new CancellationTokenSource();
        var job = Job("kill -INT $$; sleep 5", _ => cts.CancelAfter(TimeSpan.FromMilliseconds(300)));
        var r = await new LocalExecutor(1).RunAsync(job, cts.Token).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ExecState.Cancelled, r.State);

        var alone = await new LocalExecutor(1).RunAsync(Job("kill -INT $$; sleep 5"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ExecState.Failed, alone.State);
        Assert.Equal("killed by signal 2", alone.Detail);
    }

    [Fact]
    public async Task RunAsync_BackgroundWorkLeftRunning_IsKilledWhenTheShellExits_AsSlurmDoes()
    {
        // The background writer would change the output after the attempt ended (and its outputs were hashed).
        var job = Job("(sleep 3; echo late > o) & echo $! > bg.pid; echo early > o");

        var r = await new LocalExecutor(1).RunAsync(job, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(ExecState.Completed, r.State);
        Assert.Equal(LeftoverProcesses.Killed, r.Leftovers);
        Assert.False(Sh.IsRunning(int.Parse(File.ReadAllText(Path.Combine(_s.RunDir, "bg.pid")))), "gone when RunAsync returns");
        Assert.Empty(Sh.LiveInGroup(int.Parse(r.Handle!.Value.Id))); // nothing of the attempt is left to write "late"
        Assert.Equal("early\n", File.ReadAllText(Path.Combine(_s.RunDir, "o")));
    }

    [Theory]
    [InlineData("sleep 0.2 & wait")] // waited for
    [InlineData("true & sleep 0.3")] // ended before the shell: a zombie at most, not left running
    public async Task RunAsync_BackgroundWorkThatEnded_KillsNothing(string command)
    {
        var r = await new LocalExecutor(1).RunAsync(Job(command), CancellationToken.None);

        Assert.Equal(ExecState.Completed, r.State);
        Assert.Equal(LeftoverProcesses.None, r.Leftovers);
    }

    [Theory]
    [InlineData("exit 3", 3)]
    [InlineData("false", 1)]
    [InlineData("no-such-command-kdgat", 127)]
    public async Task RunAsync_NonZeroExit_IsFailedWithExitCode(string command, int code)
    {
        var r = await new LocalExecutor(1).RunAsync(Job(command), CancellationToken.None);

        Assert.Equal(ExecState.Failed, r.State);
        Assert.Equal(code, r.ExitCode);
    }

    [Fact]
    public async Task RunAsync_KilledBySignal_IsFailedWithDetail()
    {
        var r = await new LocalExecutor(1).RunAsync(Job("kill -9 $$"), CancellationToken.None);

        Assert.Equal(ExecState.Failed, r.State);
        Assert.Equal(128 + 9, r.ExitCode);
        Assert.Equal("killed by signal 9", r.Detail);
    }

    [Fact]
    public async Task RunAsync_StdinIsEmpty_SoACommandReadingItDoesNotHang()
    {
        var job = Job("cat; echo done");

        var r = await new LocalExecutor(1).RunAsync(job, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(ExecState.Completed, r.State);
        Assert.Equal("done\n", File.ReadAllText(job.StdoutPath));
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsTheWholeProcessGroup()
    {
        // Two sleeps: one in the background, one in the foreground. Both must go.
        var job = Job("sleep 60 & echo $! > bg.pid; echo $$ > sh.pid; sleep 60");
        using var cts = new CancellationTokenSource();
        var run = new LocalExecutor(1, killGrace: TimeSpan.FromSeconds(2)).RunAsync(job, cts.Token);
        var bgFile = Path.Combine(_s.RunDir, "bg.pid");
        var shFile = Path.Combine(_s.RunDir, "sh.pid");
        // Each pid file is complete once it ends in a newline (the shell creates it, then writes); the
        // foreground sleep is a child of the shell once it has started.
        static bool Complete(string f) => File.Exists(f) && File.ReadAllText(f).EndsWith('\n');
        await Eventually.UntilAsync(() => Complete(bgFile) && Complete(shFile)
            && Children(int.Parse(File.ReadAllText(shFile))).Any(p => p != int.Parse(File.ReadAllText(bgFile))), TimeSpan.FromSeconds(20), "the command started");
        var bg = int.Parse(File.ReadAllText(bgFile));
        var sh = int.Parse(File.ReadAllText(shFile));
        var fg = Children(sh).Single(p => p != bg);
        Assert.True(Sh.IsRunning(bg) && Sh.IsRunning(fg), "both sleeps run before the cancel");
        var sw = Stopwatch.StartNew();

        cts.Cancel();
        var r = await run.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(ExecState.Cancelled, r.State);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        await Eventually.UntilAsync(() => !Sh.IsRunning(bg) && !Sh.IsRunning(fg), TimeSpan.FromSeconds(5), "both sleeps are gone");
    }

    [Fact]
    public async Task RunAsync_CancelledProcessIgnoringSigterm_IsKilledAfterGrace()
    {
        var job = Job("trap '' TERM; echo $$ > sh.pid; while :; do sleep 0.1; done");
        using var cts = new CancellationTokenSource();
        var run = new LocalExecutor(1, killGrace: TimeSpan.FromMilliseconds(300)).RunAsync(job, cts.Token);
        var shFile = Path.Combine(_s.RunDir, "sh.pid");
        await Eventually.UntilAsync(() => File.Exists(shFile) && File.ReadAllText(shFile).EndsWith('\n'), TimeSpan.FromSeconds(20), "the command started");
        var sh = int.Parse(File.ReadAllText(shFile));

        cts.Cancel();
        var r = await run.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(ExecState.Cancelled, r.State);
        Assert.Equal(9, r.ExitCode - 128);
        Assert.False(Sh.IsRunning(sh));
    }

    [Fact]
    public async Task RunAsync_OnStartedHandle_ReportsTheProcessWhileItRuns()
    {
        int? pid = null;
        var job = Job("sleep 0.3", h => pid = int.Parse(h.Id));

        var run = new LocalExecutor(1).RunAsync(job, CancellationToken.None);
        await Eventually.UntilAsync(() => pid is not null, TimeSpan.FromSeconds(10), "started");
        var wasRunning = Sh.IsRunning(pid!.Value);
        var environ = File.ReadAllText($"/proc/{pid}/environ");
        await run;

        Assert.True(wasRunning);
        Assert.DoesNotContain("KDGAT_ATTEMPT_ID", environ); // only what the job's Environment adds
    }

    /// <summary>
    /// Its pid not journalled once it started (a full disk): the process is stopped and the file error goes to the
    /// stage (KDG3007, "check free space"), not NotStarted, which said "the command could not be started" (KDG3005, a quota review).
    /// </summary>
    [Fact]
    public async Task RunAsync_AFileErrorOnceStarted_StopsTheProcess_AndIsAFileError()
    {
        int? pid = null;
        var job = Job("sleep 30", h => { pid = int.Parse(h.Id); throw new IOException("Disk quota exceeded : attempt.json"); });

        await Assert.ThrowsAsync<IOException>(() => new LocalExecutor(1).RunAsync(job, CancellationToken.None));

        Assert.False(Sh.IsRunning(pid!.Value));
    }

    [Fact]
    public void MaxParallel_IsAtLeastOne()
    {
        Assert.Equal(1, new LocalExecutor(0).MaxParallel);
        Assert.Equal(3, new LocalExecutor(3).MaxParallel);
        Assert.Equal("local", new LocalExecutor(1).Name);
    }

    private static int[] Children(int pid)
    {
        var list = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == pid) list.Add(child);
            }
            catch (IOException) { }
        }
        return list.ToArray();
    }
}
