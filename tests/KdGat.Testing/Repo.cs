namespace KdGat.Testing;

/// <summary>Locates the repository the tests were built from.</summary>
public static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "pipeline.proj"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("pipeline.proj not found above " + AppContext.BaseDirectory);
    }
}
