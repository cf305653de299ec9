using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Data;

namespace KdGat.Sample.Stages;

/// <summary>generate: synthetic raw frames for a dataset. Raw data is precious, so it never overwrites.</summary>
internal static class GenerateStage
{
    public static readonly string[] Options = ["dataset", "out"];

    public static int Run(Args args, TextWriter stdout)
    {
        var dataset = args.Required("dataset");
        var dir = OutputDir.Prepare(args.Required("out"));
        var target = Path.Combine(dir, FrameCsv.FileName);
        if (File.Exists(target))
            throw new SampleError("refusing to overwrite existing raw data", target, "delete it yourself if you really want it regenerated");
        var frames = TrafficGenerator.Generate(dataset);
        AtomicWrite.File(target, s => FrameCsv.Write(s, frames), overwrite: false);
        stdout.WriteLine($"generate: {frames.Count} frames ({frames.Count(f => f.Attack)} attack) for '{dataset}' -> {target}");
        return 0;
    }
}
