using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution.Slurm;

/// <summary>
/// Renders one stage attempt as a batch script: #SBATCH lines from the stage's resources plus the
/// config's slurm.extra, then the environment and the command. #SBATCH lines are read by sbatch,
/// not by a shell, so the only way to smuggle anything in is a line break or a quote: every value
/// is checked and a bad one is refused (KDG4001). The body is shell; every value in it is quoted,
/// and the command is the stage's command as rendered (its substituted values are quoted already).
/// The command runs in a subshell; when it returns, the script writes its exit code to the
/// attempt's done-marker (<see cref="MarkerPath"/>, atomically: temp file, then rename) and exits
/// with that code. The marker only tells the <see cref="JobWatcher"/> to ask SLURM now: the outcome
/// is still what squeue/sacct say. A job killed before the subshell returns (TIMEOUT, scancel,
/// node failure, preemption) writes none; the watcher's slower squeue polling catches those. A
/// job SLURM requeues runs the script again: it removes the first run's marker and declared outputs,
/// but only while the attempt's <see cref="OpenPath"/> is there: once KdGat has seen the job end, a
/// rerun (an admin's scontrol requeue of the ended job) refuses to run (KDG4022).
/// </summary>
internal static partial class JobScript
{
    // \z, not $: "$" also matches before a final newline, which would end a script line.
    [GeneratedRegex(@"^[A-Za-z0-9_.\-]+\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^--[A-Za-z][A-Za-z0-9\-]*(=[^\x00-\x1f\x7f""]*)?\z")]
    private static partial Regex ExtraPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex EnvNamePattern();

    public static string JobName(StageInstance s) => $"kdgat-{s.Id}";

    public static string Comment(string attemptId) => $"kdgat-{attemptId}";

    /// <summary>The attempt's done-marker: beside its job script and logs, one per attempt (the log stem names time and attempt).</summary>
    public static string MarkerPath(StageJob job) => Path.ChangeExtension(job.StdoutPath, ".done");

