using KdGat.Core.Diagnostics;
using KdGat.Core.IO;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.IO;

/// <summary>
/// One instance stands for one long-lived MSBuild process (the MSBuild server): each call is a build
/// in it, after MSBuild evaluated the files, which it parses again only when their last-write time changed.
/// </summary>
[Trait("Category", "Unit")]
public sealed class EvaluatedProjectFilesTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly EvaluatedProjectFiles _process = new(msbuildComparesContent: false);

    public void Dispose() => _dir.Dispose();

    /// <summary>What cp -p, rsync -a, tar x or an edit followed by touch -r leave: other bytes, the old time.</summary>
    private static void RewriteKeepingTime(string path, string content)
    {
        var time = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, content);
        File.SetLastWriteTimeUtc(path, time);
    }

    [Fact]
    public void FirstSight_IsFine_WhateverTheFile()
    {
        var proj = _dir.Write("pipeline.proj", "<Project />");
        File.SetLastWriteTimeUtc(proj, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Null(_process.OldTextEvaluated([proj, _dir["missing.targets"]]));
    }

    [Fact]
    public void Unchanged_IsFine_BuildAfterBuild()
    {
        var proj = _dir.Write("pipeline.proj", "<Project />");
        Assert.Null(_process.OldTextEvaluated([proj]));
        Assert.Null(_process.OldTextEvaluated([proj]));
        RewriteKeepingTime(proj, "<Project />"); // the same bytes again (tar x of the same tree): a new inode, the same text
        Assert.Null(_process.OldTextEvaluated([proj]));
    }

    [Fact]
    public void ContentChangedUnderTheSameTime_IsRefused_UntilTheTimeChanges()
    {
        var targets = _dir.Write("KdGat.Pipeline.targets", "<Project />");
        var proj = _dir.Write("pipeline.proj", "<Project><ItemGroup><KdGatStage Include=\"eval\" Needs=\"preprocess\" /></ItemGroup></Project>");
        Assert.Null(_process.OldTextEvaluated([proj, targets]));

        RewriteKeepingTime(proj, "<Project><ItemGroup><KdGatStage Include=\"eval\" Needs=\"train;preprocess\" /></ItemGroup></Project>");
        var refused = _process.OldTextEvaluated([proj, targets]);

        Assert.NotNull(refused);
        Assert.Equal(ErrorCodes.ProjectReloadNeeded, refused.Code);
        Assert.Equal(proj, refused.File);
        Assert.DoesNotContain(targets, refused.Message);
        Assert.Contains("kept its modification time", refused.Message);
        Assert.Contains("KdGat set its modification time to now", refused.Message);
        Assert.Contains("MSBUILDCACHECHECKFILECONTENT=1", refused.Message);
        // Its time is now's (MSBuild reads it again in the next build, which goes on), its bytes the new ones.
        Assert.True(File.GetLastWriteTimeUtc(proj) > DateTime.UtcNow.AddMinutes(-1));
        Assert.Contains("train;preprocess", File.ReadAllText(proj));
        Assert.Null(_process.OldTextEvaluated([proj, targets]));
        Assert.Null(_process.OldTextEvaluated([proj, targets]));
    }

    /// <summary>
    /// A file whose time KdGat cannot set (a read-only file system, another user's file): every later build of the
    /// process stops too, until its time changes, since MSBuild may still hold the old text.
    /// </summary>
    [Fact]
    public void ContentChangedUnderTheSameTime_WhereTheTimeCannotBeSet_IsRefusedUntilTheTimeChanges()
    {
        var proj = _dir.Write("pipeline.proj", "<Project />");
        Assert.Null(_process.OldTextEvaluated([proj]));
        RewriteKeepingTime(proj, "<Project><Target Name=\"s\" /></Project>");
        // The immutable flag refuses utimes to root too; where chattr is refused (tmpfs, a container) there is nothing to show.
        if (Sh.Run("chattr +i pipeline.proj", _dir.Path).ExitCode != 0) return;
        try
        {
            var refused = _process.OldTextEvaluated([proj]);
            Assert.NotNull(refused);
            Assert.Contains("could not set its time", refused.Message);
            Assert.Contains("dotnet build-server shutdown", refused.Message);
            Assert.NotNull(_process.OldTextEvaluated([proj]));
        }
        finally { Sh.Run("chattr -i pipeline.proj", _dir.Path); }
        File.SetLastWriteTimeUtc(proj, File.GetLastWriteTimeUtc(proj).AddSeconds(1)); // touch: MSBuild reads it again
        Assert.Null(_process.OldTextEvaluated([proj]));
    }

    [Fact]
    public void ContentAndTimeChanged_IsFine_AndThatVersionIsTheOneCompared()
    {
        var proj = _dir.Write("pipeline.proj", "<Project />");
        File.SetLastWriteTimeUtc(proj, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Null(_process.OldTextEvaluated([proj]));

        File.WriteAllText(proj, "<Project><Target Name=\"new_stage\" /></Project>");
        File.SetLastWriteTimeUtc(proj, new DateTime(2002, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Null(_process.OldTextEvaluated([proj]));

        // Back to the first file's time with other text: MSBuild holds the 2002 version, so it reads it again.
        File.WriteAllText(proj, "<Project><Target Name=\"other_stage\" /></Project>");
        File.SetLastWriteTimeUtc(proj, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Null(_process.OldTextEvaluated([proj]));
        RewriteKeepingTime(proj, "<Project />");
        Assert.NotNull(_process.OldTextEvaluated([proj]));
    }

    /// <summary>MSBuild keeps its text of a file that is gone; one that comes back with the old time is not read again.</summary>
    [Fact]
    public void AFileGoneAndBackWithTheOldTime_IsRefused()
    {
        var proj = _dir.Write("stages.targets", "<Project />");
        var time = File.GetLastWriteTimeUtc(proj);
        Assert.Null(_process.OldTextEvaluated([proj]));
        File.Delete(proj);
        Assert.Null(_process.OldTextEvaluated([proj]));
        File.WriteAllText(proj, "<Project><Target Name=\"s\" /></Project>");
        File.SetLastWriteTimeUtc(proj, time);
        Assert.NotNull(_process.OldTextEvaluated([proj]));
    }

    [Fact]
    public void WithMSBuildComparingContent_NothingIsRefused()
    {
        var process = new EvaluatedProjectFiles(msbuildComparesContent: true);
        var proj = _dir.Write("pipeline.proj", "<Project />");
        Assert.Null(process.OldTextEvaluated([proj]));
        RewriteKeepingTime(proj, "<Project><Target Name=\"s\" /></Project>");
        Assert.Null(process.OldTextEvaluated([proj]));
    }

    /// <summary>A KdGatGraphFile item naming a FIFO: opening it would wait for a writer for ever.</summary>
    [Fact]
    public async Task AFifo_IsNotOpened()
    {
        Assert.Equal(0, Sh.Run("mkfifo stages.targets", _dir.Path).ExitCode);
        var check = Task.Run(() => _process.OldTextEvaluated([_dir["stages.targets"]]));
        Assert.Same(check, await Task.WhenAny(check, Task.Delay(TimeSpan.FromSeconds(20))));
        Assert.Null(await check);
    }

    /// <summary>
    /// Directory.Build.props (or Directory.Packages.props, a tool project) edited under the same time: the tool-source
    /// hash saw the new content and the bootstrap built the tools again, from the text the long-lived MSBuild process
    /// kept, stamped as built from the new one, and every later build took them as current. KDG1229 saw only the stage
    /// graph's files, which import none of these (the fxmsgs brief). Now the stamp goes, so the next build compiles again.
    /// </summary>
    [Fact]
    public void AToolBuildFileChangedUnderTheSameTime_IsKdg1229_AndTheToolsStampGoes()
    {
        var props = _dir.Write("Directory.Build.props", "<Project><PropertyGroup><DefineConstants>A</DefineConstants></PropertyGroup></Project>");
        var stamp = _dir.Write("tools/stamp/abc sdk 10 Debug", "");
        var stampDir = Path.GetDirectoryName(stamp)!;
        Assert.Null(_process.ToolsBuiltFromOldText([props, _dir["Directory.Packages.props"]], stampDir));

        RewriteKeepingTime(props, "<Project><PropertyGroup><DefineConstants>B</DefineConstants></PropertyGroup></Project>");
        var was = File.GetLastWriteTimeUtc(props);
        var refused = _process.ToolsBuiltFromOldText([props], stampDir);

        Assert.NotNull(refused);
        Assert.Equal(ErrorCodes.ProjectReloadNeeded, refused.Code);
        Assert.Equal(props, refused.File);
        Assert.Contains("KdGat's tools may have been built from its old text", refused.Message);
        Assert.False(Directory.Exists(stampDir), "the tools' stamp stays: the next build takes the tools as current");
        Assert.NotEqual(was, File.GetLastWriteTimeUtc(props)); // MSBuild reads it again
        Assert.Null(_process.ToolsBuiltFromOldText([props], stampDir));
    }

    /// <summary>
    /// A file in both lists (a Directory.Build.props the project also names as a KdGatGraphFile), changed under the same
    /// time: the tools' stamp goes too. With the stage graph's check first, that check recorded the new text and the
    /// tools' check found nothing: the tools stayed built from the old text, stamped current (a review).
    /// </summary>
    [Fact]
    public void AFileInBothLists_ChangedUnderTheSameTime_AlsoRemovesTheToolsStamp()
    {
        var props = _dir.Write("Directory.Build.props", "<Project><PropertyGroup><DefineConstants>A</DefineConstants></PropertyGroup></Project>");
        var stamp = _dir.Write("tools/stamp/abc sdk 10 Debug", "");
        var stampDir = Path.GetDirectoryName(stamp)!;
        Assert.Null(_process.Check([props], [props], stampDir));

        RewriteKeepingTime(props, "<Project><PropertyGroup><DefineConstants>B</DefineConstants></PropertyGroup></Project>");
        var refused = _process.Check([props], [props], stampDir);

        Assert.NotNull(refused);
        Assert.Equal(ErrorCodes.ProjectReloadNeeded, refused.Code);
        Assert.False(Directory.Exists(stampDir), "the tools' stamp stays: the next build takes the tools built from the old text as current");
    }
}
