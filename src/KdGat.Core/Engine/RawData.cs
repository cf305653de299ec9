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
    /// Why an instance that reads its dataset's raw data would run while that data is not there, or
    /// null: Explain and Status say so (and whether a build generates it) instead of a missing input.
    /// </summary>
    public static StaleReason? Missing(StageInstance s) =>
        !IsPresent(s.RawDir) && s.ReferencedPaths().Any(p => p.Path == s.RawDir || PathText.IsUnder(p.Path, s.RawDir))
            ? new("raw-data-missing", $"raw data not found at '{PathText.ToStored(s.Layout.Root, s.RawDir)}'" +
                (s.Layout.Config.Generator is null ? " (a build stops with KDG1103 until it is there)" : " (a build generates it first)"))
            : null;

    public static async Task EnsureAsync(PipelineLayout layout, string dataset, bool mayGenerate, IBuildLog log, CancellationToken cancel)
    {
        var raw = layout.Resolve(layout.Config.RawDir, dataset);
        if (IsPresent(raw)) return;
        var stored = PathText.ToStored(layout.Root, raw);
        if (layout.Config.Generator is null || !mayGenerate)
        {
            var config = layout.Config;
            var file = Path.GetFileName(config.File);
            var fix = config.RawIsDefault
                ? $"or set 'paths.raw' in {file}: it is not set, so the default '{config.RawDir}' applies"
                : $"or fix 'paths.raw' in {file}";
            throw new KdgException(ErrorCodes.RawDataMissing,
                $"raw data for dataset '{dataset}' not found at '{stored}'. Put the dataset there ({fix}).",
                config.File, config.RawAt?.Line ?? 0, config.RawAt?.Column ?? 0);
        }
        log.Info($"KdGat: generating sample raw data for '{dataset}' into {stored} (configured 'generator'; existing data is never overwritten)");
        var command = RenderGenerator(layout.Config, dataset, raw, layout.Root, layout.ToolsDir);
        var logDir = Path.Combine(layout.DatasetStateDir(dataset), "generator");
        Directory.CreateDirectory(logDir);
        var run = await ShellProcess.RunAsync(layout.Root, command, Path.Combine(logDir, "stdout.log"), Path.Combine(logDir, "stderr.log"),
            new Dictionary<string, string?>(), TimeSpan.FromSeconds(2), null, cancel).ConfigureAwait(false);
        if (cancel.IsCancellationRequested) // the generator's process group was killed; its temp dir never became the dataset
            throw new KdgException(ErrorCodes.StageCancelled,
                $"KdGat: build cancelled while generating the raw data of dataset '{dataset}'; no stage had started and nothing was changed. Build again to go on.", layout.Config.File);
        if (run.Leftovers != LeftoverProcesses.None)
            log.Warn(ErrorCodes.LeftoversKilled, $"the generator for dataset '{dataset}' exited but left processes running; they were {(run.Leftovers == LeftoverProcesses.Killed ? "killed" : "sent SIGKILL but did not end within 5 s")} so nothing writes the raw data after it was checked. End background work in the generator command with `wait`.");
        var exit = run.Exit;
        if (exit.ExitCode != 0 || run.Leftovers == LeftoverProcesses.Survived || !IsPresent(raw))
            throw new KdgException(ErrorCodes.GeneratorFailed,
                $"the generator for dataset '{dataset}' failed (exit code {exit.ExitCode}). See {PathText.ToStored(layout.Root, Path.Combine(logDir, "stderr.log"))}.", layout.Config.File);
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
