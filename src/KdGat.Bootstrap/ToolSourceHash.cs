using System.Security.Cryptography;
using System.Text;

namespace KdGat.Bootstrap;

/// <summary>
/// The tool-source hash of targets/KdGat.Tasks.targets, byte for byte what its shell pipeline
/// prints (the stamp written by one is compared with the other's):
/// <code>
/// { find -L . \( \( -name obj -o -name bin \) ! -path './*/*/*' \) -prune -o -type f ! \( editor files \) -print
///   for f in ../Directory.Build.props ../Directory.Build.targets ../Directory.Packages.props; do [ -e or -L ] and echo $f; done; }
///   | LC_ALL=C sort | xargs sha256sum | sha256sum
/// </code>
/// run in the source dir. Where the two could differ or this could block (a symlink, but an editor's
/// lock link, a name sha256sum would escape or that is not UTF-8, an empty file, which may be a FIFO,
/// a file that cannot be read), <see cref="Compute"/> gives null and the pipeline decides: an answer here is
/// never a different one.
/// </summary>
public static class ToolSourceHash
{
    private static readonly string[] RepositoryFiles = ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props"];

    /// <summary>The lowercase hex SHA-256, or null where only the pipeline can say.</summary>
    public static string? Compute(string sourceDir)
    {
        try
        {
            var root = new DirectoryInfo(sourceDir.TrimEnd('/'));
            // ".." below is the shell's (the physical parent); .NET resolves it by text, the same
            // unless the source dir itself is a link.
            if (!root.Exists || root.LinkTarget is not null) return null;
            var files = new List<(string Path, string Full)>();
            if (!Walk(root, ".", 1, files)) return null;
            foreach (var name in RepositoryFiles)
            {
                var full = Path.Combine(root.FullName, "..", name);
                var info = new FileInfo(full);
                if (info.LinkTarget is null && !info.Exists && !Directory.Exists(full)) continue; // not there: the pipeline's loop names nothing
                if (info.LinkTarget is not null || !info.Exists || info.Length == 0) return null; // a link, a folder, maybe a FIFO: left to the pipeline
                files.Add(("../" + name, full));
            }
            files.Sort((a, b) => CompareBytes(a.Path, b.Path));

            var listing = new StringBuilder();
            foreach (var (path, full) in files)
                listing.Append(Convert.ToHexStringLower(HashFile(full))).Append("  ").Append(path).Append('\n');
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return null;
        }
    }

    /// <summary>find's walk: false where its answer is not certain here.</summary>
    private static bool Walk(DirectoryInfo dir, string path, int depth, List<(string, string)> files)
    {
        foreach (var entry in dir.EnumerateFileSystemInfos())
        {
            var name = entry.Name;
            // sha256sum escapes '\\', '\n' and '\r' in a name (any control character is left to it here).
            if (name.Contains('\\') || name.Contains('\uFFFD') || name.Any(char.IsControl)) return false;
            var child = path + "/" + name;
            // -prune of src/obj, src/bin, src/X/obj, src/X/bin (files so named too); deeper ones are sources.
            if (name is "obj" or "bin" && depth <= 2) continue;
            if (entry.LinkTarget is not null)
            {
                // Every link is the pipeline's to follow (find -L: the kernel resolves it, where .NET
                // would cancel ".." in its text, and a folder may loop), but an editor's lock link to
                // a file or to nothing (not hashed either way; Directory.Exists asks the kernel).
                if (!IsEditorFile(name) || Directory.Exists(entry.FullName)) return false;
                continue;
            }
            if (entry is DirectoryInfo sub)
            {
                if (!Walk(sub, child, depth + 1, files)) return false;
            }
            else if (!IsEditorFile(name))
            {
                // .NET cannot tell a FIFO, socket or device (find skips them; opening a FIFO blocks)
                // from an empty file: all are 0 bytes here, and left to the pipeline.
                if (((FileInfo)entry).Length == 0) return false;
                files.Add((child, entry.FullName));
            }
        }
        return true;
    }

    /// <summary>Editors' swap, backup and lock files: *.swp, *.swo, *~, .#*, #*#, .DS_Store.</summary>
    public static bool IsEditorFile(string name) =>
        name.EndsWith(".swp", StringComparison.Ordinal) || name.EndsWith(".swo", StringComparison.Ordinal) ||
        name.EndsWith('~') || name.StartsWith(".#", StringComparison.Ordinal) ||
        (name.Length >= 2 && name[0] == '#' && name[^1] == '#') || name == ".DS_Store";

    private static byte[] HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        return SHA256.HashData(stream);
    }

    /// <summary>LC_ALL=C sort: by the bytes of the UTF-8 text.</summary>
    private static int CompareBytes(string a, string b) =>
        Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
}
