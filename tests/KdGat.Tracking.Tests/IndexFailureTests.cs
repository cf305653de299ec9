using KdGat.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KdGat.Tracking.Tests;

/// <summary>
/// An index that cannot be written (a full file system, an index path that is a directory):
/// after a build a KDG5004 warning and the build's result stands; Status and History a KDG5005
/// error that says what to do. Never MSB4018 or a stack trace. The full file system is a 64 KiB
/// tmpfs, which needs root (mount); without it that case is skipped with a note.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class IndexFailureTests(ITestOutputHelper output)
{
    private static void NoTrace(ProcessResult r)
    {
        Assert.DoesNotContain("MSB4018", r.Output);
        Assert.DoesNotContain("KDG9001", r.Output);
        Assert.DoesNotContain("   at ", r.Output);
    }

    /// <param name="code">KDG5005, or KDG5003 where RunIndex itself already says the index cannot be created.</param>
    private static void ReadCommandsFail(Sandbox s, string index, string code = "KDG5005")
    {
        foreach (var args in new[] { new[] { "-t:Status" }, ["-t:History", "-p:Stage=preprocess"] })
        {
            var r = s.Build([.. args, "-p:Dataset=hcrl_sa", $"-p:KdGatIndex={index}"]);
            Assert.NotEqual(0, r.ExitCode);
            Assert.True(r.Output.Contains("error " + code), r.Output);
            Assert.Contains("-p:KdGatIndex=", r.Output);
            Assert.DoesNotContain("KDGAT_INDEX_DIR", r.Output); // read only for a pipeline on NFS without an explicit path
            NoTrace(r);
        }
    }

    /// <summary>A build that runs stages (so it has records to index; a no-op skips the index step) warns and succeeds.</summary>
    private static void BuildWarnsAndSucceeds(Sandbox s, string index)
    {
        var r = s.Build("-p:Dataset=hcrl_sa", $"-p:KdGatIndex={index}");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("warning KDG5004", r.Output);
        NoTrace(r);
    }

    [Fact]
    public void IndexOnAFullFileSystem_BuildWarns_ReadCommandsSayWhatToDo()
    {
        using var s = TrackingSandbox.Create();
        var mount = Path.Combine(s.Dir, "full");
        Directory.CreateDirectory(mount);
        var mounted = ProcessRunner.Run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount], s.Dir);
        if (mounted.ExitCode != 0)
        {
            output.WriteLine("not run: a tmpfs cannot be mounted here (needs root): " + mounted.Output);
            return;
        }
        try
        {
            using (var fill = File.Create(Path.Combine(mount, "filler")))
                try { while (true) fill.Write(new byte[4096]); }
                catch (IOException) { } // ENOSPC: the file system is full
            var index = Path.Combine(mount, "index.db");

            BuildWarnsAndSucceeds(s, index);
            ReadCommandsFail(s, index);
        }
        finally
        {
            ProcessRunner.Run("umount", [mount], s.Dir);
        }
    }

    [Fact]
    public void IndexPathIsADirectory_BuildWarns_ReadCommandsSayWhatToDo()
    {
        using var s = TrackingSandbox.Create();
        var index = Path.Combine(s.Dir, "idx", "index.db");
        Directory.CreateDirectory(index);

        BuildWarnsAndSucceeds(s, index);
        ReadCommandsFail(s, index, "KDG5003");
    }
}
