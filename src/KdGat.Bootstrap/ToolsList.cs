using System.Globalization;
using System.Text;

namespace KdGat.Bootstrap;

/// <summary>
/// What the bootstrap copied into the tools folder: tools.list, one "size TAB path" line per file,
/// written after the copy and before the stamp. A folder restored in part (a CI cache extracted
/// half-way, an interrupted cp or rsync) keeps the stamp of a complete one, and its missing or
/// cut-off DLLs were loaded as they were: MSBuild's stack traces in every build, never a rebuild
/// (a review). Sizes, not hashes: every build checks them (a stat per file), and a file that is
/// missing or cut off has another size.
/// </summary>
public static class ToolsList
{
    public const string FileName = "tools.list";

    /// <summary>The bootstrap's own files, which it writes after the list (the stamp) or is (the list).</summary>
    private static readonly string[] NotListed = [FileName, "source.sha256"];

    /// <summary>Every file under <paramref name="toolsDir"/> with its size, written atomically (a new file renamed over the old).</summary>
    public static void Write(string toolsDir)
    {
        var root = Path.GetFullPath(toolsDir);
        var lines = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                     .Select(f => (Full: f, Rel: Path.GetRelativePath(root, f).Replace('\\', '/')))
                     .Where(f => !NotListed.Contains(f.Rel) && !f.Rel.StartsWith(FileName + ".", StringComparison.Ordinal))
                     .OrderBy(f => f.Rel, StringComparer.Ordinal))
            lines.Append(new FileInfo(file.Full).Length.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(file.Rel).Append('\n');
        var temp = Path.Combine(root, $"{FileName}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, lines.ToString());
        File.Move(temp, Path.Combine(root, FileName), overwrite: true);
    }

    /// <summary>null when every file the list names is there with its size; else what is not (the first found).</summary>
    public static string? Incomplete(string toolsDir)
    {
        try
        {
            var list = new FileInfo(Path.Combine(toolsDir, FileName));
            if (!list.Exists) return $"{FileName} is missing";
            // A FIFO is 0 bytes here and is never opened (it would block); a list of ~40 lines is a few KB.
            if (list.Length == 0 || list.Length > 1 << 20) return $"{FileName} is damaged";
            foreach (var line in File.ReadLines(list.FullName))
            {
                var tab = line.IndexOf('\t');
                if (tab <= 0 || !long.TryParse(line.AsSpan(0, tab), NumberStyles.None, CultureInfo.InvariantCulture, out var size)
                    || line.AsSpan(tab + 1).Contains("..", StringComparison.Ordinal))
                    return $"{FileName} is damaged";
                var rel = line[(tab + 1)..];
                var file = new FileInfo(Path.Combine(toolsDir, rel));
                if (!file.Exists) return $"{rel} is missing";
                if (file.Length != size) return $"{rel} has {file.Length} bytes, not {size}";
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{FileName} cannot be read ({e.Message})";
        }
    }
}
