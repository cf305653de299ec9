namespace KdGat.Tasks;

/// <summary>
/// Whether an exception is the runtime failing to load a part of KdGat's tools (an assembly missing,
/// cut off or of another build), which no fix in the pipeline helps: the tools folder is damaged.
/// Uses nothing outside this assembly and the runtime, since KdGat.Core may be what is missing.
/// </summary>
internal static class ToolLoadFailure
{
    /// <summary>What could not be loaded, in words; null when <paramref name="e"/> (and what it wraps) is something else.</summary>
    public static string? Of(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                // An assembly's FileNotFoundException names the assembly ("KdGat.Core, Version=..."), a file's names a path.
                case FileNotFoundException f when f.FileName is { } name && name.Contains(", Version=", StringComparison.Ordinal):
                    return $"{AssemblyName(name)} could not be found";
                case FileLoadException f:
                    return $"{AssemblyName(f.FileName)} could not be loaded";
                case BadImageFormatException b:
                    return $"{AssemblyName(b.FileName)} is not a whole assembly";
                case TypeLoadException or MissingMemberException:
                    return $"its assemblies are of different builds ({x.Message})";
            }
        }
        return null;
    }

    private static string AssemblyName(string? name) => string.IsNullOrEmpty(name) ? "an assembly" : name.Split(',')[0].Trim();
}