    /// <summary>
    /// The marker this attempt's job script writes, or null when the script on disk writes none (a
    /// job re-attached from a build that predates markers, or whose script is gone): such a job is
    /// only seen ending by squeue.
    /// </summary>
    public static string? MarkerWrittenBy(string scriptPath, string marker)
    {
        try { return IO.SmallFile.ReadAllText(scriptPath).Contains(MarkerLine(marker), StringComparison.Ordinal) ? marker : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The file that lets the job script run: written before sbatch, removed by the executor once it
    /// has seen the job end (<see cref="SlurmExecutor"/>), before the attempt's outputs are taken or
    /// rolled back. A job SLURM runs again after that (an admin's `scontrol requeue` of an ended job)
    /// would rewrite outputs a build has committed, or write into a later attempt's run dir; its script
    /// finds the file gone and exits at once. A requeue before the end (node failure, preemption) finds
    /// it and runs again as the same attempt. Absent is the safe side: a file lost refuses a run, never
    /// lets one rewrite a result.
    /// </summary>
    public static string OpenPath(StageJob job) => Path.ChangeExtension(job.StdoutPath, ".open");

    /// <summary>The exit code of a job script that refused to run again after its job was collected.</summary>
    public const int RanAfterCollectedExitCode = 3;

    private static string MarkerLine(string marker) => $"kdgat_done={CommandTemplate.Quote(marker)}";

    /// <summary>The directives, in order, without the "#SBATCH " prefix.</summary>
    public static IReadOnlyList<string> Directives(StageJob job, IReadOnlyList<string> configExtra)
    {
        var s = job.Instance;
        var r = job.Resources;
        var where = $"stage '{s.Name}' (dataset {s.Dataset})";
        var d = new List<string>
        {
            $"--job-name={Name(JobName(s), where, "job name")}",
            $"--output={FilePath(job.StdoutPath, where)}",
            $"--error={FilePath(job.StderrPath, where)}",
            // Lets a retried sbatch whose first call timed out find the job it may have created.
            $"--comment={Name(Comment(job.AttemptId), where, "attempt id")}",
        };
        if (r.Account is { } a) d.Add($"--account={Name(a, where, "resources.account")}");
        if (r.Partition is { } p) d.Add($"--partition={string.Join(',', p.Split(',').Select(one => Name(one, where, "resources.partition")))}");
        if (r.Qos is { } q) d.Add($"--qos={Name(q, where, "resources.qos")}");
        if (r.Cpus is { } c) d.Add($"--cpus-per-task={c.ToString(CultureInfo.InvariantCulture)}");
        if (r.MemMb is { } m) d.Add($"--mem={m.ToString(CultureInfo.InvariantCulture)}M");
        if (r.TimeMinutes is { } t) d.Add($"--time={(t == ResourceParser.UnlimitedMinutes ? "UNLIMITED" : t.ToString(CultureInfo.InvariantCulture))}");
        if (r.Gpus is { } g && g > 0)
            d.Add($"--gpus={(r.GpuType is { } type ? Name(type, where, "resources.gpus type") + ":" : "")}{g.ToString(CultureInfo.InvariantCulture)}");
        foreach (var e in configExtra) d.Add(Extra(e, "slurm.extra"));
        foreach (var e in r.Extra) d.Add(Extra(e, $"resources.extra of {where}"));
        return d;
    }

    public static string Render(StageJob job, IReadOnlyList<string> configExtra)
    {
        var sb = new StringBuilder("#!/bin/sh\n");
        sb.Append("# KdGat job script: ").Append(job.Instance.Key).Append(" attempt ").Append(job.Attempt.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var d in Directives(job, configExtra)) sb.Append("#SBATCH ").Append(d).Append('\n');
        // Before anything else (even the marker's removal): a run after KdGat collected the job touches nothing.
        sb.Append("if [ ! -e ").Append(CommandTemplate.Quote(OpenPath(job))).Append(" ]; then echo ")
          .Append(CommandTemplate.Quote($"KdGat: error {ErrorCodes.SlurmJobRanAfterCollected}: {job.Instance.Key} attempt {job.Attempt.ToString(CultureInfo.InvariantCulture)}: this job ran again (scontrol requeue?) after a KdGat build had collected it"))
          .Append("\" (job $SLURM_JOB_ID, restart $SLURM_RESTART_COUNT); \"")
          .Append(CommandTemplate.Quote("it refuses to run, so it cannot rewrite outputs that builds have taken. Nothing to do: the collected result stands; to run the stage again, change what it depends on or Clean it, then build."))
          .Append(" >&2; exit ").Append(RanAfterCollectedExitCode.ToString(CultureInfo.InvariantCulture)).Append("; fi\n");
        foreach (var (k, v) in job.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!EnvNamePattern().IsMatch(k)) throw Unsafe($"environment variable name '{k}'", job.Instance.Name);
            sb.Append("export ").Append(k).Append('=').Append(CommandTemplate.Quote(v)).Append('\n');
        }
        var marker = MarkerPath(job);
        // A requeued job runs the script again: its first run's marker must not wake the watcher early.
        sb.Append(MarkerLine(marker)).Append('\n');
        sb.Append("rm -f \"$kdgat_done\"\n");
        // A requeued job (node failure, preemption, scontrol requeue) runs the script again in the same
        // run dir: as a retry of KdGat's own starts without the failed attempt's outputs, the run
        // starts without what the killed run left in the declared outputs (files it added to an
        // output directory would otherwise be committed with the second run's).
        if (job.Instance.Outputs.Count > 0)
            sb.Append("if [ \"${SLURM_RESTART_COUNT:-0}\" != 0 ]; then rm -rf -- ")
              .AppendJoin(' ', job.Instance.Outputs.Select(CommandTemplate.Quote)).Append("; fi\n");
        sb.Append("(\n");
        sb.Append("cd ").Append(CommandTemplate.Quote(job.Instance.RunDir)).Append(" || exit 125\n");
        // As the local executor runs it: /bin/sh, in the run dir, the command as rendered. In a
        // subshell, so that `exit` or `exec` in the command still returns here for the marker.
        sb.Append(job.Command).Append('\n');
        sb.Append(")\n");
        sb.Append("kdgat_rc=$?\n");
        sb.Append(LeftoverScan(job.AttemptId));
        sb.Append("{ printf '%s\\n' \"$kdgat_rc\"; if [ -n \"$kdgat_left\" ]; then printf '").Append(LeftoversTag).Append("%s\\n' \"$kdgat_left\"; fi; } > \"$kdgat_done.tmp\" 2>/dev/null && mv -f \"$kdgat_done.tmp\" \"$kdgat_done\" 2>/dev/null\n");
        sb.Append("exit \"$kdgat_rc\"\n");
        return sb.ToString();
    }

    /// <summary>The done-marker's second line when the command left processes running: "leftovers: PID ...".</summary>
    public const string LeftoversTag = "leftovers:";

    /// <summary>
    /// Whether the attempt's done-marker says the command left processes running (killed by the
    /// script before it wrote the marker): the result is kept but not cached (KDG3016), as with the
    /// local executor. The marker is trusted this far only: it can refuse the cache, never a result.
    /// </summary>
    public static bool MarkerNamesLeftovers(string? marker)
    {
        if (marker is null) return false;
        try { return IO.SmallFile.ReadAllText(marker).Split('\n').Any(l => l.StartsWith(LeftoversTag, StringComparison.Ordinal)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Shell lines run after the command's subshell returned: what it left running (work started with
    /// <c>&amp;</c> and never waited for) is found as the local executor finds it, by process group
    /// (SLURM starts the batch script as the leader of its own; the whole group, unless the script
    /// does not lead one) or by this attempt's KDGAT_ATTEMPT_ID in a process's environment (which
    /// also finds one that left the group), never this shell or its ancestors. Such processes are
    /// SIGKILLed (SLURM would end them with the script anyway) and waited for, up to 5 s, so none
    /// writes an output after the marker; their pids go into <c>$kdgat_left</c> for the marker.
    /// Builtins only in the /proc walk, so the scan finds no process of its own; the one grep runs
    /// without the attempt id in its environment.
    /// </summary>
    private static string LeftoverScan(string attemptId) =>
        "kdgat_anc=' ' kdgat_p=$$ kdgat_pg= kdgat_left=\n" +
        "while [ \"${kdgat_p:-0}\" -gt 0 ] && read -r kdgat_s 2>/dev/null < \"/proc/$kdgat_p/stat\"; do\n" +
        "  set -- ${kdgat_s##*') '}\n" +
        "  [ \"$kdgat_p\" = $$ ] && [ \"$3\" = $$ ] && kdgat_pg=$$\n" +
        "  kdgat_anc=\"$kdgat_anc$kdgat_p \" kdgat_p=$2\n" +
        "done\n" +
        "kdgat_env=$(env -u KDGAT_ATTEMPT_ID grep -lzxF -e " + CommandTemplate.Quote("KDGAT_ATTEMPT_ID=" + attemptId) + " /proc/[0-9]*/environ 2>/dev/null)\n" +
        "for kdgat_d in /proc/[0-9]*; do\n" +
        "  kdgat_p=${kdgat_d#/proc/}\n" +
        "  case \"$kdgat_anc\" in *\" $kdgat_p \"*) continue ;; esac\n" +
        "  read -r kdgat_s 2>/dev/null < \"$kdgat_d/stat\" || continue\n" +
        "  set -- ${kdgat_s##*') '}\n" +
        "  case \"$1\" in Z|X) continue ;; esac\n" +
        "  if [ -n \"$kdgat_pg\" ] && [ \"$3\" = \"$kdgat_pg\" ]; then kdgat_left=\"$kdgat_left $kdgat_p\"; continue; fi\n" +
        "  case \"\n$kdgat_env\n\" in *\"\n$kdgat_d/environ\n\"*) kdgat_left=\"$kdgat_left $kdgat_p\" ;; esac\n" +
        "done\n" +
        "if [ -n \"$kdgat_left\" ]; then\n" +
        "  kill -9 $kdgat_left 2>/dev/null\n" +
        "  kdgat_i=0\n" +
        "  while [ $kdgat_i -lt 50 ]; do\n" +
        "    kdgat_alive=\n" +
        "    for kdgat_p in $kdgat_left; do\n" +
        "      read -r kdgat_s 2>/dev/null < \"/proc/$kdgat_p/stat\" || continue\n" +
        "      set -- ${kdgat_s##*') '}\n" +
        "      case \"$1\" in Z|X) ;; *) kdgat_alive=1 ;; esac\n" +
        "    done\n" +
        "    [ -z \"$kdgat_alive\" ] && break\n" +
        "    kdgat_i=$((kdgat_i + 1)); sleep 0.1\n" +
        "  done\n" +
        "fi\n";

    private static string Name(string v, string where, string field) =>
        NamePattern().IsMatch(v) ? v : throw Unsafe($"{field} '{Printable(v)}' of {where} (letters, digits, '_', '.', '-' only)", where);

    /// <summary>sbatch reads %j etc. in file names: a literal % is written %%. Quotes and control characters are refused.</summary>
    private static string FilePath(string path, string where)
    {
        if (path.Any(ch => ch < ' ' || ch == '\x7f' || ch == '"' || ch == '\\'))
            throw Unsafe($"log path '{Printable(path)}' of {where} (no quotes, backslashes or control characters; move the pipeline to a plainer directory)", where);
        var v = path.Replace("%", "%%", StringComparison.Ordinal);
        return v.Contains(' ', StringComparison.Ordinal) ? $"\"{v}\"" : v;
    }

    private static string Extra(string e, string field) =>
        ExtraPattern().IsMatch(e) ? e : throw Unsafe($"{field} entry '{Printable(e)}' (one sbatch option such as --constraint=a100, no quotes or line breaks)", field);

    private static KdgException Unsafe(string what, string where) =>
        new(ErrorCodes.SlurmUnsafeValue, $"cannot write a SLURM job script for {where}: unsafe {what}. Fix the value in kdgat.yaml.");

    private static string Printable(string v) => Regex.Replace(v, @"[\x00-\x1f\x7f]", m => $"\\x{(int)m.Value[0]:x2}");
}
