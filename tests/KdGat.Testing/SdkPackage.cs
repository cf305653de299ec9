namespace KdGat.Testing;

/// <summary>
/// KdGat.Sdk packed from this checkout (`dotnet pack src/KdGat.Sdk`) into a folder feed in a temp
/// dir, once per test process, with a unique prerelease version: NuGet never re-extracts a
/// version it already holds, so a fixed version could hand a test a stale package. Repositories
/// restore it into a private packages folder (<see cref="PackagesDir"/>) for the same reason.
/// </summary>
public static class SdkPackage
{
    private static readonly Lazy<(string Feed, string Version)> Packed = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Feed => Packed.Value.Feed;
    public static string Version => Packed.Value.Version;
    /// <summary>NUGET_PACKAGES for builds that use the package: nothing in it predates this process.</summary>
    public static string PackagesDir => Path.Combine(Path.GetDirectoryName(Feed)!, "packages");

    private static (string, string) Pack()
    {
        var root = Path.Combine(Path.GetTempPath(), "kdgat-sdk-" + Guid.NewGuid().ToString("N")[..10]);
        var feed = Path.Combine(root, "feed");
        var version = "0.1.0-test.t" + Guid.NewGuid().ToString("N")[..12];
        _ = Tools.Path; // the bootstrap first: both build src/*/obj, so they take turns under one lock
        using var gate = Tools.Lock();
        var r = ProcessRunner.Run("dotnet", ["pack", "src/KdGat.Sdk", "-c", "Release", "-o", feed, $"-p:PackageVersion={version}", "-nologo", "-v:m"],
            Repo.Root, TimeSpan.FromMinutes(10));
        if (r.ExitCode != 0 || !File.Exists(Path.Combine(feed, $"KdGat.Sdk.{version}.nupkg")))
            throw new InvalidOperationException("dotnet pack src/KdGat.Sdk failed:\n" + r);
        return (feed, version);
    }
}
