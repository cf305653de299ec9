using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

[Trait("Category", "Unit")]
public sealed class StageInstanceTests : IDisposable
{
    private TestPipeline? _p;
    public void Dispose() => _p?.Dispose();

    private IReadOnlyList<StageInstance> Instances(string stagesYaml, StageDeclaration[] decl, string datasets = "[d1]", string cache = "cache/{dataset}")
    {
        _p = new TestPipeline($"""
            datasets: {datasets}
            paths:
              runs: runs
              raw: raw/{"{dataset}"}
              cache: {cache}
            vars:
              tool: 'run-tool --root {"{root}"}'
            stages:
            {stagesYaml}
            """);
        return _p.Instances(decl);
    }

    private static readonly StageDeclaration[] AB = [new("a", []), new("b", ["a"])];

    [Fact]
    public void AnInputGoingUpOutOfASymlinkedFolder_IsKdg1018AtTheStage()
    {
        _p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'x {raw_dir}/../labels.csv', inputs: ['{raw_dir}/../labels.csv'], outputs: [m] }
            """);
        using var scratch = new TempDir();
        Directory.CreateDirectory(scratch["d1"]);
        if (Directory.Exists(_p.Dir["raw/d1"])) Directory.Delete(_p.Dir["raw/d1"], recursive: true);
        Directory.CreateDirectory(_p.Dir["raw"]);
        Directory.CreateSymbolicLink(_p.Dir["raw/d1"], scratch["d1"]); // the dataset linked from scratch

        var e = Assert.Throws<KdgException>(() => _p.Instances([new StageDeclaration("a", [])]));

        Assert.Equal(ErrorCodes.PathUpThroughSymlink, e.Code);
        Assert.Contains("'raw/d1/../labels.csv'".Replace("raw/d1", _p.Dir["raw/d1"]), e.Message);
        Assert.Contains(scratch["d1"], e.Message);
        Assert.Equal(_p.ConfigFile, e.File);
    }

    [Fact]
    public void Paths_AreResolvedUnderRoot()
    {
        var s = Instances("""
              a: { command: x, outputs: ['{cache_dir}'], inputs: ['{raw_dir}', 'extra/{dataset}.csv'] }
              b: { command: x, outputs: [model.ckpt, sub/log.json] }
            """, AB, "[d1, d2]");
        var root = _p!.Root;

        Assert.Equal(["d1/a", "d1/b", "d2/a", "d2/b"], s.Select(i => i.Key));
        var b = s[1];
        Assert.Equal(Path.Combine(root, "runs/d1/b"), b.RunDir);
        Assert.Equal([Path.Combine(root, "runs/d1/b/model.ckpt"), Path.Combine(root, "runs/d1/b/sub/log.json")], b.Outputs);
        Assert.Equal(Path.Combine(root, "runs/d1/b/kdgat.manifest.json"), b.ManifestPath);
        Assert.Equal(Path.Combine(root, "runs/d1/b/params.json"), b.ParamsFilePath);
        Assert.Same(s[0], Assert.Single(b.Upstreams));
        Assert.Equal([Path.Combine(root, "cache/d2")], s[2].Outputs);
        Assert.Equal([Path.Combine(root, "raw/d2"), Path.Combine(root, "extra/d2.csv")], s[2].Inputs);
    }

    /// <summary>
    /// vars that each repeat the one before ten times: 100 characters become 10^9 by v7, which took
    /// 13 GB and ended in KDG9001 (a hostile-input pass). Now a coded error at the stage's entry.
    /// </summary>
    [Fact]
    public void VarsThatMultiply_AreKdg1007AtTheStage_NotGigabytes()
    {
        var vars = "      v0: '" + new string('x', 100) + "'\n" + string.Concat(Enumerable.Range(1, 7).Select(n =>
            $"      v{n}: '{string.Concat(Enumerable.Repeat($"{{vars.v{n - 1}}}", 10))}'\n"));
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            vars:
            {{vars}}
            stages:
              a:
                command: 'run {vars.v7}'
                outputs: [o]
            """);
        var before = GC.GetTotalAllocatedBytes();
        var e = Assert.Throws<KdgException>(() => _p.Instances([new("a", [])]));
        Assert.True(GC.GetTotalAllocatedBytes() - before < 256L << 20, "rendering allocated more than 256 MB");
        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
        Assert.Contains("128 KiB", e.Message);
        Assert.EndsWith("kdgat.yaml", e.File);
        Assert.Equal(File.ReadAllLines(e.File!).ToList().FindIndex(l => l.Trim() == "a:") + 2, e.Line); // stage a's entry (its mapping starts below 'a:')
    }

    [Fact]
    public void RenderCommand_QuotesPathsAndExpandsVarsAndUpstreamAndTeacher()
    {
        var s = Instances("""
              a: { command: x, outputs: [o] }
              b: { command: '{vars.tool} --up {upstream.a} --t {teacher} --p {params_file} --lr {params.lr} {dataset}/{stage}', outputs: [o], teacher: a, params: { lr: 0.5 } }
            """, AB);
        var root = _p!.Root;

        Assert.Equal($"run-tool --root '{root}' --up '{root}/runs/d1/a' --t '{root}/runs/d1/a' --p '{root}/runs/d1/b/params.json' --lr '0.5' 'd1'/'b'", s[1].RenderCommand());
        Assert.Equal("run-tool --root '<root>' --up '<root>/runs/d1/a' --t '<root>/runs/d1/a' --p '<root>/runs/d1/b/params.json' --lr '0.5' 'd1'/'b'", s[1].RenderCommandForFingerprint());
    }

    /// <summary>
    /// {tools} without a program it names (or one without a deps.json, which may load any DLL beside
    /// it) is fingerprinted with every file below the tools folder, not its path: the word
    /// "&lt;tools&gt;" alone kept stages up to date that ran tools built from other sources
    /// (-p:KdGatSkipBootstrap=true after an edit), and the bootstrap's stamp of the sources named code
    /// MSBuild had not compiled (a source edited with an old file time; both found by review).
    /// </summary>
    [Fact]
    public void FingerprintOfAToolCommandWithoutAProgram_FollowsTheWholeFolder_NotItsPath()
    {
        string Fingerprint(string command, Action<TempDir> tools)
        {
            var s = Instances($"  a: {{ command: '{command}', outputs: [o] }}\n", [new("a", [])]);
            _p!.Dir.Write("tools/KdGat.Sample.dll", "v1");
            _p.Dir.Write("tools/KdGat.Sample.runtimeconfig.json", "{}");
            _p.Dir.Write("tools/runtimes/linux-x64/native/libx.so", "native v1");
            tools(_p.Dir);
            var text = s[0].RenderCommandForFingerprint();
            Assert.DoesNotContain(_p.ToolsDir, text);
            _p.Dispose();
            return text;
        }

        foreach (var command in new[] { "cd {tools} && ./run", "dotnet {tools}/KdGat.Sample.dll train", "cd \"{tools}\" && ./run", "dotnet \"{tools}/KdGat.Sample.dll\" train", "sh -c ''cd {tools}''" })
        {
            var plain = Fingerprint(command, _ => { });
            Assert.Equal(plain, Fingerprint(command, _ => { })); // another clone, same tools
            Assert.NotEqual(plain, Fingerprint(command, d => d.Write("tools/KdGat.Sample.dll", "v2")));
            Assert.NotEqual(plain, Fingerprint(command, d => d.Write("tools/KdGat.Sample.runtimeconfig.json", """{"rollForward":"Major"}""")));
            Assert.NotEqual(plain, Fingerprint(command, d => d.Write("tools/runtimes/linux-x64/native/libx.so", "native v2")));
            Assert.NotEqual(plain, Fingerprint(command, d => d.Write("tools/Stray.dll", "left behind")));
        }
    }

    /// <summary>
    /// {tools}/NAME.dll stands for what that program loads: the DLL, its runtimeconfig and deps.json,
    /// and the assemblies deps.json lists. A DLL it does not load (KdGat.Core for the sample, a stray
    /// copy) reruns nothing; every {tools}/NAME.dll of a command counts; {tools} without a program after
    /// it is the whole folder (found by review: a comment in KdGat.Tasks reran all 13 sample stages).
    /// </summary>
    [Fact]
    public void FingerprintOfAToolCommand_FollowsWhatTheProgramLoads()
    {
        const string deps = """{ "targets": { ".NETCoreApp,Version=v10.0": { "KdGat.Sample/1.0.0": { "runtime": { "KdGat.Sample.dll": {} }, "dependencies": { "Dep": "1.0.0" } }, "Dep/1.0.0": { "runtime": { "lib/net8.0/Dep.dll": {} }, "runtimeTargets": { "runtimes/linux-x64/native/libdep.so": { "rid": "linux-x64", "assetType": "native" } } } } } }""";
        string Fingerprint(string command, Action<TempDir> tools)
        {
            var s = Instances($"  a: {{ command: '{command}', outputs: [o] }}\n", [new("a", [])]);
            _p!.Dir.Write("tools/KdGat.Sample.dll", "sample v1");
            _p.Dir.Write("tools/KdGat.Sample.deps.json", deps);
            _p.Dir.Write("tools/KdGat.Sample.runtimeconfig.json", "{}");
            _p.Dir.Write("tools/Dep.dll", "dep v1");
            _p.Dir.Write("tools/KdGat.Core.dll", "core v1");
            _p.Dir.Write("tools/runtimes/linux-x64/native/libdep.so", "native v1");
            _p.Dir.Write("tools/source.sha256", "abc sdk 10.0.401 Debug\n");
            tools(_p.Dir);
            var text = s[0].RenderCommandForFingerprint();
            Assert.DoesNotContain(_p.ToolsDir, text);
            Assert.DoesNotContain(PipelineLayout.ToolsMarker, text);
            _p.Dispose();
            return text;
        }
        const string Sample = "dotnet {tools}/KdGat.Sample.dll train";
        var plain = Fingerprint(Sample, _ => { });

        Assert.Equal(plain, Fingerprint(Sample, d => d.Write("tools/KdGat.Core.dll", "core v2")));
        Assert.Equal(plain, Fingerprint(Sample, d => d.Write("tools/Stray.dll", "left behind")));
        Assert.Equal(plain, Fingerprint(Sample, d => d.Write("tools/source.sha256", "abd sdk 10.0.401 Debug\n"))); // what the bootstrap meant to compile; the DLLs say what runs
        Assert.NotEqual(plain, Fingerprint(Sample, d => d.Write("tools/runtimes/linux-x64/native/libdep.so", "native v2")));
        Assert.NotEqual(plain, Fingerprint(Sample, d => d.Write("tools/KdGat.Sample.dll", "sample v2")));
        Assert.NotEqual(plain, Fingerprint(Sample, d => d.Write("tools/Dep.dll", "dep v2")));
        Assert.NotEqual(plain, Fingerprint(Sample, d => d.Write("tools/KdGat.Sample.runtimeconfig.json", """{"rollForward":"Major"}""")));
        Assert.NotEqual(plain, Fingerprint(Sample, d => File.Delete(d["tools/KdGat.Sample.deps.json"]))); // the host may then load any DLL beside it
        // Another program of the folder in the same command counts too; {tools} alone is the whole folder.
        var both = Fingerprint("dotnet {tools}/KdGat.Sample.dll train && dotnet {tools}/Other.dll", _ => { });
        Assert.NotEqual(both, Fingerprint("dotnet {tools}/KdGat.Sample.dll train && dotnet {tools}/Other.dll", d => d.Write("tools/KdGat.Core.dll", "core v2")));
        // A name that does not end the shell word runs another file (x.dll,v; x.dll'.bak' from a placeholder): the whole folder.
        var odd = Fingerprint("dotnet {tools}/KdGat.Sample.dll,v", _ => { });
        Assert.NotEqual(odd, Fingerprint("dotnet {tools}/KdGat.Sample.dll,v", d => d.Write("tools/KdGat.Core.dll", "core v2")));
        // Inside the author's own quotes ("{tools}/x.dll" as Snakemake users write it) the same rules hold.
        Assert.Equal(Fingerprint("dotnet \"{tools}/KdGat.Sample.dll\" train", _ => { }), Fingerprint("dotnet \"{tools}/KdGat.Sample.dll\" train", d => d.Write("tools/KdGat.Core.dll", "core v2")));
        Assert.NotEqual(Fingerprint("dotnet \"{tools}/KdGat.Sample.dll\" train", _ => { }), Fingerprint("dotnet \"{tools}/KdGat.Sample.dll\" train", d => d.Write("tools/Dep.dll", "dep v2")));
        var quotedOdd = Fingerprint("dotnet \"{tools}/KdGat.Sample.dll\".bak", _ => { });
        Assert.NotEqual(quotedOdd, Fingerprint("dotnet \"{tools}/KdGat.Sample.dll\".bak", d => d.Write("tools/KdGat.Core.dll", "core v2")));
        var folder = Fingerprint("cd {tools} && ./run", _ => { });
        Assert.NotEqual(folder, Fingerprint("cd {tools} && ./run", d => d.Write("tools/KdGat.Core.dll", "core v2")));
    }

    [Theory]
    [InlineData("'{params.nope}'")]
    [InlineData("'{upstream.zzz}'")]
    [InlineData("'{teacher}'")]
    [InlineData("'{vars.nope}'")]
    public void Command_UnknownPlaceholder_IsKdg1007WhenInstantiated(string arg)
    {
        // commands are rendered when the pipeline loads (DependencyCheck), so this fails before anything runs
        var e = Assert.Throws<KdgException>(() => Instances($"  a: {{ command: x, outputs: [o] }}\n  b: {{ command: {arg}, outputs: [o] }}\n", AB));

        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
        Assert.StartsWith("stage 'b' command: unknown placeholder", e.Message);
    }

    /// <summary>A placeholder whose quoting cannot be told (KDG1037) is found when the command is rendered for its fingerprint: it was said at pipeline.proj (a review).</summary>
    [Fact]
    public void Command_WhereAPlaceholdersQuotingCannotBeTold_IsKdg1037AtTheCommand()
    {
        var b = Instances("  a: { command: x, outputs: [o] }\n  b: { command: 'printf %s \"${params.v}\"', params: { v: x }, outputs: [o] }\n", AB).Single(i => i.Name == "b");

        var e = Assert.Throws<KdgException>(() => b.RenderCommandForFingerprint());

        Assert.Equal(ErrorCodes.PlaceholderUnquotable, e.Code);
        Assert.Equal((_p!.ConfigFile, 10), (e.File, e.Line));
        Assert.True(e.Column > 1, e.Column.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Command_MisspeltParameter_IsKdg1007WithTheNearestPlaceholder()
    {
        var e = Assert.Throws<KdgException>(() => Instances("  a: { command: x, outputs: [o] }\n  b: { command: 'train {params.lrr}', params: { lr: 0.1 }, outputs: [o] }\n", AB));

        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
        Assert.Contains("unknown placeholder '{params.lrr}'. Did you mean 'params.lr'?", e.Message);
    }

    [Fact]
    public void Output_UnknownPlaceholder_IsKdg1007WhenInstantiated()
    {
        var e = Assert.Throws<KdgException>(() => Instances("  a: { command: x, outputs: ['{bogus}/x'] }\n", [new("a", [])]));

        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
        Assert.Contains("stage 'a' outputs", e.Message);
    }

    [Theory]
    [InlineData("'.'")]                      // the run dir itself
    [InlineData("logs")]                     // KdGat's log dir
    [InlineData("logs/x.txt")]
    [InlineData("kdgat.manifest.json")]
    [InlineData("params.json")]
    [InlineData("'{raw_dir}'")]              // raw data is never written
    [InlineData("'{raw_dir}/derived'")]
    [InlineData("'{root}/raw'")]              // contains raw data
    [InlineData("'{root}'")]
    [InlineData("'{root}/extra'")]            // a declared input
    public void Output_OverlappingRawInputOrRunDir_IsKdg1204(string output)
    {
        var e = Assert.Throws<KdgException>(() => Instances($"  a: {{ command: x, inputs: [extra], outputs: [{output}] }}\n", [new("a", [])]));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal(9, e.Line);
    }

    [Fact]
    public void Output_SameAsAnotherStagesOutput_IsKdg1204()
    {
        var e = Assert.Throws<KdgException>(() => Instances("""
              a: { command: x, outputs: ['{cache_dir}'] }
              b: { command: x, outputs: ['{cache_dir}/graphs'] }
            """, AB));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Contains("d1/a", e.Message);
    }

    /// <summary>Two points of one swept stage writing one cache path: the hint is {variant} ({dataset} was named, which does not tell them apart).</summary>
    [Fact]
    public void Output_SharedAcrossSweepPoints_IsKdg1204NamingVariant()
    {
        var e = Assert.Throws<KdgException>(() => Instances("  a: { command: x, outputs: ['{cache_dir}/graphs'], sweep: { seed: [0, 1] } }\n", [new("a", [])]));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Contains("{variant}", e.Message);
        Assert.DoesNotContain("{dataset}", e.Message);
    }

    [Fact]
    public void Output_SharedAcrossDatasets_IsKdg1204()
    {
        // A cache path without {dataset}: preprocess of every dataset would write the same directory.
        var e = Assert.Throws<KdgException>(() => Instances("  a: { command: x, outputs: ['{cache_dir}'] }\n", [new("a", [])], "[d1, d2]", cache: "cache/shared"));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Contains("dataset d1", e.Message);
    }

    [Fact]
    public void Output_InsideAnotherStagesRunDir_IsKdg1204()
    {
        var e = Assert.Throws<KdgException>(() => Instances("""
              a: { command: x, outputs: [o] }
              b: { command: x, outputs: ['{upstream.a}/extra.txt'] }
            """, AB));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
    }

    [Theory]
    [InlineData("'../escape'")]
    [InlineData("'/etc/passwd'")]
    [InlineData("'~/x'")]
    public void Output_EscapingTheRunDirLiterally_IsKdg1204AtLoad(string output)
    {
        var e = Assert.Throws<KdgException>(() => Instances($"  a: {{ command: x, outputs: [{output}] }}\n", [new("a", [])]));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Equal(9, e.Line);
    }

    /// <summary>An error about one declared path points at that path's entry (an IDE's error list opens the line to fix), not at the stage.</summary>
    [Theory]
    [InlineData("inputs", "'{nope}/x'", ErrorCodes.UnknownPlaceholder)]
    [InlineData("outputs", "'{nope}/x'", ErrorCodes.UnknownPlaceholder)]
    [InlineData("optional_outputs", "'{nope}/x'", ErrorCodes.UnknownPlaceholder)]
    [InlineData("outputs", "'{raw_dir}/x'", ErrorCodes.UnsafeOutputPath)]
    [InlineData("optional_outputs", "'{raw_dir}/x'", ErrorCodes.UnsafeOutputPath)]
    public void AnErrorInOneDeclaredPath_IsAtItsEntry(string key, string bad, string code)
    {
        string[] stage =
        [
            "  a:",
            "    command: x",
            $"    {key}:",
            $"      - {(key == "inputs" ? "'{raw_dir}'" : "ok")}",
            $"      - {bad}", // line 13 of the configuration, the value at column 9
            key == "inputs" ? "    outputs: [o]" : "    inputs: ['{raw_dir}']",
            .. key == "optional_outputs" ? ["    outputs: [o]"] : Array.Empty<string>(),
        ];

        var e = Assert.Throws<KdgException>(() => Instances(string.Join("\n", stage) + "\n", [new("a", [])]));

        Assert.Equal(code, e.Code);
        Assert.Equal((_p!.ConfigFile, 13, 9), (e.File, e.Line, e.Column));
    }
    [Fact]
    public void AnUnknownPlaceholderInTheCommand_IsKdg1007AtTheCommand()
    {
        var e = Assert.Throws<KdgException>(() => Instances("  a:\n    outputs: [o]\n    command: 'x {nope}'\n", [new("a", [])]));

        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
        Assert.Equal((_p!.ConfigFile, 11, 14), (e.File, e.Line, e.Column));
    }
}
