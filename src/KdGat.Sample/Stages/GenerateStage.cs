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
    public static readonly string[] Options = ["dataset", "out", "frames"];

    /// <summary>Bounds of --frames: one window per file at least; a file's frames must fit a List.</summary>
    private const int MinFrames = 1_000, MaxFrames = 100_000_000;

    public static int Run(Args args, TextWriter stdout)
    {
        var dataset = args.Required("dataset");
        var dir = Path.GetFullPath(args.Required("out"));
        if (File.Exists(dir)) throw new SampleError("--out is a file, not a directory", dir, "pass a directory for --out");
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            throw new SampleError("refusing to write into a non-empty raw data directory", dir, "delete its contents yourself if you really want it regenerated");
        var normalFrames = ParseFrames(args.Optional("frames"));
        int files = 0, frames = 0, attacks = 0;
        AtomicWrite.Directory(dir, temp =>
        {
            // Written as generated: memory holds one file's frames, whatever --frames says.
            foreach (var f in TrafficGenerator.Generate(dataset, normalFrames))
            {
                AtomicWrite.File(Path.Combine(temp, f.Name), s => FrameCsv.Write(s, f.Frames), overwrite: false);
                files++;
                frames += f.Frames.Count;
                attacks += f.Frames.Count(x => x.Attack);
            }
        }, replace: false);
        stdout.WriteLine($"generate: {files} files, {frames} frames ({attacks} attack) for '{dataset}' -> {dir}");
        return 0;
    }

    private static int? ParseFrames(string? text)
    {
        if (text is null) return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n is < MinFrames or > MaxFrames)
            throw new SampleError($"--frames '{text}' is not a whole number from {MinFrames} to {MaxFrames}", SampleError.CommandLine, "pass the number of normal frames, e.g. --frames 1700000 for a capture of about 1.9 M frames");
        return n;
    }
}
