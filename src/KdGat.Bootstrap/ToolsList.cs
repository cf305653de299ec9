using System.Globalization;

namespace KdGat.Bootstrap;

/// <summary>
/// What the bootstrap copied into the tools folder: tools.list, written after the copy and before
/// the stamp by `find . -type f -exec wc -c {} +` (targets/KdGat.Tasks.targets: a shell, not this
/// task, since a long-lived MSBuild process may hold an older copy of it). A folder restored in part
/// (a CI cache extracted half-way, an interrupted cp or rsync) keeps the stamp of a complete one, and
/// its missing or cut-off DLLs were loaded as they were: MSBuild's stack traces in every build, never
/// a rebuild (a review). Sizes, not hashes: every build checks them (a stat per file), and a file
/// that is missing or cut off has another size.
/// </summary>
public static class ToolsList
{
    public const string FileName = "tools.list";

    /// <summary>null when every file the list names is there with its size; else what is not (the first found).</summary>
    public static string? Incomplete(string toolsDir)
    {
        try
        {
            var list = new FileInfo(Path.Combine(toolsDir, FileName));
            if (!list.Exists) return $"{FileName} is missing";
            // A FIFO is 0 bytes here and is never opened (it would block); a list of ~40 lines is a few KB.
            if (list.Length == 0 || list.Length > 1 << 20) return $"{FileName} is damaged";
            var files = 0;
            foreach (var line in File.ReadLines(list.FullName))
            {
                // wc -c: "  33792 ./KdGat.Bootstrap.dll", and a "total" line per batch (no "./"). A line that reads otherwise is
                // passed over, so that no name can make every build rebuild; a list without one file line is damaged.
                var text = line.TrimStart();
                var space = text.IndexOf(' ');
                if (space <= 0 || !long.TryParse(text.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var size)) continue;
                var path = text[(space + 1)..];
                if (!path.StartsWith("./", StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal)) continue;
                files++;
                var file = new FileInfo(Path.Combine(toolsDir, path[2..]));
                if (!file.Exists) return $"{path[2..]} is missing";
                if (file.Length != size) return $"{path[2..]} has {file.Length} bytes, not {size}";
            }
            return files == 0 ? $"{FileName} is damaged" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{FileName} cannot be read ({e.Message})";
        }
    }
}
