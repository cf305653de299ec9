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

    /// <summary>Linux opens no path longer than this (PATH_MAX less its NUL).</summary>
    internal const int LongestPath = 4095;

    /// <summary>
    /// Why <paramref name="path"/> is not taken as a configuration file's path ("has a line break",
    /// "is 5,000 characters long", its start shown escaped); null for one that is. Such a
    /// -p:KdGatConfig was echoed whole as the error's file, once per line of it (a hostile-input review).
    /// </summary>
    public static string? NotAPath(string path)
    {
        var at = path.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (at < 0) at = path.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        if (at < 0 && path.Length <= LongestPath) return null;
        var what = at < 0 ? $"is {path.Length:N0} characters long (Linux opens none over {LongestPath:N0})"
            : path[at] is '\n' or '\r' ? "has a line break" : $"has the control character U+{(int)path[at]:X4}";
        var shown = string.Concat(path.Take(80).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return $"{what}: '{shown}{(path.Length > 80 ? $"…' ({path.Length:N0} characters)" : "'")}";
    }

    /// <summary>What to do about <see cref="Why"/>.</summary>
    public static string Fix(string path, string otherwise)
    {
        try { return new FileInfo(path).LinkTarget is null ? otherwise : "Point the link at an existing file, or replace it with the file."; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return otherwise; }
    }
}
