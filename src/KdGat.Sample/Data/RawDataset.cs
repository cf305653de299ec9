using KdGat.Sample.Common;

namespace KdGat.Sample.Data;

/// <summary>
/// A dataset's raw data is a directory of capture files, as real captures come (the public
/// hcrl_sa capture is 13 CSV files). Each file is a recording of its own whose clock may
/// restart, so files are read one by one and windows never span two of them. The files are
/// every *.csv directly in the directory (any case of the extension; subdirectories and other
/// files are ignored), in ordinal name order so the graph cache never depends on the file system.
/// </summary>
internal static class RawDataset
{
    public const string Pattern = "*.csv";

    /// <summary>The generator's file names: sorting by name keeps capture order.</summary>
    public static string FileName(int index) => $"capture_{index + 1:D2}.csv";

    public static IReadOnlyList<string> Files(string dir)
    {
        const string fix = "run 'generate' for this dataset, or put the capture's CSV files there";
        if (File.Exists(dir)) throw new SampleError("--raw is a file, not a dataset directory", dir, "pass the directory that holds the dataset's CSV files");
        if (!Directory.Exists(dir)) throw new SampleError("raw data directory not found", dir, fix);
        string[] files;
        try
        {
            files = Directory.GetFiles(dir, Pattern, new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive, AttributesToSkip = 0 });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot list raw data ({e.Message})", dir, "check the directory's permissions");
        }
        if (files.Length == 0) throw new SampleError("no CSV files in the raw data directory", dir, fix);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }
}
