using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Data;
using KdGat.Sample.Graphs;
using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>
/// preprocess: every CSV capture file of the dataset directory -> windowed graphs. Files are
/// streamed one at a time (memory holds one window of frames plus the graphs), windows never
/// span files. Replaces the whole --out directory.
/// </summary>
internal static class PreprocessStage
{
    public static readonly string[] Options = ["raw", "out", "params"];

    public static int Run(Args args, TextWriter stdout)
    {
        var raw = Path.GetFullPath(args.Required("raw"));
        var outDir = Path.GetFullPath(args.Required("out"));
        // --out is replaced wholesale; pointing it at (or above) the raw data would delete the data.
        if (IsSameOrUnder(raw, outDir))
            throw new SampleError("--out would replace the raw data directory", outDir, "pass a separate cache directory for --out");
        var p = StageParams.Load(args.Optional("params"));
        var window = p.Int("window", 50, min: 2, max: 1_000_000);
        var stride = p.Int("stride", 25, min: 1, max: 1_000_000);

        var builder = new GraphBuilder(window, stride);
        var files = new List<SourceFile>();
        foreach (var path in RawDataset.Files(raw))
        {
            var (frames, graphs) = builder.AddFile(FrameCsv.Read(path));
            files.Add(new SourceFile(Path.GetFileName(path), frames, graphs));
        }
        var set = new GraphSet(window, stride, builder.Graphs);
        if (set.Graphs.Count == 0)
            throw new SampleError($"no file holds one window of {window} frames (largest: {files.Max(f => f.Frames)})", raw, "use more frames per file or a smaller 'window'");
        if (!set.Train.Any() || !set.Test.Any())
            throw new SampleError($"{set.Graphs.Count} graphs are too few for both a training and a test split", raw, "use more frames or a smaller 'window'/'stride'");
        AtomicWrite.Directory(outDir, temp => GraphCache.Write(temp, set, files));
        stdout.WriteLine($"preprocess: {files.Count} files, {builder.Frames} frames -> {set.Graphs.Count} graphs (window {window}, stride {stride}, {set.Graphs.Count(g => g.Label == 1)} attack) -> {outDir}");
        return 0;
    }

    private static bool IsSameOrUnder(string path, string dir)
    {
        var rel = Path.GetRelativePath(dir, path);
        return rel == "." || !(rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel));
    }
}
