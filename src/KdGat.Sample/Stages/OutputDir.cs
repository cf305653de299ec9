using KdGat.Sample.Common;

namespace KdGat.Sample.Stages;

internal static class OutputDir
{
    /// <summary>Creates --out if needed. KdGat creates run dirs itself; a hand run may not have.</summary>
    public static string Prepare(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new SampleError("--out is a file, not a directory", full, "pass a directory for --out");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot create the output directory ({e.Message})", full, "check the parent directory is writable");
        }
        return full;
    }
}
