namespace KdGat.Core.Config;

/// <summary>
/// Why a configuration or params file that stat finds missing is missing: a symbolic link loop or a
/// link to nothing said "does not exist. Create it", while the name is there (found by review).
/// </summary>
internal static class MissingPath
{
    /// <summary>"does not exist", or what the symbolic link at <paramref name="path"/> is.</summary>
    public static string Why(string path)
    {
        string? target;
        try { target = new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "cannot be reached: a folder on its path is a symbolic link loop or cannot be read"; }
        if (target is null) return "does not exist";
        try
        {
            var final = File.ResolveLinkTarget(path, returnFinalTarget: true);
            return $"is a symbolic link to '{target}'{(final is null || final.FullName == Path.GetFullPath(target, Path.GetDirectoryName(path)!) ? "" : $" (in the end '{final.FullName}')")}, which does not exist";
        }
        catch (IOException)
        {
            return $"is a symbolic link loop (it points to '{target}', and following the links never reaches a file)";
        }
    }

    /// <summary>What to do about <see cref="Why"/>.</summary>
    public static string Fix(string path, string otherwise)
    {
        try { return new FileInfo(path).LinkTarget is null ? otherwise : "Point the link at an existing file, or replace it with the file."; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return otherwise; }
    }
}
