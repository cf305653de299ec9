using System.Reflection;

namespace KdGat.Bootstrap;

/// <summary>
/// Whether this assembly was compiled from the files in its project folder now. It runs before
/// anything knows whether the tools are current, so it must not trust itself: the project embeds
/// every file of its folder (KdGat.Bootstrap.csproj) and they are compared byte for byte. What else
/// a compile reads (the repository's Directory.* files, the SDK) chooses how it is built, not what
/// the hash computes.
/// </summary>
public static class SelfCheck
{
    private const string Prefix = "kdgat-self/";

    /// <summary>null when the folder holds exactly the embedded files; else what differs.</summary>
    public static string? Differences(Assembly assembly, string projectDir)
    {
        var embedded = assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(n => n[Prefix.Length..], StringComparer.Ordinal);
        if (embedded.Count == 0) return "this assembly holds no copy of its sources";
        var dir = new DirectoryInfo(projectDir);
        if (!dir.Exists) return $"{projectDir} is not there";
        FileSystemInfo[] entries;
        try { entries = dir.GetFileSystemInfos(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return $"{projectDir} cannot be listed ({e.Message})"; }
        var files = new List<FileInfo>();
        foreach (var entry in entries)
        {
            if (entry is DirectoryInfo)
            {
                if (entry.Name is "obj" or "bin") continue; // a solution build's output
                return $"{projectDir} has a subfolder {entry.Name} (this assembly was built from its top-level files only)";
            }
            if (!ToolSourceHash.IsEditorFile(entry.Name)) files.Add((FileInfo)entry);
        }
        if (files.Count != embedded.Count || files.Any(f => !embedded.ContainsKey(f.Name)))
            return $"{projectDir} holds other files than this assembly was built from";
        foreach (var file in files)
        {
            using var resource = assembly.GetManifestResourceStream(embedded[file.Name])!;
            try
            {
                // Lengths first: a FIFO (0 bytes) is never opened, and every embedded file has content.
                if (file.LinkTarget is not null || file.Length != resource.Length || resource.Length == 0)
                    return $"{file.Name} changed since this assembly was built";
                var compiled = new byte[resource.Length];
                resource.ReadExactly(compiled);
                if (!compiled.AsSpan().SequenceEqual(File.ReadAllBytes(file.FullName))) return $"{file.Name} changed since this assembly was built";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"{file.Name} cannot be read ({e.Message})"; // gone or replaced while it was compared
            }
        }
        return null;
    }
}
