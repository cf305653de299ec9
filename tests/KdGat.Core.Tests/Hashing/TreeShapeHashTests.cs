using System.Diagnostics;
using KdGat.Core.Caching;
using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>
/// What a directory input's digest covers beyond its regular files' names and bytes: dangling
/// symlinks, the executable bit, empty directories, an empty declared directory; and names it
/// cannot hash (not UTF-8, too long) are errors, not skipped. Each case was an incremental build
/// that said "up to date" where a build from scratch differed.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TreeShapeHashTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly PathHasher _hasher = new(new HashCache());
    public void Dispose() => _dir.Dispose();

    private string HashOf(string path) => new PathHasher(new HashCache()).Hash(path)!.Hash;

    private static void Sh(string dir, string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { WorkingDirectory = dir, ArgumentList = { "-c", script } };
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public void OrdinaryTree_KeepsItsDigest()
    {
        // Files only, no x bit, no empty directory, no link: the digest from before these rules
        // (computed by the code of commit 76701b1). Changing it reruns every stage after an upgrade.
        _dir.Write("t/a.txt", "alpha");
        _dir.Write("t/sub/b.txt", "beta");
        _dir.Write("t/sub/deeper/c.bin", "");
        _dir.Write("t/z/d e.txt", "delta");

        Assert.Equal("94794e502e9be182f8a67b06e3c1be32", HashOf(_dir["t"]));
        Assert.Equal(ContentHash.OfFile(_dir["t/a.txt"]), HashOf(_dir["t/a.txt"]));
        Assert.Equal("94794e502e9be182f8a67b06e3c1be32", _hasher.HashInput(_dir["t"] + "/**")!.Hash);
    }

    [Fact]
    public void NonUtf8FileName_IsAnError_NamingTheDirectory()
    {
        _dir.Write("in/ok.txt", "x");
        Sh(_dir["in"], "printf x > \"$(printf 'bad\\377')\"");

        var e = Assert.Throws<KdgException>(() => _hasher.Hash(_dir["in"]));

        Assert.Equal(ErrorCodes.UnusablePathName, e.Code);
        Assert.Contains(_dir["in"], e.Message);
        Assert.Contains("Rename", e.Message);
    }

    [Fact]
    public void NonUtf8DirectoryName_IsAnError_NotALostSubtree()
    {
        _dir.Write("in/ok.txt", "x");
        Sh(_dir["in"], "d=\"$(printf 'bad\\377')\"; mkdir \"$d\" && printf y > \"$d/f.txt\"");

        Assert.Equal(ErrorCodes.UnusablePathName, Assert.Throws<KdgException>(() => _hasher.Hash(_dir["in"])).Code);
        Assert.Equal(ErrorCodes.UnusablePathName, Assert.Throws<KdgException>(() => _hasher.HashInput(_dir["in"] + "/*")).Code);
    }

    [Fact]
    public void DanglingSymlink_CountsByItsTarget()
    {
        _dir.Write("in/a.txt", "alpha");
        var before = HashOf(_dir["in"]);

        File.CreateSymbolicLink(_dir["in/annexed.bin"], ".git/annex/objects/one");
        var dangling = HashOf(_dir["in"]);
        File.Delete(_dir["in/annexed.bin"]);
        File.CreateSymbolicLink(_dir["in/annexed.bin"], ".git/annex/objects/two");
        var retargeted = HashOf(_dir["in"]);
        File.Delete(_dir["in/annexed.bin"]);

        Assert.NotEqual(before, dangling);
        Assert.NotEqual(dangling, retargeted);
        Assert.NotEqual(before, retargeted);
        Assert.Equal(before, HashOf(_dir["in"]));
    }

    [Fact]
    public void DanglingSymlink_InAGlobInput_Counts_ButNotForContentFileCallers()
    {
        _dir.Write("in/a.txt", "alpha");
        var before = _hasher.HashInput(_dir["in"] + "/*.txt")!.Hash;
        File.CreateSymbolicLink(_dir["in/b.txt"], "nowhere");

        Assert.NotEqual(before, new PathHasher(new HashCache()).HashInput(_dir["in"] + "/*.txt")!.Hash);
        Assert.Equal([_dir["in/a.txt"]], PathHasher.EnumerateContentFiles(_dir["in"]));
        Assert.Equal([_dir["in/a.txt"]], Glob.Expand("/", _dir["in"] + "/*.txt"));
    }

    [Fact]
    public void StoreCopy_OfATreeWithADanglingLinkAndAnEmptyDirectory_HashesTheSame()
    {
        _dir.Write("out/a.txt", "alpha");
        Directory.CreateDirectory(_dir["out/empty"]);
        File.CreateSymbolicLink(_dir["out/gone"], "missing-target");

        HardLink.LinkOrCopy(_dir["out"], _dir["copy"]);

        Assert.Equal(HashOf(_dir["out"]), HashOf(_dir["copy"]));
        Assert.Equal("missing-target", new FileInfo(_dir["copy/gone"]).LinkTarget);
    }

    [Fact]
    public void ExecutableBit_ChangesTheDirectoryDigest()
    {
        var script = _dir.Write("in/run.sh", "echo hi");
        _dir.Write("in/data.txt", "d");
        var plain = HashOf(_dir["in"]);

        File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute);
        var executable = HashOf(_dir["in"]);
        File.SetUnixFileMode(script, File.GetUnixFileMode(script) & ~(UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute));

        Assert.NotEqual(plain, executable);
        Assert.Equal(plain, HashOf(_dir["in"]));
    }

    [Fact]
    public void ExecutableBit_ChangesASingleFilesDigest_ButNotTheCachedContentHash()
    {
        var script = _dir.Write("run.sh", "echo hi");
        var cache = new HashCache();
        var plain = new PathHasher(cache).Hash(script)!.Hash;
        Assert.Equal(ContentHash.OfFile(script), plain);

        File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute);

        Assert.NotEqual(plain, new PathHasher(cache).Hash(script)!.Hash);
        Assert.Equal(ContentHash.OfFile(script), cache.HashFile(script));
    }

    [Fact]
    public void EmptyDirectory_ChangesTheDigest_NonEmptyOnesAreImplied()
    {
        _dir.Write("in/a.txt", "alpha");
        var before = HashOf(_dir["in"]);
        Directory.CreateDirectory(_dir["in/emptydir"]);
        var withEmpty = HashOf(_dir["in"]);
        Directory.CreateDirectory(_dir["in/emptydir/inner"]);
        var nested = HashOf(_dir["in"]);

        Assert.NotEqual(before, withEmpty);
        Assert.NotEqual(withEmpty, nested);
        Assert.Equal([_dir["in/a.txt"]], PathHasher.EnumerateContentFiles(_dir["in"]));
    }

    [Fact]
    public void EmptyDirectory_IsNotAnEmptyFile()
    {
        Directory.CreateDirectory(_dir["emptydir"]);
        File.WriteAllBytes(_dir["empty.txt"], []);

        var dir = _hasher.Hash(_dir["emptydir"])!;

        Assert.True(dir.IsDirectory);
        Assert.NotEqual(_hasher.Hash(_dir["empty.txt"])!.Hash, dir.Hash);
    }

    [Fact]
    public void PathLongerThanTheSystemAllows_IsAnError_NamingIt()
    {
        var tooLong = _dir.Path + "/" + string.Join('/', Enumerable.Repeat(new string('d', 200), 25)) + "/f.txt";
        var badComponent = _dir[new string('n', 300)];

        var e = Assert.Throws<KdgException>(() => _hasher.Hash(tooLong));
        Assert.Equal(ErrorCodes.UnusablePathName, e.Code);
        Assert.Contains(tooLong, e.Message);
        Assert.Equal(ErrorCodes.UnusablePathName, Assert.Throws<KdgException>(() => _hasher.Hash(badComponent)).Code);
    }
}
