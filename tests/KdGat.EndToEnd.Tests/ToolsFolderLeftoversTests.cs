using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// When the bootstrap builds the tools again, what an older build copied into the tools folder and
/// this one does not make goes: left there (an upgrade review: KdGat.Core.deps.json and SQLite's
/// natives of dropped platforms after a pull), a clone pulled forward fingerprinted a bare {tools}
/// over other files than a fresh clone of the same commit. In the default folder every such file
/// goes; in a -p:KdGatToolsDir only what KdGat's last copy wrote, never a file of the user's.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ToolsFolderLeftoversTests : IDisposable
{
    private readonly string _repo = Path.Combine(Path.GetTempPath(), "kdgat-leftovers-" + Guid.NewGuid().ToString("N")[..8]);
    private string Src => Path.Combine(_repo, "src");

    public ToolsFolderLeftoversTests()
    {
        Sandbox.CopyToolSources(_repo);
        Directory.CreateDirectory(Path.Combine(_repo, "tmp"));
    }

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    /// <summary>A tools folder as an older build left it: the current tools plus what that build copied and this one does not make.</summary>
    private string OlderToolsFolder(string name)
    {
        var tools = Path.Combine(_repo, name);
        Sandbox.CopyTree(Tools.Path, tools);
        Directory.CreateDirectory(Path.Combine(tools, "runtimes", "win-x86", "native"));
        File.WriteAllText(Path.Combine(tools, "runtimes", "win-x86", "native", "e_sqlite3.dll"), "a dropped platform's native");
        File.WriteAllText(Path.Combine(tools, "KdGat.Core.deps.json"), "{}");
        Tools.SetStamp(tools, null); // no stamp: the bootstrap builds and copies again
        return tools;
    }

    private void Bootstrap(string tools, params string[] more)
    {
        using var _ = Tools.Lock();
        var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/", "-v:m", "-nologo", .. more],
            Repo.Root, TimeSpan.FromMinutes(8), new Dictionary<string, string> { ["TMPDIR"] = Path.Combine(_repo, "tmp") });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(Path.Combine(tools, "KdGat.Tasks.dll")) && Tools.Stamp(tools) != "", r.ToString());
    }

    /// <summary>The tools themselves, not the bootstrap's bookkeeping (stamp/, tools.list*).</summary>
    private static bool Compared(string relative) => !relative.StartsWith("tools.list", StringComparison.Ordinal) && !relative.StartsWith("stamp" + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// An older bootstrap (before the stamp was a file name in stamp/) that built in this folder wrote
    /// source.sha256 and left stamp/ as it was: back at this commit, stamp/ still named these sources
    /// while the DLLs were the older commit's, and they ran as current (a diff review, after a checkout
    /// of an older commit and back). Its file now makes the tools stale; -question says so, compiling nothing.
    /// </summary>
    [Fact]
    public void AnOlderBootstrapsStampFile_MakesTheToolsStale()
    {
        var tools = Path.Combine(_repo, "tools");
        Sandbox.CopyTree(Tools.Path, tools);
        ProcessResult Question() => ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", "-question", "-nologo", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/"],
            Repo.Root, TimeSpan.FromMinutes(5));
        var current = Question();
        Assert.True(current.ExitCode == 0, current.ToString());
        File.WriteAllText(Path.Combine(tools, "source.sha256"), Tools.Stamp(tools) + "\n"); // what the older bootstrap wrote, naming its own sources
        var older = Question();
        Assert.NotEqual(0, older.ExitCode);
        Assert.Contains("error KDG1218", older.Output);
    }

    [Fact]
    public void TheDefaultFolder_LosesWhatTheNewBuildDoesNotMake_AnotherFolderOnlyWhatKdGatCopiedThere()
    {
        // The default .kdgat/tools/ is KdGat's alone (older ones have no list of what was copied).
        var owned = OlderToolsFolder("default-tools");
        Bootstrap(owned, $"-p:_KdGatDefaultToolsDir={owned}/");
        Assert.False(File.Exists(Path.Combine(owned, "KdGat.Core.deps.json")));
        Assert.False(Directory.Exists(Path.Combine(owned, "runtimes", "win-x86")));
        Assert.True(File.Exists(Path.Combine(owned, "runtimes", "linux-x64", "native", "libe_sqlite3.so")));
        Assert.Equal( // nothing but what this build made (and copied: its list)
            File.ReadAllLines(Path.Combine(owned, "tools.list.copied")).Select(l => l[2..]).Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(owned, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(owned, f)).Where(Compared).Order(StringComparer.Ordinal));

        // -p:KdGatToolsDir may be a folder with the user's own files: only what the last copy wrote goes.
        var theirs = OlderToolsFolder("their-tools");
        File.WriteAllText(Path.Combine(theirs, "tools.list.copied"), "./KdGat.Core.deps.json\n./KdGat.Tasks.dll\n");
        File.WriteAllText(Path.Combine(theirs, "notes.txt"), "the user's");
        // With the .NET properties a CI line passes to every project it builds: they do not reach the tool build, whose
        // bytes are then those of a build without them (they were not: every stage with {tools} reran, no shared cache; a review).
        Bootstrap(theirs, "-p:Version=9.9.9", "-p:SourceRevisionId=abc123", "-p:DefineConstants=CI_ONLY");
        foreach (var dll in Directory.EnumerateFiles(Tools.Path, "KdGat.*.dll"))
            Assert.True(File.ReadAllBytes(dll).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(theirs, Path.GetFileName(dll)))), Path.GetFileName(dll));
        Assert.False(File.Exists(Path.Combine(theirs, "KdGat.Core.deps.json")));
        Assert.True(File.Exists(Path.Combine(theirs, "runtimes", "win-x86", "native", "e_sqlite3.dll"))); // not listed as copied: could be theirs
        Assert.Equal("the user's", File.ReadAllText(Path.Combine(theirs, "notes.txt")));
        Assert.Contains("./KdGat.Tasks.dll", File.ReadAllLines(Path.Combine(theirs, "tools.list.copied")));
    }
}
