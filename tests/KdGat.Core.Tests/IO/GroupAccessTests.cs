using KdGat.Core.IO;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.IO;

[Trait("Category", "Unit")]
public sealed class GroupAccessTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static UnauthorizedAccessException Denied(string path) => new($"Access to the path '{path}' is denied.");

    /// <summary>
    /// A folder another member made under umask 022 (0755): a file that could not be made in it is advised about the
    /// folder, its owner and the one command that fixes it. Root makes the other user's folder; as another user the test has nothing to look at.
    /// </summary>
    [Fact]
    public void AnotherMembersFolderTheGroupMayNotWrite_NamesItsOwnerAndTheFix()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return;
        var theirs = Path.Combine(_dir.Path, "manifests");
        Directory.CreateDirectory(theirs);
        File.SetUnixFileMode(theirs, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_111_101);
        Chown(theirs, 3001);
        Chown(_dir.Path, 3001);

        var advice = GroupAccess.Advice(Denied(Path.Combine(theirs, "x.json")), _dir.Path);

        Assert.Contains($"'{theirs}' belongs to", advice);
        Assert.Contains("3001", advice);
        Assert.Contains("(mode 755)", advice);
        Assert.Contains($"chmod -R g+w '{_dir.Path}'", advice);
        Assert.Contains("umask 002", advice);
    }

    /// <summary>A file the group may write, in another member's folder the group may not: the rename or delete was the folder's to refuse.</summary>
    [Fact]
    public void AGroupWritableFileInAnotherMembersFolder_NamesTheFolder()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return;
        var theirs = Path.Combine(_dir.Path, "run");
        Directory.CreateDirectory(theirs);
        var file = Path.Combine(theirs, "model.ckpt");
        File.WriteAllText(file, "");
        File.SetUnixFileMode(file, (UnixFileMode)0b110_110_100);
        File.SetUnixFileMode(theirs, (UnixFileMode)0b111_101_101);
        Chown(file, 3001);
        Chown(theirs, 3001);

        Assert.Contains($"'{theirs}' belongs to", GroupAccess.Advice(Denied(file)));
    }

    /// <summary>The user's own file, or one the group may write: no advice about another member's umask.</summary>
    [Fact]
    public void OwnOrGroupWritablePaths_GetNoAdvice()
    {
        if (!OperatingSystem.IsLinux()) return;
        var mine = Path.Combine(_dir.Path, "mine");
        File.WriteAllText(mine, "");
        Assert.Equal("", GroupAccess.Advice(Denied(mine)));
        Assert.Equal("", GroupAccess.Advice(new IOException($"No space left on device : '{mine}'")));
        if (Environment.UserName != "root") return;
        File.SetUnixFileMode(mine, (UnixFileMode)0b110_110_100);
        Chown(mine, 3001);
        Assert.Equal("", GroupAccess.Advice(Denied(mine)));
    }

    private static void Chown(string path, int uid)
    {
        if (lchown(path, uid, -1) != 0) throw new IOException($"lchown {path}");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int lchown(string path, int owner, int group);
}
