namespace KdGat.Core.Tests.Support;

/// <summary>The repository's own files, for tests that scan the sources (conventions, boundaries).</summary>
internal static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>Every C# source under src/ (no obj/ or bin/), as (path relative to src/ with '/', full path).</summary>
    public static IEnumerable<(string Relative, string Path)> Sources() =>
        from file in Directory.EnumerateFiles(System.IO.Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
        let rel = System.IO.Path.GetRelativePath(System.IO.Path.Combine(Root, "src"), file).Replace('\\', '/')
        where !rel.Contains("/obj/") && !rel.Contains("/bin/")
        select (rel, file);

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "KdGat.sln"))) return d.FullName;
        throw new InvalidOperationException("KdGat.sln not found above the test assembly");
    }
}
