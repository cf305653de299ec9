using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Local;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;

namespace KdGat.Core.Engine;

/// <summary>
/// Raw data is an input like any other and KdGat never writes it, except that a configured
/// generator (the bundled sample) may create a dataset that is absent. It never overwrites.
/// </summary>
internal static class RawData
{
    public static bool IsPresent(string dir)
    {
        if (!NoOp.FileObservations.DirectoryExists(dir)) return false;
        NoOp.FileObservations.SawListing(dir);
        return Directory.EnumerateFileSystemEntries(dir).Any();
    }

    /// <summary>
    /// The generator's journal: written before it runs, removed once it made the dataset. Present
    /// beside raw data, that data is what a run that did not finish (a kill -9, a lost node) left
    /// behind: a user's generator (a download) writes into {raw_dir} as it goes, and a non-empty
    /// folder was taken for the whole dataset by every later build (a review).
    /// </summary>
    internal static string GeneratingMark(PipelineLayout layout, string dataset) => Path.Combine(layout.DatasetStateDir(dataset), "generator", "generating");

    /// <summary>There, and not what a generator that did not finish left.</summary>
    private static bool IsComplete(PipelineLayout layout, string dataset, string raw) =>
        IsPresent(raw) && (layout.Config.Generator is null || !NoOp.FileObservations.FileExists(GeneratingMark(layout, dataset)));

    /// <summary>
    /// Why an instance that reads its dataset's raw data would run while that data is not there, or
    /// null: Explain and Status say so (and whether a build generates it) instead of a missing input.
    /// </summary>
    public static StaleReason? Missing(StageInstance s) =>
        !IsComplete(s.Layout, s.Dataset, s.RawDir) && s.ReferencedPaths().Any(p => p.Path == s.RawDir || PathText.IsUnder(p.Path, s.RawDir))
            ? new("raw-data-missing", IsPresent(s.RawDir)
                ? $"the raw data at '{PathText.ToStored(s.Layout.Root, s.RawDir)}' is what a generator that did not finish left (a build moves it aside and generates it again)"
                : $"raw data not found at '{PathText.ToStored(s.Layout.Root, s.RawDir)}'" +
                  (s.Layout.Config.Generator is null ? " (a build stops with KDG1103 until it is there)" : " (a build generates it first)"))
            : null;

    /// <summary>Explain's view: absent, or what an unfinished generator left.</summary>
    public static bool IsUsable(PipelineLayout layout, string dataset) => IsComplete(layout, dataset, layout.Resolve(layout.Config.RawDir, dataset));

