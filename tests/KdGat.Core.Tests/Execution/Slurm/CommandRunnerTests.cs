using System.ComponentModel;
using KdGat.Core.Execution.Slurm;

namespace KdGat.Core.Tests.Execution.Slurm;

/// <summary>
/// A SLURM client the kernel would not start: only a limit (EAGAIN, EMFILE, ENFILE, ENOMEM) is a passing failure; anything else is "not installed" (127). On a login node at
/// its process limit (EAGAIN) sbatch was "not found" and a squeue asked about a journalled job answered "no job",
/// so the stage was submitted again beside its running job.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandRunnerTests
{
    [Theory]
    [InlineData(2, 127)]  // ENOENT: not installed
    [InlineData(13, 127)] // EACCES: not runnable
    [InlineData(8, 127)]  // ENOEXEC: a broken sbatch is reported, not retried at every build
    [InlineData(23, -1)]  // ENFILE
    [InlineData(11, -1)]  // EAGAIN: ulimit -u, a cgroup's pids.max
    [InlineData(24, -1)]  // EMFILE: ulimit -n
    [InlineData(12, -1)]  // ENOMEM
    public void OnlyALimit_IsAPassingFailure_AnythingElseIsNotInstalled(int errno, int exit)
    {
        var r = ProcessCommandRunner.NotStarted("squeue", new Win32Exception(errno));
        Assert.Equal(exit, r.ExitCode);
        Assert.StartsWith("squeue", r.Text);
    }

    [Fact]
    public async Task A_squeue_refused_for_a_limit_is_no_answer_about_a_journalled_job()
    {
        var client = new SlurmClient(new Refusing(11), (_, _) => Task.CompletedTask);
        var (answered, id, error) = await client.LookUpAttemptAsync("a1", CancellationToken.None);
        Assert.False(answered); // not "no job of this machine's SLURM can run": the job may still run
        Assert.Null(id);
        Assert.Contains("could not be started", error);
    }

    [Fact]
    public async Task A_squeue_that_is_not_installed_still_answers_that_no_job_can_run()
    {
        var client = new SlurmClient(new Refusing(2), (_, _) => Task.CompletedTask);
        Assert.True((await client.LookUpAttemptAsync("a1", CancellationToken.None)).Answered);
    }

    private sealed class Refusing(int errno) : ICommandRunner
    {
        public Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel) =>
            Task.FromResult(ProcessCommandRunner.NotStarted(file, new Win32Exception(errno)));
    }
}
