using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution.Local;

namespace KdGat.Core.Engine;

/// <summary>
/// on_success / on_failure: one shell command run after a build, in the pipeline root, told about the
/// build through the environment. A hook only reports: its failure is a warning (KDG3015) and never
/// changes the build's result; it is not fingerprinted.
/// </summary>
internal static class BuildHooks
{
    /// <summary>A hook still running after this long is killed (SIGTERM, then SIGKILL) and reported.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(PipelineConfig config, BuildReport report, string stateDir, IBuildLog log, CancellationToken cancel)
    {
        var (name, command) = report.Succeeded ? ("on_success", config.OnSuccess) : ("on_failure", config.OnFailure);
        if (string.IsNullOrWhiteSpace(command) || cancel.IsCancellationRequested) return;

        var dir = Path.Combine(stateDir, "hooks");
        Directory.CreateDirectory(dir);
        var stdout = Path.Combine(dir, $"{report.BuildId}-{name}.out");
        var stderr = Path.Combine(dir, $"{report.BuildId}-{name}.err");
        // A sweep point is named with its variant (hcrl_sa/train/seed=0,lr=0.001): without it the points of one stage read the same.
        static string Keys(IEnumerable<InstanceReport> r) => string.Join(' ', r.Select(s => $"{s.Dataset}/{s.Stage}" + (s.Variant is { Length: > 0 } v ? "/" + v : "")));
        var env = new Dictionary<string, string?>
        {
            ["KDGAT_BUILD_ID"] = report.BuildId,
            ["KDGAT_BUILD_REPORT"] = Path.Combine(stateDir, "builds", $"{report.BuildId}.json"),
            ["KDGAT_FAILED_STAGES"] = Keys(report.Stages.Where(s => s.Outcome is Outcome.Failed or Outcome.Cancelled)),
            ["KDGAT_RAN_STAGES"] = Keys(report.Stages.Where(s => s.Outcome == Outcome.Ran)),
        };

        log.Info($"KdGat: running {name}: {command}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(Timeout);
        ShellProcess.Outcome outcome;
        try
        {
            // A hook may start something meant to outlive it (a notifier, an upload): not a stage's result.
            outcome = await ShellProcess.RunAsync(config.Root, command, stdout, stderr, env, KillGrace, onStarted: null, timeout.Token, stopLeftovers: false).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            log.Warn(ErrorCodes.HookFailed, $"{name} could not be started ({e.Message}); the build result stands.", config.File);
            return;
        }
        foreach (var line in LogTail.Read(stdout).Concat(LogTail.Read(stderr))) log.Info($"  {name} | {line}");
        if (outcome.Cancelled || outcome.Exit.ExitCode != 0 || outcome.Exit.Signal != 0)
        {
            var how = outcome.Cancelled ? (cancel.IsCancellationRequested ? "was cancelled" : $"timed out after {Timeout.TotalMinutes:0} min and was killed")
                : outcome.Exit.Signal != 0 ? $"was killed by signal {outcome.Exit.Signal}" : $"exited with code {outcome.Exit.ExitCode}";
            log.Warn(ErrorCodes.HookFailed, $"{name} hook {how}; the build result stands. Fix the command in kdgat.yaml; its output is in {stdout} and {stderr}."
                + LogTail.Describe(stderr, stderr), config.File);
        }
    }
}