    public static async Task EnsureAsync(PipelineLayout layout, string dataset, bool mayGenerate, IBuildLog log, TimeProvider time, CancellationToken cancel)
    {
        var raw = layout.Resolve(layout.Config.RawDir, dataset);
        if (IsComplete(layout, dataset, raw)) return;
        var stored = PathText.ToStored(layout.Root, raw);
        if (layout.Config.Generator is null || !mayGenerate)
        {
            if (IsPresent(raw)) return; // what an unfinished generator left: Explain says so (Missing), a build generates it again
            var config = layout.Config;
            var file = Path.GetFileName(config.File);
            var fix = config.RawIsDefault
                ? $"or set 'paths.raw' in {file}: it is not set, so the default '{config.RawDir}' applies"
                : $"or fix 'paths.raw' in {file}";
            throw new KdgException(ErrorCodes.RawDataMissing,
                $"raw data for dataset '{dataset}' not found at '{stored}'. Put the dataset there ({fix}).",
                config.File, config.RawAt?.Line ?? 0, config.RawAt?.Column ?? 0);
        }
        var mark = GeneratingMark(layout, dataset);
        // One generator per dataset at a time: two builds both found it absent and both wrote into it.
        Locking.StageLock generating;
        try
        {
            generating = await Locking.StageLock.AcquireAsync(mark + ".lock",
                holder => log.Info($"KdGat: waiting for {holder}, which is generating the raw data of '{dataset}'"), cancel, time: time).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw Cancelled(layout, dataset, "");
        }
        using var _ = generating;
        if (IsComplete(layout, dataset, raw)) return; // the other build made it
        if (IsPresent(raw))
        {
            var aside = MoveAside(raw, time);
            log.Warn(ErrorCodes.GeneratorUnfinished,
                $"the raw data of dataset '{dataset}' at {stored} was left by a generator that did not finish ({Describe(mark)}); it was moved to {PathText.ToStored(layout.Root, aside)} and is generated again. Delete that folder once you no longer need it.");
        }
        log.Info($"KdGat: generating sample raw data for '{dataset}' into {stored} (configured 'generator'; existing data is never overwritten)");
        var command = RenderGenerator(layout.Config, dataset, raw, layout.Root, layout.ToolsDir);
        var logDir = Path.GetDirectoryName(mark)!;
        Directory.CreateDirectory(logDir);
        AtomicFile.WriteAllText(mark, $"pid {Environment.ProcessId} on {Environment.MachineName} since {time.GetUtcNow():yyyy-MM-dd HH:mm:ss} UTC\n");
        var run = await ShellProcess.RunAsync(layout.Root, command, Path.Combine(logDir, "stdout.log"), Path.Combine(logDir, "stderr.log"),
            new Dictionary<string, string?>(), TimeSpan.FromSeconds(2), null, cancel).ConfigureAwait(false);
        if (run.Leftovers != LeftoverProcesses.None)
            log.Warn(ErrorCodes.LeftoversKilled, $"the generator for dataset '{dataset}' exited but left processes running; they were {(run.Leftovers == LeftoverProcesses.Killed ? "killed" : "sent SIGKILL but did not end within 5 s")} so nothing writes the raw data after it was checked. End background work in the generator command with `wait`.");
        var exit = run.Exit;
        var finished = !cancel.IsCancellationRequested && exit.ExitCode == 0 && run.Leftovers != LeftoverProcesses.Survived && IsPresent(raw);
        if (finished)
        {
            FileMover.Delete(mark);
            return;
        }
        // What it wrote is no dataset: moved aside now, so no build takes it for one. Where that fails the
        // mark stays, and the next build moves it (an empty folder it made is left: absent data either way).
        var moved = "";
        if (IsPresent(raw))
            try { moved = $" What it wrote was moved to {PathText.ToStored(layout.Root, MoveAside(raw, time))}."; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { moved = $" What it wrote stays at {stored} ({e.Message.TrimEnd('.')}); the next build moves it aside and generates the dataset again."; }
        if (!moved.Contains("stays at", StringComparison.Ordinal)) FileMover.Delete(mark);
        if (cancel.IsCancellationRequested) throw Cancelled(layout, dataset, moved); // the generator's process group was killed
        throw new KdgException(ErrorCodes.GeneratorFailed,
            $"the generator for dataset '{dataset}' failed (exit code {exit.ExitCode}). See {PathText.ToStored(layout.Root, Path.Combine(logDir, "stderr.log"))}.{moved}", layout.Config.File);
    }

    private static KdgException Cancelled(PipelineLayout layout, string dataset, string moved) => new(ErrorCodes.StageCancelled,
        $"KdGat: build cancelled while generating the raw data of dataset '{dataset}'; no stage had started.{moved} Build again to go on.", layout.Config.File);

    /// <summary>Beside the dataset (one rename, on its file system): {raw}.partial-{time}, never deleted by KdGat.</summary>
    private static string MoveAside(string raw, TimeProvider time)
    {
        var trimmed = Path.TrimEndingDirectorySeparator(raw);
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var aside = $"{trimmed}.partial-{stamp}";
        for (var n = 2; FileMover.Exists(aside); n++) aside = $"{trimmed}.partial-{stamp}-{n}";
        FileMover.Move(trimmed, aside);
        return aside;
    }

    private static string Describe(string mark)
    {
        try { return "its run began as " + IO.SmallFile.ReadAllText(mark, 4096).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "a run of it was under way"; }
    }

    /// <summary>
    /// Checks the generator's placeholders when the configuration loads, at the 'generator' value: an
    /// unknown one passed Explain and stopped the build only when a dataset's raw data was missing, with
    /// no position (a review).
    /// </summary>
    public static void CheckGenerator(Config.PipelineConfig config, string toolsDir)
    {
        if (config.Generator is null) return;
        try { RenderGenerator(config, "dataset", "raw_dir", config.Root, toolsDir); }
        catch (KdgException e) when (e.File is null)
        {
            throw new KdgException(e.Code, e.Message, config.File, config.GeneratorAt.Line, config.GeneratorAt.Column);
        }
    }

    private static string RenderGenerator(Config.PipelineConfig config, string dataset, string raw, string root, string tools) =>
        CommandTemplate.Render(config.Generator!, n => n switch
        {
            "dataset" => new(dataset),
            "raw_dir" => new(raw),
            "root" => new(root),
            "tools" => new(tools),
            _ when n.StartsWith("vars.", StringComparison.Ordinal) && config.Vars.TryGetValue(n[5..], out var t) => new(t, Raw: true),
            _ => null,
        }, shell: true, "generator", () => ["dataset", "raw_dir", "root", "tools", .. config.Vars.Keys.Select(k => "vars." + k)], "{dataset}, {raw_dir}, {root}, {tools}, {vars.NAME}");
}
