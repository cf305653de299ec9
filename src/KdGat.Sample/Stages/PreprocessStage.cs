using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Data;
using KdGat.Sample.Graphs;
using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>
/// preprocess: every CSV capture file of the dataset directory -> windowed graphs. Files are
/// streamed one at a time and graphs written as built (memory holds one window of frames), windows never
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

        var paths = RawDataset.Files(raw);
        var builder = new GraphBuilder(window, stride);
        var files = new List<SourceFile>();
        int graphs = 0, attackGraphs = 0;
        // Graphs go to the cache file as they are built: memory holds one window, not the dataset.
        AtomicWrite.Directory(outDir, temp =>
        {
            using var cache = GraphCache.Create(temp);
            foreach (var path in paths)
            {
                var (frames, count) = builder.AddFile(FrameCsv.Read(path), cache.Add);
                files.Add(new SourceFile(Path.GetFileName(path), frames, count));
            }
            if (cache.Graphs == 0)
                throw new SampleError($"no file holds one window of {window} frames (largest: {files.Max(f => f.Frames)})", raw, "use more frames per file or a smaller 'window'");
            if (cache.TrainGraphs == 0 || cache.TestGraphs == 0)
                throw new SampleError($"{cache.Graphs} graphs are too few for both a training and a test split", raw, "use more frames or a smaller 'window'/'stride'");
            (graphs, attackGraphs) = (cache.Graphs, cache.AttackGraphs);
            cache.Finish(window, stride, files);
        });
        stdout.WriteLine($"preprocess: {files.Count} files, {builder.Frames} frames -> {graphs} graphs (window {window}, stride {stride}, {attackGraphs} attack) -> {outDir}");
        return 0;
    }

    private static bool IsSameOrUnder(string path, string dir)
    {
        var rel = Path.GetRelativePath(dir, path);
        return rel == "." || !(rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel));
    }
}
