using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// A lab's project folder: setgid, group-writable, every member's umask 002, and two members take turns building the
/// same pipeline. Each build here runs as one of two uids of one group (setpriv), so the kernel's permission checks
/// (and fs.protected_hardlinks) apply as on a cluster's shared file system. Only root can run a build as another user:
/// as anyone else the tests are reported skipped, saying so (CI runs as root).
/// </summary>
[Trait("Category", "EndToEnd")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SharedProjectTests : IDisposable
{
    private const int Group = 47100, Alice = 47101, Bob = 47102;
    private readonly string _homes = Path.Combine(Path.GetTempPath(), "kdgat-e2e-homes-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        try { Directory.Delete(_homes, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// Two members take turns: the second's build of the first's result is a no-op, a parameter the second changes
    /// reruns what it feeds, the first's build after that is a no-op, and Status and History work for both. The run
    /// index came out 0644 (SQLite's own mode, whatever the umask): every build of the other member warned KDG5004.
    /// Everything KdGat writes under umask 002 is the group's to replace.
    /// </summary>
    [AsRootFact]
    public void TwoMembersTakeTurns_TheOthersBuildIsANoOp_AndEverythingWrittenIsTheGroups()
    {
        using var s = Shared();

        Ran(As(s, Alice, "002", "-p:Dataset=hcrl_sa"));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
        Assert.Empty(NotTheGroups(s.Dir));

        var noop = Ran(As(s, Bob, "002", "-p:Dataset=hcrl_sa"));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
        Assert.DoesNotContain("warning KDG5", noop.Output);

        EditParam(s);
        var changed = Ran(As(s, Bob, "002", "-p:Dataset=hcrl_sa"));
        Assert.Contains("hcrl_sa/dqn_large_fusion", Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.DoesNotContain("warning KDG5", changed.Output);

        Ran(As(s, Alice, "002", "-p:Dataset=hcrl_sa"));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
        foreach (var who in new[] { Alice, Bob })
        {
            Assert.DoesNotContain("warning KDG5", Ran(As(s, who, "002", "-t:Status", "-p:Dataset=hcrl_sa")).Output);
            Assert.DoesNotContain("warning KDG5", Ran(As(s, who, "002", "-t:History", "-p:Stage=dqn_large_fusion", "-p:Dataset=hcrl_sa")).Output);
        }
        Assert.Empty(NotTheGroups(s.Dir));
    }

    /// <summary>
    /// A member who forgot umask 002 (022): the other's next build cannot replace what that member wrote. It was a
    /// bare "Access to the path ... is denied"; now a coded error names the folder, its owner and `chmod -R g+w`,
    /// the previous result stays (also where the stage ran and its record could not be written), and once the folder is
    /// the group's again the changed stage runs (not up to date).
    /// </summary>
    [AsRootFact]
    public void AMemberWithUmask022_TheOtherGetsACodedErrorWithTheFix_AndKeepsThePreviousResult()
    {
        using var s = Shared();
        Ran(As(s, Alice, "022", "-p:Dataset=hcrl_sa"));
        var model = Path.Combine(s.RunDir("hcrl_sa", "dqn_large_fusion"), "model.ckpt");
        var before = File.ReadAllBytes(model);

        EditParam(s);
        var denied = As(s, Bob, "002", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, denied.ExitCode);
        Assert.Matches(@"error KDG\d{4}: .*belongs to uid " + Alice + @" and its group may not write it .*chmod -R g\+w '" + System.Text.RegularExpressions.Regex.Escape(s.Dir), denied.Output);
        Assert.DoesNotContain("   at ", denied.Output); // no stack trace
        Assert.Equal(before, File.ReadAllBytes(model));

        Assert.Equal(0, ProcessRunner.Run("chmod", ["-R", "g+w", s.Dir], s.Dir).ExitCode); // what the error says to do
        // One folder missed: the stage runs, its record cannot be written, the attempt is undone (KDG3008).
        var records = Path.Combine(s.Dir, ".kdgat", "records", "hcrl_sa", "dqn_large_fusion");
        Assert.Equal(0, ProcessRunner.Run("chmod", ["g-w", records], s.Dir).ExitCode);
        var undone = As(s, Bob, "002", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, undone.ExitCode);
        Assert.Matches(@"error KDG3008: .*'" + System.Text.RegularExpressions.Regex.Escape(records) + @"' belongs to uid " + Alice + @" .*chmod -R g\+w", undone.Output);
        Assert.Equal(before, File.ReadAllBytes(model));

        Assert.Equal(0, ProcessRunner.Run("chmod", ["g+w", records], s.Dir).ExitCode);
        Ran(As(s, Bob, "002", "-p:Dataset=hcrl_sa"));
        Assert.Contains("hcrl_sa/dqn_large_fusion", Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    /// <summary>The sandbox as a lab's project folder: group <see cref="Group"/>, group-writable, setgid folders.</summary>
    private static Sandbox Shared()
    {
        var s = Sandbox.Trivial();
        foreach (var args in new[] { new[] { "-R", Group.ToString(), s.Dir } })
            Assert.Equal(0, ProcessRunner.Run("chgrp", args, s.Dir).ExitCode);
        Assert.Equal(0, ProcessRunner.Run("chmod", ["-R", "g+w", s.Dir], s.Dir).ExitCode);
        Assert.Equal(0, ProcessRunner.Run("find", [s.Dir, "-type", "d", "-exec", "chmod", "g+s", "{}", "+"], s.Dir).ExitCode);
        return s;
    }

    private static void EditParam(Sandbox s)
    {
        var file = Path.Combine(s.Dir, "models", "dqn", "large.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("episodes: 400", "episodes: 300", StringComparison.Ordinal));
    }

    /// <summary>A build as <paramref name="uid"/> of the group, under <paramref name="umask"/>, with a home of its own.</summary>
    private ProcessResult As(Sandbox s, int uid, string umask, params string[] msbuildArgs)
    {
        var home = Path.Combine(_homes, uid.ToString());
        if (!Directory.Exists(home))
        {
            Directory.CreateDirectory(home);
            Assert.Equal(0, ProcessRunner.Run("chown", [$"{uid}:{Group}", home], s.Dir).ExitCode);
        }
        var env = new Dictionary<string, string>(s.Env) { ["HOME"] = home, ["DOTNET_CLI_HOME"] = home, ["DOTNET_NOLOGO"] = "1", ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1" };
        string[] args = [$"--reuid={uid}", $"--regid={Group}", $"--groups={Group}", "sh", "-c", $"umask {umask} && exec \"$@\"", "sh", "dotnet", .. s.MSBuildArgs(msbuildArgs)];
        return ProcessRunner.Run("setpriv", args, s.Dir, TimeSpan.FromMinutes(5), env);
    }

    private static ProcessResult Ran(ProcessResult r)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    /// <summary>What a member wrote that the group may not replace: a file without g+w, or a folder without g+w or the setgid bit.</summary>
    private static string[] NotTheGroups(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(p => new FileInfo(p).LinkTarget is null && Core.Hashing.Statx.TryOwner(p, out var uid, out _) && uid is Alice or Bob)
            .Where(p => !File.GetUnixFileMode(p).HasFlag(UnixFileMode.GroupWrite) || (Directory.Exists(p) && !File.GetUnixFileMode(p).HasFlag(UnixFileMode.SetGroup)))
            .Select(p => $"{Convert.ToString((int)File.GetUnixFileMode(p), 8)} {p}")
            .ToArray();
}

/// <summary>A test that runs builds as other users: skipped, with the reason, where this process is not root (or not on Linux).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AsRootFactAttribute : FactAttribute
{
    public AsRootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
            Skip = "runs builds as two users of one group through setpriv, which needs root on Linux: run the tests as root (CI does)";
    }
}
