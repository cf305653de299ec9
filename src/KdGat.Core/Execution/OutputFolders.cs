using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution;

/// <summary>
/// The folders a stage's declared outputs go in, made before its command runs, as Snakemake makes
/// them: a first command writing {cache_dir}/all.txt failed with "Directory nonexistent" (a
/// first-contact review). Only the folders above each output, never the output itself (a folder
/// output the command makes with `mkdir` stays the command's). Best effort: a folder that cannot be
/// made (a file in its place, permissions) is left for the command to report.
/// </summary>
internal static class OutputFolders
{
    public static void Create(StageInstance s)
    {
        Directory.CreateDirectory(s.RunDir);
        foreach (var parent in s.Outputs.Select(Path.GetDirectoryName).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            try { Directory.CreateDirectory(parent); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
