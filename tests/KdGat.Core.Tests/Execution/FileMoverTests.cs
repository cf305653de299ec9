using KdGat.Core.Execution;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution;

[Trait("Category", "Unit")]
public sealed class FileMoverTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _other = Path.Combine("/dev/shm", "kdgat-filemover-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        _dir.Dispose();
        if (Directory.Exists(_other)) Directory.Delete(_other, recursive: true);
    }

    [Fact]
    public void Move_AcrossFileSystems_KeepsADanglingLinkAndTheDigest()
    {
        // The EXDEV path copies the tree: a dangling symlink (hashed by target) must come along as a link.
        if (!Directory.Exists("/dev/shm") || new DriveInfo("/dev/shm").Name == new DriveInfo(_dir.Path).Name) return;
        _dir.Write("out/a.txt", "alpha");
        Directory.CreateDirectory(_dir["out/empty"]);
        File.CreateSymbolicLink(_dir["out/gone"], "missing-target");
        var before = new PathHasher(new HashCache()).Hash(_dir["out"])!.Hash;
        var to = Path.Combine(_other, "out");

        FileMover.Move(_dir["out"], to);

        Assert.Equal(before, new PathHasher(new HashCache()).Hash(to)!.Hash);
        Assert.Equal("missing-target", new FileInfo(Path.Combine(to, "gone")).LinkTarget);
        Assert.False(Directory.Exists(_dir["out"]));
    }

    /// <summary>
    /// A Ctrl+C while a move across file systems copies (an output on scratch moved aside): File.Copy let none in
    /// until the whole file was copied. Now the cache's FileCopy looks at it between steps and files, and the move
    /// leaves the source as it was and nothing at the target, its partial copy included.
    /// </summary>
    [Fact]
    public void Move_AcrossFileSystems_CancelledInTheMiddle_LeavesTheSourceAndNoCopy()
    {
        if (!Directory.Exists("/dev/shm") || new DriveInfo("/dev/shm").Name == new DriveInfo(_dir.Path).Name) return;
        _dir.Write("ckpt/a.bin", new string('a', 3 << 20));
        _dir.Write("ckpt/b.bin", new string('b', 3 << 20));
        _dir.Write("ckpt/c.txt", "c");
        var before = new PathHasher(new HashCache()).Hash(_dir["ckpt"])!.Hash;
        var to = Path.Combine(_other, "aside", "ckpt");

        // The cancel comes as the second file's copy starts: the first is copied by then.
        using var cancel = new CancellationTokenSource();
        var plan = new CrashPoints.Plan(5, cancel); // 1 rename (EXDEV), 2 copy ckpt, 3 copy the first file, 4 close its copy, 5 copy the second
        CrashPoints.Current = plan;
        try { Assert.ThrowsAny<OperationCanceledException>(() => FileMover.Move(_dir["ckpt"], to, cancel.Token)); }
        finally { CrashPoints.Current = null; }

        Assert.StartsWith("5 copy " + _dir["ckpt/"], plan.Seen[4]);
        Assert.Equal(before, new PathHasher(new HashCache()).Hash(_dir["ckpt"])!.Hash);
        Assert.False(FileMover.Exists(to));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(to)!)); // no ckpt.kdgat-partial

        FileMover.Move(_dir["ckpt"], to); // and the next move, uncancelled, is whole
        Assert.Equal(before, new PathHasher(new HashCache()).Hash(to)!.Hash);
        Assert.False(FileMover.Exists(_dir["ckpt"]));
    }

    /// <summary>
    /// A copy whose close fails (NFS reports a write-back the server refused only there): the move stops with the
    /// error before the source goes, and leaves no partial copy. File.Copy ignored close's result.
    /// </summary>
    [Fact]
    public void Move_AcrossFileSystems_WhoseCopyFailsAtClose_KeepsTheSource()
    {
        if (!Directory.Exists("/dev/shm") || new DriveInfo("/dev/shm").Name == new DriveInfo(_dir.Path).Name) return;
        _dir.Write("model.ckpt", "weights");
        var to = Path.Combine(_other, "aside", "model.ckpt");

        CrashPoints.Current = new CrashPoints.Plan(3, CrashPoints.Mode.Fail); // 1 rename (EXDEV), 2 copy, 3 close the copy
        try { Assert.Contains("(close)", Assert.Throws<IOException>(() => FileMover.Move(_dir["model.ckpt"], to)).Message); }
        finally { CrashPoints.Current = null; }

        Assert.Equal("weights", File.ReadAllText(_dir["model.ckpt"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(to)!));
    }

    /// <summary>
    /// A name that is not UTF-8 (a stage's latin-1 "caf\xe9"), which .NET cannot name again: the tree
    /// still goes. A failed attempt's folder with one, kept under failed/, stopped every later attempt
    /// of its stage with "Directory not empty" (a review).
    /// </summary>
    [Fact]
    public void Delete_ATreeWithANameThatIsNotUtf8_RemovesIt()
    {
        var tree = _dir["failed/3-ckpt"];
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        var made = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh")
        {
            ArgumentList = { "-c", "touch \"$(printf 'caf\\351')\" \"sub/$(printf '\\377')\"" },
            WorkingDirectory = tree,
        })!;
        made.WaitForExit();
        Assert.Equal(0, made.ExitCode);
        Assert.Contains(Directory.GetFiles(tree), f => f.Contains('\uFFFD'));

        FileMover.Delete(tree);

        Assert.False(Directory.Exists(tree));
    }
}
