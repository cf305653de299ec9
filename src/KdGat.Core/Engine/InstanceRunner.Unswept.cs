using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

internal sealed partial class InstanceRunner
{
    /// <summary>
    /// Before a swept instance's attempt, cache restore or adoption: the stage's unswept result (the
    /// manifest in the folder above the points, from before the sweep, with its params.json and the
    /// outputs it records) stops being a result. Left there, once the sweep was removed again its
    /// unchanged fingerprint made it up to date beside the points' folders, a run dir no from-scratch
    /// build has (a review; a downstream gets the whole folder as {upstream.X}); while swept, its
    /// metrics.json sat above the points' as if it were the stage's. Archived first (History); the
    /// outputs go before the manifest, so a crash in between leaves a manifest with outputs missing
    /// (stale) and the next attempt finishes. The output cache keeps the result: removing the sweep
    /// again restores it rather than running the stage (with the cache on). logs/ stays, as Clean leaves it.
    /// </summary>
    private void RetireUnsweptResult(StageInstance s)
    {
        if (s.Sweep.IsEmpty) return;
        var dir = Path.GetDirectoryName(s.RunDir)!; // {runs}/{dataset}/{stage}: the unswept run dir
        var manifestPath = Path.Combine(dir, StageInstance.ManifestFileName);
        var (status, manifest, _) = ManifestStore.Read(manifestPath);
        if (status == ManifestStore.ReadStatus.Missing) return;
        _ctx.Archive.Capture(s.Dataset, s.Name, manifestPath);
        foreach (var o in manifest?.Outputs ?? [])
        {
            var path = PathText.FromStored(s.Layout.Root, o.Path);
            // Only what lies in the unswept run dir, and never a folder holding this point's own.
            if (PathText.IsUnder(path, dir) && !PathText.IsUnder(s.RunDir, path)) Gone(path);
        }
        Gone(Path.Combine(dir, Path.GetFileName(s.ParamsFilePath)));
        Gone(manifestPath);

        // The stage's other points retire it at the same time: what one of them removed first is gone all the same.
        static void Gone(string path)
        {
            try { FileMover.Delete(path); }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException) { }
        }
    }
}
