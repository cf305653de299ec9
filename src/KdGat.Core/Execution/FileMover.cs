namespace KdGat.Core.Execution;

/// <summary>Moves files and directories by rename, falling back to copy+delete across filesystems.</summary>
internal static class FileMover
{
    public static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public static void Move(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        try
        {
            if (File.Exists(from)) File.Move(from, to, overwrite: false);
            else Directory.Move(from, to);
        }
        catch (IOException) when (Exists(from) && !Exists(to))
        {
            // EXDEV: the output lives on another filesystem than the run tree.
            CopyTree(from, to + ".partial");
            if (File.Exists(to + ".partial")) File.Move(to + ".partial", to); else Directory.Move(to + ".partial", to);
            Delete(from);
        }
    }

    public static void Delete(string path)
    {
        if (File.Exists(path)) File.Delete(path);
        else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    private static void CopyTree(string from, string to)
    {
        if (File.Exists(from)) { File.Copy(from, to, overwrite: true); return; }
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), true);
        foreach (var d in Directory.EnumerateDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
