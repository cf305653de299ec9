using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Data;
using KdGat.Sample.Graphs;
using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>preprocess: raw frames -> windowed graphs. Replaces the whole --out directory.</summary>
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

        var frames = FrameCsv.Read(Path.Combine(raw, FrameCsv.FileName));
        var set = new GraphSet(window, stride, GraphBuilder.Build(frames, window, stride));
        if (set.Graphs.Count == 0)
            throw new SampleError($"only {frames.Count} frames, fewer than one window of {window}", Path.Combine(raw, FrameCsv.FileName), "use more frames or a smaller 'window'");
        AtomicWrite.Directory(outDir, temp => GraphCache.Write(temp, set, frames.Count));
        stdout.WriteLine($"preprocess: {frames.Count} frames -> {set.Graphs.Count} graphs (window {window}, stride {stride}, {set.Graphs.Count(g => g.Label == 1)} attack) -> {outDir}");
        return 0;
    }

    private static bool IsSameOrUnder(string path, string dir)
    {
        var rel = Path.GetRelativePath(dir, path);
        return rel == "." || !(rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel));
    }
}
