using System.Security.Cryptography;
using System.Text;

namespace KdGat.Testing;

/// <summary>
/// KdGat's tools, built through the pipeline's own bootstrap target into one temp dir per
/// checkout that every sandbox shares (-p:KdGatToolsDir). Test assemblies run in parallel, so
/// the bootstrap runs under a file lock; its content stamp makes every call after the first a no-op.
/// </summary>
public static class Tools
{
    private static readonly Lazy<string> Dir = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Dir.Value;

    private static string Build()
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kdgat-test-tools-" + Key);
        Directory.CreateDirectory(dir);
        using var gate = LockSources();
        var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", $"-p:KdGatToolsDir={dir}", "-v:m", "-nologo"], Repo.Root, TimeSpan.FromMinutes(8));
        if (r.ExitCode != 0 || !File.Exists(System.IO.Path.Combine(dir, "KdGat.Tasks.dll")))
            throw new InvalidOperationException("tool bootstrap failed:\n" + r);
        return dir;
    }

    private static string Key => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Repo.Root)))[..12].ToLowerInvariant();

    /// <summary>Held while anything builds this checkout's sources (the bootstrap, the SDK pack): they share obj/ dirs.</summary>
    internal static FileStream LockSources() => AcquireLock(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kdgat-test-tools-" + Key + ".lock"));

    private static FileStream AcquireLock(string path)
    {
        var until = DateTime.UtcNow.AddMinutes(10);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < until) { Thread.Sleep(200); }
        }
    }
}
