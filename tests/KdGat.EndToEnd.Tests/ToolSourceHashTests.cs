using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// The bootstrap rebuilds the tools when their source hash changes: an edit it misses would run
/// old tools (old staleness rules) against new sources. Every way of computing it is checked on a
/// copy of src/: in process (KdGat.Bootstrap, when the tools dir has it), the shell pipeline (Linux,
/// macOS) and GetFileHash (elsewhere); the first two must agree to the byte, as one writes the stamp
/// the other is compared with. And what the bootstrap then builds is what the sources say, whatever
/// their file times, the same bytes at any path.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ToolSourceHashTests : IDisposable
{
    private readonly string _repo = Path.Combine(Path.GetTempPath(), "kdgat-srchash-" + Guid.NewGuid().ToString("N")[..8]);
    private string Src => Path.Combine(_repo, "src");

    public ToolSourceHashTests()
    {
        Sandbox.CopyToolSources(_repo);
    }

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    public enum Way { InProcess, Shell, GetFileHash }

    private string Hash(Way way)
    {
        var (hash, piped) = HashAndHow(way);
        if (way == Way.InProcess) Assert.Equal("", piped); // the task answered, not the pipeline
        return hash;
    }

    /// <summary>The hash, and whether the shell pipeline computed it (Piped: its output).</summary>
    private (string Hash, string Piped) HashAndHow(Way way, string? sha256Command = null, Dictionary<string, string>? environment = null, string? tools = null)
    {
        // The in-process task is in the tools the tests bootstrap; the repository's own .kdgat/tools may or may not be there.
        List<string> args = ["msbuild", "pipeline.proj", "-t:_KdGatToolSourceHash", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools ?? Tools.Path}",
            "-getProperty:_KdGatToolSourceHash", "-getProperty:_KdGatToolSourceHashPiped", "-nologo"];
        if (way == Way.Shell) args.Add("-p:_KdGatHashInProcess=false");
        if (way == Way.GetFileHash || sha256Command is not null) args.Add($"-p:_KdGatSha256Command={sha256Command ?? ""}");
        var r = ProcessRunner.Run("dotnet", args, Repo.Root, TimeSpan.FromMinutes(2), environment);
        Assert.True(r.ExitCode == 0, r.ToString());
        var properties = Sandbox.MSBuildJson(r).GetProperty("Properties");
        var hash = properties.GetProperty("_KdGatToolSourceHash").GetString()!;
        Assert.Matches("^[0-9a-fA-F]{40,64}$", hash);
        return (hash, properties.GetProperty("_KdGatToolSourceHashPiped").GetString()!);
    }

    [Theory]
    [InlineData(Way.InProcess)]
    [InlineData(Way.Shell)]
    [InlineData(Way.GetFileHash)]
    public void AnEditedAddedOrRemovedSource_ChangesTheHash_BinAndObjDoNot(Way shell)
    {
        var first = Hash(shell);
        Assert.Equal(first, Hash(shell));

        var obj = Path.Combine(Src, "KdGat.Core", "obj", "Debug");
        Directory.CreateDirectory(obj);
        File.WriteAllText(Path.Combine(obj, "Generated.cs"), "// build output");
        Directory.CreateDirectory(Path.Combine(Src, "KdGat.Tasks", "bin", "Release"));
        File.WriteAllText(Path.Combine(Src, "KdGat.Tasks", "bin", "Release", "KdGat.Tasks.dll"), "build output");
        Assert.Equal(first, Hash(shell));

        var planner = Path.Combine(Src, "KdGat.Core", "Planning", "Planner.cs");
        File.AppendAllText(planner, "\n// an edit\n");
        var edited = Hash(shell);
        Assert.NotEqual(first, edited);

        var added = Path.Combine(Src, "KdGat.Core", "Planning", "Rule.cs");
        File.WriteAllText(added, "namespace KdGat.Core.Planning; internal static class Rule { }\n");
        var withAdded = Hash(shell);
        Assert.NotEqual(edited, withAdded);

        File.Delete(added);
        Assert.Equal(edited, Hash(shell));

        File.AppendAllText(Path.Combine(_repo, "Directory.Build.props"), "<!-- an edit -->\n");
        Assert.NotEqual(edited, Hash(shell));
    }

    /// <summary>
    /// What the compiler reads besides .cs and .csproj changes the hash: a bin/ or obj/ folder below
    /// a project's top (compiled: only src/X/bin and src/X/obj are build output), a
    /// Directory.Build.props in a subfolder (its DefineConstants chose the code), any other file (a
    /// .resx). A review found the first two skipped: stages reran on the new code glob against the
    /// old DLL, and Clean did not recover. Editors' swap and backup files change nothing.
    /// </summary>
    [Theory]
    [InlineData(Way.InProcess)]
    [InlineData(Way.Shell)]
    [InlineData(Way.GetFileHash)]
    public void NestedBinAndObj_ASubfolderProps_AndOtherFiles_ChangeTheHash_EditorFilesDoNot(Way shell)
    {
        var first = Hash(shell);
        var stages = Path.Combine(Src, "KdGat.Sample", "Stages");
        File.WriteAllText(Path.Combine(stages, ".EvaluateStage.cs.swp"), "vim");
        File.WriteAllText(Path.Combine(stages, "EvaluateStage.cs~"), "backup");
        Assert.Equal(first, Hash(shell));

        var nested = Directory.CreateDirectory(Path.Combine(stages, "bin")).FullName;
        File.WriteAllText(Path.Combine(nested, "Extra.cs"), "namespace KdGat.Sample; internal static class Extra { }\n");
        var withNestedBin = Hash(shell);
        Assert.NotEqual(first, withNestedBin);
        File.AppendAllText(Path.Combine(nested, "Extra.cs"), "// an edit\n");
        var editedNestedBin = Hash(shell);
        Assert.NotEqual(withNestedBin, editedNestedBin);

        File.WriteAllText(Path.Combine(Src, "Directory.Build.props"), "<Project><PropertyGroup><DefineConstants>$(DefineConstants);KDG_X</DefineConstants></PropertyGroup></Project>\n");
        var withProps = Hash(shell);
        Assert.NotEqual(editedNestedBin, withProps);

        File.WriteAllText(Path.Combine(stages, "Strings.resx"), "<root />\n");
        Assert.NotEqual(withProps, Hash(shell));
    }

    /// <summary>
    /// A source edited with an old file time (rsync -a, cp -p, tar, a checkout on NFS) is compiled:
    /// MSBuild's incremental build compared times and skipped the compile while the stamp named the
    /// new sources, so stages ran the old code and their results were recorded as the new code's
    /// (found by review). The copy at another path builds the same bytes as the repository's tools.
    /// A build folder a bootstrap stopped by Ctrl+C left in the temp dir goes once it is a day old.
    /// </summary>
    [Fact]
    public void ASourceEditedWithAnOldFileTime_IsCompiled_AndAnotherPathBuildsTheSameBytes()
    {
        var tools = Path.Combine(_repo, "tools") + "/";
        var temp = Path.Combine(_repo, "tmp");
        ProcessResult Bootstrap() => ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}", "-v:m", "-nologo"],
            Repo.Root, TimeSpan.FromMinutes(8), new Dictionary<string, string> { ["TMPDIR"] = temp });
        byte[] Sample() => File.ReadAllBytes(Path.Combine(tools, "KdGat.Sample.dll"));
        var leftOld = Directory.CreateDirectory(Path.Combine(temp, "kdgat-tools-build-left-by-a-ctrl-c", "obj")).Parent!;
        leftOld.LastWriteTimeUtc = DateTime.UtcNow.AddDays(-2);
        var leftNew = Directory.CreateDirectory(Path.Combine(temp, "kdgat-tools-build-of-a-build-now"));
        // An editor's lock file with C# in it: the hash leaves it out, so the compiler must too (it compiled it: a review).
        File.WriteAllText(Path.Combine(Src, "KdGat.Sample", "Stages", ".#Lock.cs"), "internal static class EditorLock { public const string Marker = \"kdgat-editor-lock-compiled\"; }\n");
        using (Tools.Lock())
        {
            var first = Bootstrap();
            Assert.True(first.ExitCode == 0, first.ToString());
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(Tools.Path, "KdGat.Sample.dll")), Sample());
        Assert.DoesNotContain("kdgat-editor-lock-compiled", System.Text.Encoding.UTF8.GetString(Sample()).Replace("\0", ""));
        Assert.Equal([leftNew.FullName], Directory.GetDirectories(temp, "kdgat-tools-build-*")); // its own removed too

        var stage = Path.Combine(Src, "KdGat.Sample", "Stages", "EvaluateStage.cs");
        var old = File.GetLastWriteTimeUtc(stage).AddHours(-1);
        File.AppendAllText(stage, "\ninternal static class EditedWithAnOldTime { public const string Marker = \"kdgat-edited-with-an-old-time\"; }\n");
        File.SetLastWriteTimeUtc(stage, old);
        using (Tools.Lock())
        {
            var second = Bootstrap();
            Assert.True(second.ExitCode == 0, second.ToString());
        }

        Assert.Contains("kdgat-edited-with-an-old-time", System.Text.Encoding.UTF8.GetString(Sample()).Replace("\0", ""));
    }

    [Theory]
    [InlineData(Way.InProcess)]
    [InlineData(Way.Shell)]
    public void AnEditorsDanglingLockLink_ChangesNothing_AMissingHashCommandFallsBackToGetFileHash(Way way)
    {
        var first = Hash(way);
        // Emacs' lock file: a symlink to nowhere. Its error line went into the hash (a review).
        File.CreateSymbolicLink(Path.Combine(Src, "KdGat.Core", ".#Planner.cs"), "root@host.1234:1700000000");
        Assert.Equal(first, Hash(way));
        File.Delete(Path.Combine(Src, "KdGat.Core", ".#Planner.cs"));

        // A shell without the tool: the hash was the error text (a new one every build); now GetFileHash's.
        Assert.Equal(Hash(Way.GetFileHash), HashAndHow(Way.Shell, "no-such-sha256sum").Hash);
    }

    /// <summary>
    /// A KdGat.Bootstrap.dll MSBuild cannot load is never asked (MSB4062 is an error whatever
    /// ContinueOnError says, and stopped every build before the rebuild that would replace it: a
    /// review): the task runs only when the stamp names this SDK. A copy cut off half-way leaves no
    /// stamp (deleted before the copy, written after it); another SDK's build names that SDK.
    /// </summary>
    [Fact]
    public void AnUnloadableBootstrapAssembly_IsNotAsked_WithoutTheStampOfThisSdk()
    {
        var tools = Path.Combine(_repo, "tools");
        Directory.CreateDirectory(tools);
        foreach (var name in new[] { "KdGat.Bootstrap.dll", "KdGat.Bootstrap.deps.json" })
            File.Copy(Path.Combine(Tools.Path, name), Path.Combine(tools, name));
        var dll = Path.Combine(tools, "KdGat.Bootstrap.dll");
        File.WriteAllBytes(dll, File.ReadAllBytes(dll)[..5000]);
        var current = Tools.Stamp(Tools.Path);

        Assert.NotEqual("", HashAndHow(Way.InProcess, tools: tools + "/").Piped);
        Tools.SetStamp(tools, System.Text.RegularExpressions.Regex.Replace(current, " sdk [^ ]+ ", " sdk 9.0.100 "));
        Assert.NotEqual("", HashAndHow(Way.InProcess, tools: tools + "/").Piped);
    }

    /// <summary>
    /// The same assembly cut off in a folder whose stamp names this SDK and contract (a copy or a CI
    /// cache restored in part, the stamp among what got through): MSB4062, then one KDG1206 that says
    /// to build again, and the stamp is gone, so that build rebuilds the tools instead of stopping at
    /// the same error every time (a review).
    /// </summary>
    [Fact]
    public void AnUnloadableBootstrapAssembly_WithItsStamp_IsKdg1206_AndLeavesNoStamp()
    {
        var tools = Path.Combine(_repo, "tools");
        Sandbox.CopyTree(Tools.Path, tools);
        var dll = Path.Combine(tools, "KdGat.Bootstrap.dll");
        File.WriteAllBytes(dll, File.ReadAllBytes(dll)[..500]);
        var stamp = Path.Combine(tools, "stamp");
        Assert.NotEqual("", Tools.Stamp(tools));

        var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatToolSourceHash", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/", "-nologo", "-v:m"],
            Repo.Root, TimeSpan.FromMinutes(2));

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1206", r.Output);
        Assert.False(Directory.Exists(stamp));
        Assert.NotEqual("", HashAndHow(Way.InProcess, tools: tools + "/").Piped); // no longer asked: the pipeline answers, and the stamp differs
    }

    /// <summary>
    /// A tools folder restored in part keeps the stamp of a whole one: the in-process check finds a
    /// file that tools.list names missing or of another size, and the bootstrap builds the folder again
    /// (the same bytes). A whole folder is left alone.
    /// </summary>
    [Fact]
    public void AToolsFolderRestoredInPart_IsBuiltAgain()
    {
        var tools = Path.Combine(_repo, "tools");
        Sandbox.CopyTree(Tools.Path, tools);
        string Incomplete()
        {
            var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatToolSourceHash", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/",
                "-getProperty:_KdGatToolsIncomplete", "-nologo"], Repo.Root, TimeSpan.FromMinutes(2));
            Assert.True(r.ExitCode == 0, r.ToString());
            return r.Output.Trim();
        }
        Assert.Equal("", Incomplete());
        var yaml = Path.Combine(tools, "YamlDotNet.dll");
        var yamlBytes = File.ReadAllBytes(yaml);
        File.Delete(yaml);
        Assert.Contains("YamlDotNet.dll", Incomplete());
        File.WriteAllBytes(yaml, yamlBytes);
        Assert.Equal("", Incomplete());
        var core = Path.Combine(tools, "KdGat.Core.dll");
        File.WriteAllBytes(core, File.ReadAllBytes(core)[..1000]);
        Assert.Contains("KdGat.Core.dll", Incomplete());

        Directory.CreateDirectory(Path.Combine(_repo, "tmp"));
        using (Tools.Lock())
        {
            var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/", "-v:m", "-nologo"],
                Repo.Root, TimeSpan.FromMinutes(8), new Dictionary<string, string> { ["TMPDIR"] = Path.Combine(_repo, "tmp") });
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(File.ReadAllBytes(Path.Combine(Tools.Path, "KdGat.Core.dll")), File.ReadAllBytes(core));
            Assert.Equal("", Incomplete());
        }

        // Cut off before the in-process check itself was copied: KdGat.Bootstrap.dll gone too (a diff review: never rebuilt).
        File.Delete(core);
        File.Delete(Path.Combine(tools, "KdGat.Bootstrap.dll"));
        Assert.Equal("KdGat.Bootstrap.dll is missing", Incomplete());
        // Without the stamp the folder was never whole: a first build, "not built yet" (it said "incomplete" in every fresh clone).
        Tools.SetStamp(tools, null);
        Assert.Equal("", Incomplete());
    }

    /// <summary>
    /// A FIFO where the stamp is (a user's, a sync tool's on NFS): the bootstrap read the stamp file
    /// with MSBuild's File::ReadAllText, whose open waits for a writer, and every build hung before
    /// any KdGat code ran. The stamp is now a file's name, listed and never opened: a FIFO so named
    /// still says what it says, and one at the old stamp's path (source.sha256) is nothing.
    /// </summary>
    [Fact]
    public void AFifoAsTheStamp_IsNeverOpened()
    {
        var tools = Path.Combine(_repo, "tools");
        Sandbox.CopyTree(Tools.Path, tools);
        var stampDir = Path.Combine(tools, "stamp");
        var stamps = (Directory.Exists(stampDir) ? Directory.GetFiles(stampDir) : []).Append(Path.Combine(tools, "source.sha256")).ToList();
        foreach (var stamp in stamps)
        {
            File.Delete(stamp);
            Assert.Equal(0, ProcessRunner.Run("mkfifo", [stamp], tools, TimeSpan.FromSeconds(30)).ExitCode);
        }

        Assert.Equal("", HashAndHow(Way.InProcess, tools: tools + "/").Piped); // finished (within 2 minutes), and asked: the stamp names this SDK
    }

    /// <summary>
    /// A Bootstrap.dll built before the task's parameters changed (its stamp lacks this contract) is not
    /// asked: after a pull that added one, every build was MSB4131 and none got as far as rebuilding it.
    /// </summary>
    [Fact]
    public void ABootstrapOfAnOlderContract_IsNotAsked()
    {
        var tools = Path.Combine(_repo, "tools");
        Directory.CreateDirectory(tools);
        foreach (var name in new[] { "KdGat.Bootstrap.dll", "KdGat.Bootstrap.deps.json" })
            File.Copy(Path.Combine(Tools.Path, name), Path.Combine(tools, name));
        var stamp = Tools.Stamp(Tools.Path);
        Assert.EndsWith(" bootstrap/3", stamp);
        Tools.SetStamp(tools, stamp);
        Assert.Equal("", HashAndHow(Way.InProcess, tools: tools + "/").Piped); // asked

        Tools.SetStamp(tools, stamp[..^" bootstrap/3".Length]);

        Assert.NotEqual("", HashAndHow(Way.InProcess, tools: tools + "/").Piped); // not asked: the pipeline answered
    }

    /// <summary>
    /// -question when the tools must be rebuilt first (src/ changed since): one KDG1218, nothing
    /// compiled (it compiled in question mode, ending in MSBuild errors without a code; a review).
    /// </summary>
    [Fact]
    public void Question_WithToolsToRebuild_IsKdg1218_AndCompilesNothing()
    {
        var tools = Path.Combine(_repo, "tools");
        Sandbox.CopyTree(Tools.Path, tools);
        var before = Directory.GetFiles(tools, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        File.AppendAllText(Path.Combine(Src, "KdGat.Core", "Planning", "Planner.cs"), "\n// an edit\n");

        var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-question", "-nologo", "-p:Dataset=hcrl_sa", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/"],
            Repo.Root, TimeSpan.FromMinutes(5));

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1218", r.Output);
        Assert.DoesNotContain("building tools", r.Output);
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(tools, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));
    }

    /// <summary>
    /// A switch the tool build cannot honour, before any tools exist (a fresh clone's CI gate, a pull): one KDG error and
    /// nothing written. -question compiled in question mode (MSBuild's errors without a code, and a warning for the
    /// temp-dir probe's delete); -isolate ended in MSB4254. The in-process task that knows of -question is not there
    /// yet, so the command line says it.
    /// </summary>
    [Theory]
    [InlineData("-question", "KDG1218")]
    [InlineData("-Q", "KDG1218")]
    [InlineData("-isolate", "KDG1224")]
    [InlineData("-isolateProjects:True", "KDG1224")]
    public void ASwitchTheToolBuildCannotHonour_WithNoToolsYet_IsAKdgError_AndWritesNothing(string option, string code)
    {
        var tools = Path.Combine(_repo, "no-tools-yet");

        var r = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", option, "-nologo", "-p:Dataset=hcrl_sa", $"-p:KdGatSourceDir={Src}/", $"-p:KdGatToolsDir={tools}/"],
            Repo.Root, TimeSpan.FromMinutes(5));

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"error {code}", r.Output);
        Assert.DoesNotContain("MSBUILD : error", r.Output);
        Assert.DoesNotContain("MSB4254", r.Output);
        Assert.DoesNotContain("warning", r.Output);
        Assert.False(Directory.Exists(tools));
    }

    /// <summary>
    /// The in-process hash gives the pipeline's bytes (the stamp one writes, the other reads: any
    /// difference would rebuild the tools once more, any file one sees and the other misses could
    /// hide an edit), on names that sort or match differently in careless code: C-locale order of
    /// upper case, '-', '.', non-ASCII and "../", dotfiles, "#x#", a file named bin beside the
    /// projects, obj three levels down; and with QUOTING_STYLE=c set. Where its answer could differ (an
    /// empty file, which may be a FIFO, any symlink but an editor's lock link, a carriage return in a
    /// name, its own sources edited) it gives none and the pipeline decides; a FIFO does not hang it.
    /// </summary>
    [Fact]
    public void InProcess_AgreesWithThePipeline_AndLeavesItWhatItCannotTell()
    {
        var core = Path.Combine(Src, "KdGat.Core");
        foreach (var name in new[] { "Zeta.cs", "alpha-beta.txt", "alpha.beta.txt", "Ärger.md", "日本.txt", ".hidden", "#notes#", "a b.cs" })
            File.WriteAllText(Path.Combine(core, name), name + "\n");
        File.WriteAllText(Path.Combine(Src, "bin"), "a file named bin beside the projects\n");
        Directory.CreateDirectory(Path.Combine(core, "Deep", "obj"));
        File.WriteAllText(Path.Combine(core, "Deep", "obj", "Kept.cs"), "// compiled\n");
        Directory.CreateDirectory(Path.Combine(core, ".git"));
        File.WriteAllText(Path.Combine(core, ".git", "HEAD"), "ref: refs/heads/main\n");

        var inProcess = HashAndHow(Way.InProcess);
        Assert.Equal("", inProcess.Piped); // the task answered
        Assert.Equal(HashAndHow(Way.Shell).Hash, inProcess.Hash);
        // GNU ls quoted the repository's Directory.* names under QUOTING_STYLE=c, and sha256sum left them out (a review).
        Assert.Equal(inProcess.Hash, HashAndHow(Way.Shell, environment: new() { ["QUOTING_STYLE"] = "c" }).Hash);

        void LeftToThePipeline(string what)
        {
            var (hash, piped) = HashAndHow(Way.InProcess);
            Assert.True(piped != "", what + ": the task answered");
            Assert.Equal(HashAndHow(Way.Shell).Hash, hash);
        }

        var empty = Path.Combine(core, ".gitkeep");
        File.WriteAllBytes(empty, []);
        LeftToThePipeline("an empty file");
        File.Delete(empty);

        var fifo = Path.Combine(core, "pipe");
        Assert.Equal(0, ProcessRunner.Run("mkfifo", [fifo], Src, TimeSpan.FromSeconds(30)).ExitCode);
        LeftToThePipeline("a FIFO");
        File.Delete(fifo);

        // Every link but an editor's lock link: the kernel resolves a relative link reached through a
        // linked folder otherwise than .NET's text does, which hid a compiled file (a review).
        var link = Path.Combine(core, "Linked.cs");
        File.CreateSymbolicLink(link, Path.Combine(core, "Zeta.cs"));
        LeftToThePipeline("a symlink to a file");
        File.Delete(link);
        File.CreateSymbolicLink(link, "../../../nowhere/Linked.cs");
        LeftToThePipeline("a symlink to nothing that is not an editor's");
        File.Delete(link);

        var carriageReturn = Path.Combine(core, "a\rb.txt"); // sha256sum escapes it: another listing line
        File.WriteAllText(carriageReturn, "x\n");
        LeftToThePipeline("a carriage return in a name");
        File.Delete(carriageReturn);

        Assert.Equal(inProcess, HashAndHow(Way.InProcess));
        File.AppendAllText(Path.Combine(Src, "KdGat.Bootstrap", "ToolSourceHash.cs"), "// an edit of the hash's own code\n");
        LeftToThePipeline("its own sources edited");
    }
}
