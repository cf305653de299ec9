using KdGat.Core.Auditing;

namespace KdGat.Core.Tests.Auditing;

/// <summary>Lines as strace 6.1 prints them with -f -qq -y -o FILE (captured on this machine, trimmed).</summary>
[Trait("Category", "Unit")]
public sealed class StraceParserTests
{
    private static IReadOnlyList<TracedAccess> Parse(string initialCwd, params string[] lines)
    {
        var p = new StraceParser(initialCwd);
        foreach (var l in lines) p.Feed(l);
        return p.Accesses;
    }

    private static string[] Show(IEnumerable<TracedAccess> a) => a.Select(x => $"{x.Pid} {x.Kind} {x.Path}{(x.Listing ? " (list)" : "")}").ToArray();

    [Fact]
    public void PidPrefixes_AndCallsSplitByAnotherProcess_AreJoined()
    {
        var a = Parse("/w",
            """14321 execve("/bin/sh", ["/bin/sh", "-c", "cat /etc/hostname"], 0x7ffe68dc4fa8 /* 43 vars */) = 0""",
            "14321 vfork( <unfinished ...>",
            """14322 execve("/usr/bin/cat", ["cat", "/etc/hostname"], 0x564284752000 /* 43 vars */ <unfinished ...>""",
            "14321 <... vfork resumed>)              = 14322",
            "14322 <... execve resumed>)             = 0",
            """[pid 14322] openat(AT_FDCWD</w>, "/etc/hostname", O_RDONLY <unfinished ...>""",
            """[pid 14321] openat(AT_FDCWD</w>, "out.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</w/out.txt>""",
            "[pid 14322] <... openat resumed>) = 3</etc/hostname>",
            "14321 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=14322, si_uid=0, si_status=0} ---",
            "14322 +++ exited with 0 +++");

        Assert.Equal(["14321 Read /bin/sh", "14322 Read /usr/bin/cat", "14321 Write /w/out.txt", "14322 Read /etc/hostname"], Show(a));
    }

    [Fact]
    public void QuotedPaths_WithEscapes_AreDecodedAsUtf8Bytes()
    {
        var a = Parse("/w",
            """1 openat(AT_FDCWD</w>, "\303\251\"x", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</w/\303\251\"x>""",
            """1 openat(AT_FDCWD</w>, "a\\b, c (d)\x41\n", O_RDONLY) = 3""",
            """1 unlinkat(4</w/a\076b>, "f", 0) = 0""");

        Assert.Equal(["1 Write /w/é\"x", "1 Read /w/a\\b, c (d)A\n", "1 Write /w/a>b/f"], Show(a));
    }

    [Fact]
    public void RelativePaths_ResolveAgainstDirFdOrTheProcessCwd()
    {
        var a = Parse("/runs/d/s",
            """10 open("params.json", O_RDONLY) = 3""",                                   // initial cwd
            """10 openat(AT_FDCWD</runs/d/s>, "../../../data/cache/d/g.json", O_RDONLY|O_CLOEXEC) = 3</data/cache/d/g.json>""",
            """10 chdir("/repo/sub") = 0""",
            """10 mkdir("out", 0777) = 0""",                                              // after chdir
            "10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 11",
            """11 rename("a.tmp", "../b") = 0""",                                         // the child inherits /repo/sub
            """11 fchdir(5</elsewhere>) = 0""",
            """11 unlink("x") = 0""",
            """11 unlinkat(AT_FDCWD, "y", AT_REMOVEDIR) = 0""",                          // without a -y decoration: the tracked cwd
            """12 openat(7</repo/sub/out>, "z", O_RDONLY) = 3""");

        Assert.Equal([
            "10 Read /runs/d/s/params.json", "10 Read /data/cache/d/g.json", "10 Write /repo/sub/out",
            "11 Write /repo/sub/a.tmp", "11 Write /repo/b", "11 Write /elsewhere/x", "11 Write /elsewhere/y", "12 Read /repo/sub/out/z"], Show(a));
        Assert.True(a[2].Created);
    }

    [Fact]
    public void ChildSeenBeforeItsParentsForkReturns_InheritsTheParentsCwd()
    {
        var a = Parse("/w",
            """5 chdir("/repo") = 0""",
            "5 vfork( <unfinished ...>",
            """6 open("data.csv", O_RDONLY) = 3""",
            "5 <... vfork resumed>) = 6");

        Assert.Equal(["6 Read /repo/data.csv"], Show(a));
    }

    [Fact]
    public void OpenFlags_DecideReadOrWrite_AndFailedCallsAreNotAccesses()
    {
        var a = Parse("/w",
            """1 openat(AT_FDCWD</w>, "r", O_RDONLY|O_CLOEXEC) = 3</w/r>""",
            """1 openat(AT_FDCWD</w>, "rw", O_RDWR) = 3</w/rw>""",
            """1 openat(AT_FDCWD</w>, "dir", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3</w/dir>""",
            """1 openat(AT_FDCWD</w>, "handle", O_RDONLY|O_PATH) = 3</w/handle>""",
            """1 openat2(AT_FDCWD</w>, "how", {flags=O_WRONLY|O_CREAT, mode=0644, resolve=0}, 24) = 3</w/how>""",
            """1 creat("c", 0644) = 3</w/c>""",
            """1 openat(AT_FDCWD</w>, "missing", O_RDONLY) = -1 ENOENT (No such file or directory)""",
            """1 execve("/nope/python3", ["python3"], 0x7fff /* 43 vars */) = -1 ENOENT (No such file or directory)""",
            """2 openat(AT_FDCWD</w>, "/tmp/clr-debug-pipe-in", O_RDONLY <unfinished ...>""",
            "2 <... openat resumed>) = ?",
            "1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x7fb9, parent_tid=0x7fb9, exit_signal=0, stack=0x7fb9, stack_size=0x7fff80, tls=0x7fb9} => {parent_tid=[19434]}, 88) = 19434");

        Assert.Equal(["1 Read /w/r", "1 Write /w/rw", "1 Read /w/rw", "1 Read /w/dir (list)", "1 Write /w/how", "1 Write /w/c"], Show(a));
    }

    [Fact]
    public void RepeatedAccesses_AreKeptOnce()
    {
        var line = "9 openat(AT_FDCWD</w>, \"g.json\", O_RDONLY) = 3</w/g.json>";
        var a = Parse("/w", line, line, line.Replace("9 ", "10 "));

        Assert.Equal(["9 Read /w/g.json"], Show(a));
    }

    [Fact]
    public void DamagedLines_AreCountedNotThrown()
    {
        var p = new StraceParser("/w");
        foreach (var l in new[] { "1 openat(AT_FDCWD</w>, \"cut off", "garbage", "7 <... openat resumed>) = 3", "" }) p.Feed(l);

        Assert.Empty(p.Accesses);
        Assert.Equal(3, p.Unparsed);
    }
}
