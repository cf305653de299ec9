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
        using var gate = Lock();
        var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", $"-p:KdGatToolsDir={dir}", "-v:m", "-nologo"], Repo.Root, TimeSpan.FromMinutes(8));
        if (r.ExitCode != 0 || !File.Exists(System.IO.Path.Combine(dir, "KdGat.Tasks.dll")))
            throw new InvalidOperationException("tool bootstrap failed:\n" + r);
        return dir;
    }

    /// <summary>The bootstrap's stamp in a tools folder: the name of the one file in its stamp/ ('/' written as ','), "" when there is none.</summary>
    public static string Stamp(string toolsDir)
    {
        var dir = System.IO.Path.Combine(toolsDir, "stamp");
        var files = Directory.Exists(dir) ? Directory.GetFiles(dir) : [];
        return files.Length == 1 ? System.IO.Path.GetFileName(files[0]).Replace(',', '/') : "";
    }

    /// <summary>Replaces the stamp of a tools folder (null: none), as another bootstrap would have written it.</summary>
    public static void SetStamp(string toolsDir, string? value)
    {
        var dir = System.IO.Path.Combine(toolsDir, "stamp");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        if (value is null) return;
        Directory.CreateDirectory(dir);
        File.WriteAllText(System.IO.Path.Combine(dir, value.Replace('/', ',')), value + "\n");
    }

    private static string Key { get; } = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Repo.Root)))[..12].ToLowerInvariant();

    /// <summary>
    /// Held while anything builds the repository's tool projects (they build in place, in src/*/obj
    /// and bin), so test assemblies running in parallel never compile into the same folders at once.
    /// </summary>
    public static IDisposable Lock() => AcquireLock(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kdgat-test-tools-" + Key + ".lock"));

    private static FileStream AcquireLock(string path)
    {
        FileStream? held = null;
        var got = Eventually.Within(TimeSpan.FromMinutes(10), () =>
        {
            try { held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); return true; }
            catch (IOException) { return false; }
        }, TimeSpan.FromMilliseconds(200));
        return got ? held! : throw new TimeoutException($"{path} stayed locked by another test process for 10 minutes");
    }
}
