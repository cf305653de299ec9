using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Data;

namespace KdGat.Sample.Stages;

/// <summary>
/// generate: synthetic raw capture files for a dataset. Raw data is precious, so it never writes
/// into a directory that holds anything. All files appear at once (a filled temp dir renamed into
/// place): a killed generator never leaves a partial dataset that would look complete.
/// </summary>
internal static class GenerateStage
{
    public static readonly string[] Options = ["dataset", "out"];

    public static int Run(Args args, TextWriter stdout)
    {
        var dataset = args.Required("dataset");
        var dir = Path.GetFullPath(args.Required("out"));
        if (File.Exists(dir)) throw new SampleError("--out is a file, not a directory", dir, "pass a directory for --out");
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new SampleError("refusing to write into a non-empty raw data directory", dir, "delete its contents yourself if you really want it regenerated");
        var files = TrafficGenerator.Generate(dataset);
        AtomicWrite.Directory(dir, temp =>
        {
            foreach (var f in files) AtomicWrite.File(Path.Combine(temp, f.Name), s => FrameCsv.Write(s, f.Frames), overwrite: false);
        }, replace: false);
        var frames = files.Sum(f => f.Frames.Count);
        var attacks = files.Sum(f => f.Frames.Count(x => x.Attack));
        stdout.WriteLine($"generate: {files.Count} files, {frames} frames ({attacks} attack) for '{dataset}' -> {dir}");
        return 0;
    }
}
