using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// What is left of a stage's unswept result once the stage is swept: everything in the run dir above
/// the points but its manifest, logs/ and the points' folders (today's and former ones, handled as
/// instances and slots of their own), and the outputs its manifest records elsewhere ({cache_dir}).
/// A from-scratch build of the swept stage has none of it (a differential review found the build's
/// retirement leaving a scratch file and a {cache_dir} output that Clean removed). Never what a
/// planned instance's output or run dir lies at, above or below. Clean (every build of the dataset
/// locked out) enters a folder holding a planned path and takes the rest of it; the build's
/// retirement, beside running points and stages it did not select, never enters one, and takes an
/// output outside the run dir only while it still has the bytes the unswept manifest records (a
/// review: a build of -p:Stage=b deleted stage c's committed output in the folder b's old result was).
/// </summary>
internal static class UnsweptLeftovers
{
    /// <summary>Every planned instance's outputs and run dir: what a leftover may not be, hold or lie in.</summary>
    public static PathMap<bool> Planned(IEnumerable<StageInstance> instances)
    {
        var map = new PathMap<bool>();
        foreach (var i in instances)
            foreach (var path in i.Outputs.Append(i.RunDir)) map.Add(path, true);
        return map;
    }

    /// <param name="runDir">The stage's unswept run dir, {runs}/{dataset}/{stage}.</param>
    /// <param name="manifest">Its manifest (already read), for the outputs it records outside the run dir.</param>
    /// <param name="stillRecorded">The build's retirement: whether an output outside the run dir still has the bytes its record holds; null for Clean.</param>
    public static IReadOnlyList<string> Of(string root, string runDir, StageManifest? manifest, PathMap<bool> planned, Func<OutputRecord, string, bool>? stillRecorded = null)
    {
        // A stage folder that is a link holds the points too: it stays (what is in it reruns all the same).
        var inRunDir = !Directory.Exists(runDir) || FileMover.IsLink(runDir) ? []
            : Directory.EnumerateFileSystemEntries(runDir).Where(e => Path.GetFileName(e) is not ("logs" or StageInstance.ManifestFileName) && !IsPointFolder(e));
        var elsewhere = (manifest?.Outputs ?? []).Select(o => (Record: o, Path: PathText.FromStored(root, o.Path))).Where(o => !PathText.IsUnder(o.Path, runDir))
            .Where(o => stillRecorded is null || stillRecorded(o.Record, o.Path)).Select(o => o.Path);
        var found = new List<string>();
        foreach (var path in inRunDir.Concat(elsewhere).Order(StringComparer.Ordinal)) NotPlanned(path, planned, found, enter: stillRecorded is null);
        return found;
    }

    private static bool IsPointFolder(string entry) => Path.GetFileName(entry).Contains('=') && Directory.Exists(entry) && !FileMover.IsLink(entry);

    /// <summary>The path itself when nothing planned is at, above or below it; else, for a real folder with planned paths below (<paramref name="enter"/>), its children by the same rule.</summary>
    private static void NotPlanned(string path, PathMap<bool> planned, List<string> found, bool enter)
    {
        if (planned.AtOrAbove(path).Any() || !FileMover.Exists(path)) return;
        if (!planned.Below(path).Any()) { found.Add(path); return; }
        if (!enter || FileMover.IsLink(path) || !Directory.Exists(path)) return;
        foreach (var child in Directory.EnumerateFileSystemEntries(path).Order(StringComparer.Ordinal)) NotPlanned(child, planned, found, enter);
    }
}
