using System.Runtime.Loader;
using KdGat.Core.IO;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.IO;

[Trait("Category", "Unit")]
public sealed class LoadedAssemblyTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly AssemblyLoadContext _context = new("LoadedAssemblyTests", isCollectible: true);

    public void Dispose()
    {
        _context.Unload();
        _dir.Dispose();
    }

    /// <summary>A copy of KdGat.Core loaded from the temp dir, as MSBuild loads the tasks from the tools dir.</summary>
    private System.Reflection.Assembly LoadCopy(out string path)
    {
        path = _dir["KdGat.Core.dll"];
        File.Copy(typeof(LoadedAssembly).Assembly.Location, path);
        return _context.LoadFromAssemblyPath(path);
    }

    [Fact]
    public void TheFileItWasLoadedFrom_IsNotReplaced()
    {
        var loaded = LoadCopy(out _);
        Assert.Null(LoadedAssembly.ReplacedIn(loaded, _dir.Path));
        Assert.Null(LoadedAssembly.ReplacedIn(loaded, _dir.Path + "/"));
    }

    /// <summary>What the bootstrap does under a long-lived MSBuild process: a new build of the file at the same path.</summary>
    [Fact]
    public void AnotherBuildAtThePath_OrNoFile_IsReplaced()
    {
        var loaded = LoadCopy(out var path);
        File.Delete(path);
        Assert.Equal(path, LoadedAssembly.ReplacedIn(loaded, _dir.Path));

        File.Copy(typeof(Xunit.Assert).Assembly.Location, path);
        Assert.Equal(path, LoadedAssembly.ReplacedIn(loaded, _dir.Path));

        File.WriteAllText(path, "not an assembly");
        Assert.Equal(path, LoadedAssembly.ReplacedIn(loaded, _dir.Path));
    }

    /// <summary>
    /// A FIFO left at the path (a sync tool, a user): opening it to read the module id waited for a
    /// writer, and every task of a long-lived MSBuild process hung at its first line. It is not the
    /// code loaded, so it is replaced, and it is never opened.
    /// </summary>
    [Fact]
    public async Task AFifoAtThePath_IsReplaced_WithoutBlocking()
    {
        var loaded = LoadCopy(out var path);
        File.Delete(path);
        Assert.Equal(0, Sh.Run("mkfifo KdGat.Core.dll", _dir.Path).ExitCode);

        var check = Task.Run(() => LoadedAssembly.ReplacedIn(loaded, _dir.Path));
        Assert.True(await Task.WhenAny(check, Task.Delay(TimeSpan.FromSeconds(20))) == check, "the check blocked on the FIFO");
        Assert.Equal(path, await check);
    }

    /// <summary>Tests and hosts that load KdGat from elsewhere than the tools dir they pass are not judged by it.</summary>
    [Fact]
    public void AnAssemblyFromAnotherFolder_IsNotJudged()
    {
        File.WriteAllText(_dir["KdGat.Core.dll"], "not an assembly");
        Assert.Null(LoadedAssembly.ReplacedIn(typeof(LoadedAssembly).Assembly, _dir.Path));
    }
}
