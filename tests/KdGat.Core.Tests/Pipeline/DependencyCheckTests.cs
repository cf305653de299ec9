using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Config;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

/// <summary>A stage naming another stage's outputs must need it directly (KDG1011), checked when the pipeline loads.</summary>
[Trait("Category", "Unit")]
public sealed class DependencyCheckTests : IDisposable
{
    private TestPipeline? _p;
    public void Dispose() => _p?.Dispose();

    private IReadOnlyList<StageInstance> Load(string stagesYaml, params StageDeclaration[] decl)
    {
        _p = new TestPipeline($$"""
            datasets: [d1, d2]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
            {{stagesYaml}}
            """);
        return _p.Instances(decl);
    }

    private KdgException Refused(string stagesYaml, params StageDeclaration[] decl) =>
        Assert.Throws<KdgException>(() => Load(stagesYaml, decl));

    /// <summary>Loads only dataset d2 (-p:Dataset=d2): d1 is configured but not instantiated.</summary>
    private IReadOnlyList<StageInstance> LoadD2(string stagesYaml, params StageDeclaration[] decl)
    {
        _p = new TestPipeline($$"""
            datasets: [d1, d2]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
            {{stagesYaml}}
            """);
        return _p.Instances(decl, "d2");
    }

    private const string Prep = "  prep: { command: x, outputs: ['{cache_dir}'] }\n";

    [Fact]
    public void CacheDir_WithoutNeedingItsWriter_IsKdg1011NamingBothStagesLineAndFix()
    {
        var e = Refused(Prep + "  train: { command: 'fit --cache {cache_dir}', outputs: [m] }\n", new("prep", []), new("train", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'train'", e.Message);
        Assert.Contains("stage 'prep'", e.Message);
        Assert.Contains("cache/d1", e.Message);
        Assert.Contains("Add 'prep' to the Needs of stage 'train' in pipeline.proj (Needs=\"...;prep\"), and the target that declares that stage", e.Message);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal(5, e.Line);
    }

    /// <summary>
    /// A file in a needed stage's run dir that it does not declare: the fingerprint has only declared
    /// outputs, so a rerun of train that changed model.json alone left eval up to date (a user review).
    /// </summary>
    [Theory]
    [InlineData("eval --model {upstream.train}/model.json", "")]
    [InlineData("eval ../train/model.json", "")]
    [InlineData("eval {upstream.train}/model.json", ", sweep: { seed: [0, 1] }")] // a run dir of a point: seed=0
    public void AFileInANeededRunDir_ItDoesNotDeclare_IsKdg1042AtTheCommand(string command, string sweep)
    {
        var e = Refused($$"""
              train: { command: x, outputs: [log.txt, sub/other.txt]{{sweep}} }
              eval: { command: '{{command}}', outputs: [m] }
            """, new("train", []), new("eval", ["train"]));

        Assert.Equal(ErrorCodes.UndeclaredUpstreamFile, e.Code);
        Assert.Contains("stage 'eval'", e.Message);
        Assert.Contains("model.json", e.Message);
        Assert.Contains("to the outputs: (or optional_outputs:) of stage 'train'", e.Message);
        Assert.Equal((_p!.ConfigFile, 5), (e.File, e.Line));
    }

    /// <summary>A swept upstream, and a cd into its point's run dir before naming its declared file (a review found it refused).</summary>
    [Fact]
    public void ASweptUpstreamsDeclaredFile_AfterACdIntoIt_Loads() =>
        Assert.Equal(8, Load("""
              train: { command: x, outputs: [a.pt], sweep: { seed: [0, 1] } }
              eval: { command: 'cd {upstream.train} && eval {upstream.train}/a.pt > {run_dir}/m', outputs: [m] }
            """, new("train", []), new("eval", ["train"])).Count);

    /// <summary>What the fingerprint has, or what names it: declared outputs, a file in a declared folder, the run dir, a folder above outputs, params.json, a prefix of outputs' names, a glob.</summary>
    [Theory]
    [InlineData("eval {upstream.train}/model.json")]
    [InlineData("eval {upstream.train}/ckpt/best.pt")]
    [InlineData("eval {upstream.train}")]
    [InlineData("eval {upstream.train}/sub")]
    [InlineData("eval {upstream.train}/params.json")]
    [InlineData("eval --prefix {upstream.train}/mod")]
    [InlineData("eval {upstream.train}/*.json")]
    [InlineData("eval {run_dir}/scratch.txt")]
    [InlineData("cd {upstream.train} && eval model.json > \"$OLDPWD/m\"")]
    // Words that are not a path the program is handed for sure (a review found them refused): a list, a flag
    // after a cd, a sed expression after a cd (read from every folder a cd may have gone to), a point's run dir after a cd.
    [InlineData("eval --models {upstream.train}/model.json,{upstream.train}/ckpt/a.pt --out {run_dir}/m")]
    [InlineData("cd {upstream.train} && eval --model=model.json --out={run_dir}/m")]
    [InlineData("cd {upstream.train} && sed s/x/y/ model.json > {run_dir}/m")]
    [InlineData("cd {upstream.train} && eval sub/undeclared.txt")] // not asked: read from a cd's folder (-t:Audit sees it)
    public void WhatANeededStageDeclares_Loads(string command) =>
        Assert.Equal(4, Load($$"""
              train: { command: x, outputs: [model.json, ckpt/, sub/a.txt] }
              eval: { command: '{{command}}', outputs: [m] }
            """, new("train", []), new("eval", ["train"])).Count);

    [Fact]
    public void CacheDir_WithItsWriterNeeded_Loads() =>
        Assert.Equal(4, Load(Prep + "  train: { command: 'fit --cache {cache_dir}', outputs: [m] }\n", new("prep", []), new("train", ["prep"])).Count);

    [Fact]
    public void CacheDir_NeededOnlyTransitively_IsKdg1011()
    {
        var e = Refused(Prep + """
              vgae: { command: 'fit {cache_dir}', outputs: [m] }
              gat: { command: 'fit {cache_dir} {upstream.vgae}', outputs: [m] }
            """, new("prep", []), new("vgae", ["prep"]), new("gat", ["vgae"]));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'gat'", e.Message);
        Assert.Contains("'prep'", e.Message);
    }

    [Fact]
    public void UpstreamPlaceholder_OfAStageNotInNeeds_IsKdg1011AtLoad()
    {
        var e = Refused("""
              a: { command: x, outputs: [m] }
              b: { command: x, outputs: [m] }
              c: { command: 'use {upstream.a}', outputs: [m] }
            """, new("a", []), new("b", []), new("c", ["b"]));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("{upstream.a}", e.Message);
        Assert.Contains("the Needs of stage 'c'", e.Message);
    }

    [Fact]
    public void UpstreamPlaceholder_OfNoStage_IsKdg1007AtLoad()
    {
        var e = Refused("  a: { command: 'use {upstream.zzz}', outputs: [m] }\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
    }

    [Fact]
    public void Input_InsideAnotherStagesRunDir_IsKdg1011()
    {
        var e = Refused("""
              a: { command: x, outputs: [model.ckpt] }
              b:
                command: x
                inputs:
                  - 'raw/{dataset}'
                  - 'runs/{dataset}/a/model.ckpt'
                outputs: [m]
            """, new("a", []), new("b", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("its inputs names 'runs/d1/a/model.ckpt'", e.Message);
        Assert.Equal((_p!.ConfigFile, 9, 9), (e.File, e.Line, e.Column)); // that input's entry, not "  b:"
    }

    /// <summary>
    /// Setup lines run before the command in the same shell: what they read counts as the command's
    /// reads. A review found `cp ../a/model.ckpt .` in setup unchecked, and the stage up to date for
    /// good after a changed; a `cd` there moves the command's relative words too.
    /// </summary>
    [Theory]
    [InlineData("['cp ../a/model.ckpt teacher.ckpt']", "x")]
    [InlineData("['cd ../a']", "cat ./model.ckpt")]
    // Read although the line starts like an environment line (a review: both were passed over whole).
    [InlineData("[\"module load foo/1.0\\ncp ../a/model.ckpt teacher.ckpt\"]", "x")]
    [InlineData("['conda run -n base cp ../a/model.ckpt teacher.ckpt']", "x")]
    [InlineData("['micromamba run -n torch cp ../a/model.ckpt teacher.ckpt']", "x")]
    public void SetupReadingAnotherStagesOutput_IsKdg1011(string setup, string command)
    {
        var e = Refused($$"""
              a: { command: x, outputs: [model.ckpt] }
              b: { command: '{{command}}', setup: {{setup}}, outputs: [m] }
            """, new("a", []), new("b", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'a'", e.Message);
        Assert.Equal(4, Load($$"""
              a: { command: x, outputs: [model.ckpt] }
              b: { command: '{{command}}', setup: {{setup}}, outputs: [m] }
            """, new("a", []), new("b", ["a"])).Count);
    }

    [Fact]
    public void SetupReadingRawData_WithoutAnInput_IsKdg1039NamingTheSetup()
    {
        var e = Refused("  a: { command: x, setup: ['cp {root}/raw/d1/frames.csv .', 'cp ../../../raw/d1/frames.csv .'], outputs: [m] }\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("a line of its setup names 'raw/d1/frames.csv'", e.Message);
    }

    [Fact]
    public void OrdinarySetupLines_Load() =>
        Assert.Equal(2, Load("  a: { command: 'python train.py --out model.ckpt', setup: ['module load cuda/12.1', 'source /opt/venv/bin/activate', 'export OMP_NUM_THREADS=4'], outputs: [model.ckpt] }\n", new StageDeclaration("a", [])).Count);

    /// <summary>
    /// A review: an input through a symbolic link into another stage's run dir (data/vl -> that run
    /// dir) passed the textual check, and the stage stayed up to date when that output changed. Where
    /// the link leads is checked too, also before the upstream ever ran (the link dangles then), and
    /// through a glob; a link to data of its own stays fine.
    /// </summary>
    [Theory]
    [InlineData("data/vl/model.ckpt", true)]
    [InlineData("data/vl/model.ckpt", false)]
    [InlineData("data/vl/*.ckpt", true)]
    [InlineData("data/model-link.ckpt", true)]
    public void AnInputThroughASymlinkIntoAnotherStagesRunDir_IsKdg1011(string input, bool upstreamRan)
    {
        const string stages = """
              a: { command: x, outputs: [model.ckpt] }
              b: { command: x, inputs: ['INPUT'], outputs: [m] }
            """;
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
            {{stages.Replace("INPUT", input)}}
            """);
        var e = LinkedIntoAsRunDir(upstreamRan);

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("which a symbolic link on its way leads to", e.Message);
        Assert.Contains("stage 'a'", e.Message);
        var line = File.ReadAllLines(_p.ConfigFile).Select((l, i) => (Line: i + 1, Column: l.IndexOf($"'{input}'", StringComparison.Ordinal) + 1)).Single(p => p.Column > 0);
        Assert.Equal(line, (e.Line, e.Column)); // at the input that leads there
        Assert.Equal(2, _p.Instances([new StageDeclaration("a", []), new StageDeclaration("b", ["a"])]).Count);
    }

    /// <summary>
    /// Runs linked to scratch space (a cluster's usual layout): a word naming the scratch folder above
    /// them (export SCRATCH=...) is not a read of every stage (a review: it was KDG1011 once owners were
    /// known by their resolved paths too), and an input linked into another dataset's run dir through
    /// that folder is still KDG1038.
    /// </summary>
    [Fact]
    public void RunsLinkedToScratch_TheScratchFolderIsNoRead_AndAnotherDatasetsRunDirThroughItIsKdg1038()
    {
        using var scratch = new TempDir();
        Directory.CreateDirectory(scratch["runs"]);
        const string stages = """
              a: { command: x, outputs: [model.ckpt] }
              b: { command: 'export SCRATCH=SCR; x', setup: ['cd SCR', 'mkdir -p SCR/tmp'], outputs: [m] }
            """;
        _p = new TestPipeline($$"""
            datasets: [d1, d2]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
            {{stages.Replace("SCR", scratch.Path)}}
            """);
        if (Directory.Exists(_p.Dir["runs"])) Directory.Delete(_p.Dir["runs"], recursive: true);
        Directory.CreateSymbolicLink(_p.Dir["runs"], scratch["runs"]);
        StageDeclaration[] decl = [new("a", []), new("b", [])];

        Assert.Equal(4, _p.Instances(decl).Count);

        Directory.CreateDirectory(_p.Dir["data"]);
        File.CreateSymbolicLink(_p.Dir["data/other"], "../runs/d2/a");
        _p.WriteConfig(File.ReadAllText(_p.ConfigFile).Replace("outputs: [m] }", "inputs: ['data/other'], outputs: [m] }", StringComparison.Ordinal));
        var e = Assert.Throws<KdgException>(() => _p.Instances(decl));
        Assert.Equal(ErrorCodes.CrossDatasetRead, e.Code);
    }

    [Theory]
    [InlineData("['cd ..', 'module load cuda/12.1', 'conda activate envs/torch']")]
    // Output thrown away, and a '|' entry of module lines only (a review: both were read as paths, a false KDG1011).
    [InlineData("['cd ..', 'module load cuda/12.1 2>/dev/null', 'module load gcc/12 > /dev/null 2>&1']")]
    [InlineData("['cd ..', \"module load cuda/12.1\\nmodule load gcc/12\\n\"]")]
    public void ASweptStageWhoseSetupGoesUpAndLoadsModules_Loads(string setup) =>
        Assert.Equal(4, Load($"  gat: {{ command: 'python train.py', setup: {setup}, sweep: {{ seed: [0, 1] }}, outputs: [model.ckpt] }}\n",
            new StageDeclaration("gat", [])).Count);

    /// <summary>data/vl, a link to stage a's run dir, and data/model-link.ckpt to its model (also before a first ran); then b's load, without a in its Needs.</summary>
    private KdgException LinkedIntoAsRunDir(bool upstreamRan)
    {
        Directory.CreateDirectory(_p!.Dir["data"]);
        if (upstreamRan) { Directory.CreateDirectory(_p.Dir["runs/d1/a"]); File.WriteAllText(_p.Dir["runs/d1/a/model.ckpt"], "w"); }
        File.CreateSymbolicLink(_p.Dir["data/vl"], "../runs/d1/a");
        File.CreateSymbolicLink(_p.Dir["data/model-link.ckpt"], "../runs/d1/a/model.ckpt");
        return Assert.Throws<KdgException>(() => _p.Instances([new StageDeclaration("a", []), new StageDeclaration("b", [])]));
    }

    /// <summary>
    /// A word of the command or setup through a link: `cat {root}/data/vl/model.ckpt` with data/vl a link into
    /// another stage's run dir read that model unfingerprinted, the stage up to date for good after it changed
    /// (a review; only -t:Audit saw it). The error is at the command or setup line.
    /// </summary>
    [Theory]
    [InlineData("command", "cat {root}/data/vl/model.ckpt", true)]
    [InlineData("command", "cat {root}/data/vl/model.ckpt", false)]
    [InlineData("command", "python x.py --model ../../../data/model-link.ckpt", true)]
    [InlineData("command", "ls {root}/data/vl", true)]
    [InlineData("setup", "cp ../../../data/vl/model.ckpt .", true)]
    public void AWordThroughASymlinkIntoAnotherStagesRunDir_IsKdg1011(string where, string text, bool upstreamRan)
    {
        var b = where == "command" ? $"command: '{text}'" : $"command: x, setup: ['{text}']";
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: x, outputs: [model.ckpt] }
              b: { {{b}}, outputs: [m] }
            """);
        var e = LinkedIntoAsRunDir(upstreamRan);

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains($"its {where} names", e.Message);
        Assert.Contains("which a symbolic link on its way leads to 'runs/d1/a", e.Message);
        Assert.Contains("stage 'a'", e.Message);
        var line = File.ReadAllLines(_p.ConfigFile).Select((l, i) => (Line: i + 1, Text: l)).Single(l => l.Text.Contains("  b: ", StringComparison.Ordinal));
        Assert.Equal(line.Line, e.Line);
        Assert.Equal(line.Text.IndexOf(where == "command" ? "command:" : "setup:", StringComparison.Ordinal) + 1 + (where == "command" ? "command: ".Length : "setup: ".Length), e.Column);
        Assert.Equal(2, _p.Instances([new StageDeclaration("a", []), new StageDeclaration("b", ["a"])]).Count);
    }

    /// <summary>A word through a link to data of its own, or to another dataset's run dir (KDG1038).</summary>
    [Fact]
    public void AWordThroughASymlink_ToDataOfItsOwnLoads_ToAnotherDatasetsRunDirIsKdg1038()
    {
        _p = new TestPipeline("""
            datasets: [d1, d2]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: x, outputs: [model.ckpt] }
              b: { command: 'cat {root}/data/shared/labels.csv', outputs: [m] }
            """);
        Directory.CreateDirectory(_p.Dir["elsewhere"]);
        File.WriteAllText(_p.Dir["elsewhere/labels.csv"], "x");
        Directory.CreateDirectory(_p.Dir["data"]);
        File.CreateSymbolicLink(_p.Dir["data/shared"], "../elsewhere");
        StageDeclaration[] decl = [new("a", []), new("b", ["a"])];

        Assert.Equal(4, _p.Instances(decl).Count);

        File.Delete(_p.Dir["data/shared"]);
        File.CreateSymbolicLink(_p.Dir["data/shared"], "../runs/d2/a");
        Assert.Equal(ErrorCodes.CrossDatasetRead, Assert.Throws<KdgException>(() => _p.Instances(decl)).Code);
    }

    [Fact]
    public void AnInputThroughASymlinkToDataOfItsOwn_Loads()
    {
        _p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              b: { command: x, inputs: ['data/shared/labels.csv'], outputs: [m] }
            """);
        Directory.CreateDirectory(_p.Dir["elsewhere"]);
        File.WriteAllText(_p.Dir["elsewhere/labels.csv"], "x");
        Directory.CreateDirectory(_p.Dir["data"]);
        File.CreateSymbolicLink(_p.Dir["data/shared"], "../elsewhere");

        Assert.Single(_p.Instances([new StageDeclaration("b", [])]));
    }

    /// <summary>A runs folder linked to scratch space: an input naming a run dir there directly is known as the stage's output.</summary>
    [Fact]
    public void AnInputNamingARunDirThroughTheResolvedRunsFolder_IsKdg1011()
    {
        _p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: x, outputs: [model.ckpt] }
              b: { command: x, inputs: ['SCRATCH/d1/a/model.ckpt'], outputs: [m] }
            """.Replace("SCRATCH", "scratch-runs"));
        Directory.CreateDirectory(_p.Dir["scratch-runs"]);
        if (Directory.Exists(_p.Dir["runs"])) Directory.Delete(_p.Dir["runs"], recursive: true);
        Directory.CreateSymbolicLink(_p.Dir["runs"], _p.Dir["scratch-runs"]);

        var e = Assert.Throws<KdgException>(() => _p.Instances([new StageDeclaration("a", []), new StageDeclaration("b", [])]));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
    }

    [Fact]
    public void CommandWord_UnderAnotherStagesOutput_IsKdg1011()
    {
        // a hard-coded path built from {root} (as pipelines that find their data themselves do)
        var e = Refused(Prep + "  eval: { command: 'score --graphs={root}/cache/{dataset}/graphs.bin', outputs: [m] }\n", new("prep", []), new("eval", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("'cache/d1/graphs.bin'", e.Message);
    }

    /// <summary>
    /// Commands run in the run dir, so "../a/model.ckpt" is another stage's output as much as its
    /// absolute path is: only absolute words were looked at, and an evaluation reading
    /// ../dqn_small_fusion without needing it stayed up to date when that changed (found by review).
    /// </summary>
    [Theory]
    [InlineData("score --model ../a/model.ckpt")]
    [InlineData("score --model=../a")]
    [InlineData("cat ../../../cache/{dataset}/x")]
    public void RelativeCommandWord_UnderAnotherStagesOutput_IsKdg1011(string command)
    {
        var e = Refused($$"""
              a: { command: x, outputs: [model.ckpt, '{cache_dir}'] }
              b: { command: '{{command}}', outputs: [m] }
            """, new("a", []), new("b", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'a'", e.Message);
    }

    [Fact]
    public void RelativeCommandWords_InsideTheOwnRunDir_OrURLs_AreNoDependency() =>
        Assert.Equal(4, Load("""
              a: { command: x, outputs: [model.ckpt] }
              b: { command: 'fetch https://example.org/a/model.ckpt ./sub/x logs/y ~/a/b', outputs: [m] }
            """, new("a", []), new("b", [])).Count);

    [Fact]
    public void OutputOutsideTheRunDir_CountsAsThatStagesOutput()
    {
        var e = Refused("""
              a: { command: x, outputs: ['{cache_dir}/shared'] }
              b: { command: 'cat {root}/cache/{dataset}/shared/x', outputs: [m] }
            """, new("a", []), new("b", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'a'", e.Message);
    }

    [Fact]
    public void OwnPathsRawDataAndRoot_AreNoDependency() =>
        Assert.Equal(2, Load("  a: { command: 'run {root} {raw_dir} {run_dir}/x {params_file} {cache_dir}', inputs: ['{raw_dir}'], outputs: ['{cache_dir}', m] }\n",
            new StageDeclaration("a", [])).Count);

    private const string Swept = "  sx: { command: x, outputs: [out.txt], sweep: { seed: [0, 1] } }\n";

    [Fact]
    public void AnotherPointOfANeededStage_IsKdg1011_ForTheInstancesThatDoNotDependOnIt()
    {
        // sy (seed=1) depends on sx (seed=1) only; seed=0 of sx is another instance.
        var e = Refused(Swept + "  sy: { command: 'cat ../../sx/seed=0/out.txt {upstream.sx}/out.txt', outputs: [all.txt] }\n", new("sx", []), new("sy", ["sx"]));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'sy' (seed=1)", e.Message);
        Assert.Contains("stage 'sx' (seed=0)", e.Message);
        Assert.Contains("-t:Compare", e.Message);
        Assert.DoesNotContain("to Needs", e.Message); // sx is needed already: Needs is not the fix
    }

    [Fact]
    public void AnotherPointOfTheSameStage_IsKdg1011()
    {
        var e = Refused("  sz: { command: 'cat ../seed=0/z.txt > z.txt', outputs: [z.txt], sweep: { seed: [0, 1] } }\n", new StageDeclaration("sz", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'sz' (seed=1)", e.Message);
        Assert.Contains("stage 'sz' (seed=0)", e.Message);
    }

    [Theory]
    [InlineData("cat ../sx/*/out.txt")]
    [InlineData("ls {root}/runs/{dataset}/sx")]
    public void TheFolderAboveASweptStagesPoints_ReadsEveryPoint_IsKdg1011(string command)
    {
        var e = Refused(Swept + $"  sw: {{ command: '{command}', outputs: [agg.txt] }}\n", new("sx", []), new("sw", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'sx' (seed=0)", e.Message);
        Assert.Contains("stage 'sx' (seed=1)", e.Message);
        Assert.Contains("Add 'sx' to the Needs of stage", e.Message);
    }

    /// <summary>
    /// Pieces of a word between '=' and ',' were never checked against the folder above a swept
    /// stage's points (so that "../seed" of "../seed=0,lr=0.1" is not read as one): an aggregation
    /// passed "--runs=../sx,x" loaded without needing sx, and stayed up to date, with one point's
    /// output, after sx ran again (reproduced with -t:Evaluate on a copied pipeline).
    /// </summary>
    [Theory]
    [InlineData("agg --runs=../sx,x")]
    [InlineData("agg {root}/runs/{dataset}/sx,other")]
    public void TheFolderAboveASweptStagesPoints_BeforeAComma_IsKdg1011(string command)
    {
        var e = Refused(Swept + $"  sw: {{ command: '{command}', outputs: [agg.txt] }}\n", new("sx", []), new("sw", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'sx' (seed=0)", e.Message);
        Assert.Contains("stage 'sx' (seed=1)", e.Message);
        Assert.Contains("Add 'sx' to the Needs of stage", e.Message);
    }

    [Theory]
    [InlineData("fit --caches={root}/cache/{dataset},x")]
    [InlineData("fit {root}/cache/{dataset},x")]
    [InlineData("fit --caches={root}/cache/{dataset},{root}/y")]
    [InlineData("fit a=b,{root}/cache/{dataset},x")]
    public void APathBeforeAComma_IsStillChecked(string command)
    {
        var e = Refused(Prep + $"  train: {{ command: '{command}', outputs: [m] }}\n", new("prep", []), new("train", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'prep'", e.Message);
    }

    [Fact]
    public void AWordOfOnlySeparators_LoadsWithoutCopyingItOverAndOver()
    {
        var word = string.Concat(Enumerable.Repeat("/,", 30_000)); // 60 KB, 30,000 commas and folders: suffixes of it, each walked folder by folder, were minutes
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(2, Load($"  a: {{ command: 'x {word}', outputs: [m] }}\n", new StageDeclaration("a", [])).Count);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), sw.Elapsed.ToString());
    }

    [Fact]
    public void AnOptionWhosePathGoesUp_IsReadFromAfterTheEquals_NotAsOneWord() =>
        // As one word, "--data=../../../prep/out" would climb out of "--data=.." into runs/d1/prep (another stage's run dir).
        Assert.Equal(4, Load("""
              prep: { command: x, outputs: [out] }
              fit: { command: 'fit --data=../../../prep/out', outputs: [m] }
            """, new("prep", []), new("fit", [])).Count);

    [Fact]
    public void ALiteralPathToAPointsRunDir_IsCheckedWhole_NotByItsPiecesBeforeEqualsAndCommas()
    {
        // From seed=0,lr=0.1 its own run dir; from the other points another point's: only those are refused.
        var e = Refused("  sz: { command: 'cat ../seed=0,lr=0.1/z.txt,x > z.txt', outputs: [z.txt], sweep: { seed: [0, 1], lr: [0.1] } }\n", new StageDeclaration("sz", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'sz' (seed=1,lr=0.1) reads", e.Message);
        Assert.Contains("stage 'sz' (seed=0,lr=0.1)", e.Message);
    }

    [Fact]
    public void UpstreamRunDirsOfSweptPoints_AreOneWordEachThoughTheyHoldEqualsAndCommas() =>
        Assert.Equal(16, Load("""
              sx: { command: x, outputs: [out.txt], sweep: { seed: [0, 1], lr: [0.1, 0.2] } }
              sy: { command: 'fit --from={upstream.sx} {upstream.sx}/out.txt', outputs: [m] }
            """, new("sx", []), new("sy", ["sx"])).Count); // 2 datasets x 4 points x 2 stages

    [Fact]
    public void RepositoryPipeline_Loads_AndWithoutPreprocessInNeeds_IsKdg1011()
    {
        var root = ConfigLoaderTests.RepoRoot();
        var config = ConfigLoader.Load(Path.Combine(root, "kdgat.yaml"), root);
        var declared = KdGatGraph.Declared(Path.Combine(root, "pipeline.proj"));
        var layout = new PipelineLayout(config, Path.Combine(root, ".kdgat", "tools"));

        Assert.Equal(13, layout.Instantiate(StageGraph.Build(declared, config, "pipeline.proj"), ["hcrl_sa"]).Count);

        // the DAG before issue 11: GAT, DQN and evaluation read {cache_dir} without needing preprocess
        var old = declared.Select(d => d.Name.StartsWith("vgae", StringComparison.Ordinal) ? d : d with { Needs = d.Needs.Where(n => n != "preprocess").ToArray() }).ToArray();
        var e = Assert.Throws<KdgException>(() => layout.Instantiate(StageGraph.Build(old, config, "pipeline.proj"), ["hcrl_sa"]));
        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'gat_large_curriculum'", e.Message);
    }

    // Another dataset's outputs (KDG1038): no Needs names a stage of another dataset, so they are never in the fingerprint.

    /// <summary>
    /// An evaluation of dataset d2 passed d1's graph cache loaded, and stayed up to date after d1's
    /// preprocess ran again (found by review): the owners were only the selected dataset's instances.
    /// d1 is configured but not selected here, so nothing of it is instantiated.
    /// </summary>
    [Theory]
    [InlineData("evaluate --cache {root}/cache/d1 --out {run_dir}", "'cache/d1'", "in the cache dir of dataset d1")]
    [InlineData("evaluate --model=../../d1/prep/m", "'runs/d1/prep/m'", "in the runs of dataset d1")]
    [InlineData("ls {root}/runs", "'runs'", "above the runs of dataset d1")]
    [InlineData("cat {root}/runs/*/prep/m", "'runs/*/prep/m'", "above the runs of dataset d1")]
    public void AnotherDatasetsOutputs_AreKdg1038_EvenWhenThatDatasetIsNotSelected(string command, string named, string where)
    {
        var e = Assert.Throws<KdgException>(() => LoadD2(Prep + $"  eval: {{ command: '{command}', outputs: [m] }}\n", new("prep", []), new("eval", ["prep"])));

        Assert.Equal(ErrorCodes.CrossDatasetRead, e.Code);
        Assert.Contains("stage 'eval' of dataset 'd2' reads the outputs of dataset 'd1'", e.Message);
        Assert.Contains($"its command names {named}", e.Message);
        Assert.Contains(where, e.Message);
        Assert.Contains("-t:Compare", e.Message);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void AnInputInAnotherDatasetsRunDir_IsKdg1038()
    {
        var e = Assert.Throws<KdgException>(() => LoadD2("  a: { command: x, inputs: ['runs/d1/a/model.ckpt'], outputs: [m] }\n", new StageDeclaration("a", [])));

        Assert.Equal(ErrorCodes.CrossDatasetRead, e.Code);
        Assert.Contains("its inputs names 'runs/d1/a/model.ckpt'", e.Message);
    }

    [Fact]
    public void TheOwnDatasetsCacheDir_ByItsLiteralPath_IsNoCrossDatasetRead() =>
        Assert.Equal(2, LoadD2(Prep + "  eval: { command: 'evaluate --cache {root}/cache/d2', outputs: [m] }\n", new("prep", []), new("eval", ["prep"])).Count);

    // Above other stages' outputs: a folder or a glob's literal base reads what lies below it.

    [Theory]
    [InlineData("cat {root}/runs/{dataset}/eval_*/metrics.json")]
    [InlineData("cat ../eval_*/metrics.json")]
    [InlineData("ls {root}/runs/{dataset}")]
    [InlineData("agg --runs=..")] // "..": no '/', not a word read as a path; "--runs=.." neither
    public void AFolderOrGlobAboveOtherStagesOutputs_IsKdg1011(string command)
    {
        var yaml = """
              eval_a: { command: x, outputs: [metrics.json] }
              eval_b: { command: x, outputs: [metrics.json] }
            """ + $"\n  summary: {{ command: '{command}', outputs: [all.json] }}\n";
        if (command.EndsWith("..", StringComparison.Ordinal))
        {
            Assert.Equal(6, Load(yaml, new("eval_a", []), new("eval_b", []), new("summary", [])).Count);
            return;
        }
        var e = Refused(yaml, new("eval_a", []), new("eval_b", []), new("summary", ["eval_a"]));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("stage 'summary' reads", e.Message);
        Assert.Contains("an output of stage 'eval_b'", e.Message);
        Assert.DoesNotContain("stage 'eval_a'", e.Message); // needed
        Assert.Contains("Add 'eval_b' to the Needs of stage 'summary'", e.Message);
    }

    [Fact]
    public void AGlobAboveOtherStagesOutputs_WithEveryOneNeeded_Loads() =>
        Assert.Equal(6, Load("""
              eval_a: { command: x, outputs: [metrics.json] }
              eval_b: { command: x, outputs: [metrics.json] }
              summary: { command: 'cat {root}/runs/{dataset}/eval_*/metrics.json ../eval_*/metrics.json > all.json', outputs: [all.json] }
            """, new("eval_a", []), new("eval_b", []), new("summary", ["eval_a", "eval_b"])).Count);

    [Fact]
    public void TheRootAndFoldersAboveIt_AreNoReadOfWhatLiesBelow() =>
        // cd {root} makes a package importable; / and the temp dir lie above every pipeline in them.
        Assert.Equal(4, Load($"  a: {{ command: x, outputs: [m] }}\n  b: {{ command: 'cd {{root}} && run / {Path.GetTempPath()} {{root}}/ --out {{run_dir}}', outputs: [m] }}\n",
            new("a", []), new("b", [])).Count);

    // Relative words after cd: read from the run dir and from every folder a cd before them names.

    [Theory]
    [InlineData("cd {root} && cat runs/{dataset}/a/model.ckpt")]
    [InlineData("cd {root}/src; cd .. && cat runs/{dataset}/a/model.ckpt")]
    [InlineData("cd -P {root} && score --model=runs/{dataset}/a")]
    [InlineData("pushd {root}/src && cat ../runs/{dataset}/a/model.ckpt")]
    public void ARelativeWordAfterCd_UnderAnotherStagesOutput_IsKdg1011(string command)
    {
        var e = Refused($"  a: {{ command: x, outputs: [model.ckpt] }}\n  b: {{ command: '{command}', outputs: [m] }}\n", new("a", []), new("b", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
        Assert.Contains("an output of stage 'a'", e.Message);
    }

    [Fact]
    public void ARelativeWordAfterCd_InAnotherDataset_IsKdg1038()
    {
        var e = Assert.Throws<KdgException>(() => LoadD2(Prep + "  eval: { command: 'cd {root} && evaluate --cache cache/d1', outputs: [m] }\n", new("prep", []), new("eval", ["prep"])));

        Assert.Equal(ErrorCodes.CrossDatasetRead, e.Code);
        Assert.Contains("'cache/d1'", e.Message);
    }

    /// <summary>cd reads nothing: "cd .." from the run dir is the dataset's runs folder, above every stage, and "cd ../.." every dataset's (a review found both refused).</summary>
    [Theory]
    [InlineData("cd .. && python {root}/src/train.py --out {run_dir}/m")]
    [InlineData("cd ../.. && ls")]
    public void ACdUpwards_ReadsNothingBelow_AndLoads(string command) =>
        Assert.Equal(4, Load($"  a: {{ command: x, outputs: [model.ckpt] }}\n  b: {{ command: '{command}', outputs: [m] }}\n", new("a", []), new("b", [])).Count);

    [Fact]
    public void ACdIntoAnotherStagesRunDir_IsKdg1011()
    {
        var e = Refused("  a: { command: x, outputs: [model.ckpt] }\n  b: { command: 'cd {root}/runs/{dataset}/a && cp model.ckpt {run_dir}/m', outputs: [m] }\n", new("a", []), new("b", []));

        Assert.Equal(ErrorCodes.UndeclaredDependency, e.Code);
    }

    [Fact]
    public void ARelativeWordAfterCd_ToCodeOrItsOwnOutputs_Loads() =>
        Assert.Equal(4, Load("""
              a: { command: x, outputs: [model.ckpt] }
              b: { command: 'cd {root} && python src/train.py --out runs/{dataset}/b/m', outputs: [m] }
            """, new("a", []), new("b", [])).Count);

    // Raw data (KDG1039): what the command names there must be covered by the stage's inputs.

    [Theory]
    [InlineData("cat {raw_dir}/frames.csv > m", "'raw/d1/frames.csv'")]
    [InlineData("prep --raw {raw_dir} --out m", "'raw/d1'")]
    [InlineData("prep --raw={raw_dir}", "'raw/d1'")]
    [InlineData("cd {raw_dir} && cat ./frames.csv", "'raw/d1'")]
    [InlineData("cd {root} && cat raw/{dataset}/frames.csv", "'raw/d1/frames.csv'")]
    public void RawDataTheInputsDoNotCover_IsKdg1039NamingStageFieldAndFix(string command, string named)
    {
        var e = Refused($"  a: {{ command: '{command}', outputs: [m] }}\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("stage 'a' (dataset d1): its command names " + named, e.Message);
        Assert.Contains("the raw data of dataset d1 (paths.raw)", e.Message);
        Assert.Contains("Add inputs: ['{raw_dir}'] to stage 'a' in kdgat.yaml", e.Message);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal(4, e.Line);
    }

    [Theory]
    [InlineData("'{raw_dir}'")]
    [InlineData("'raw/{dataset}'")]
    [InlineData("'{raw_dir}/frames.csv'")]
    [InlineData("'{raw_dir}/*.csv'")]
    public void RawDataTheInputsCover_Loads(string input) =>
        Assert.Equal(2, Load($"  a: {{ command: 'cat {{raw_dir}}/frames.csv > m', inputs: [{input}], outputs: [m] }}\n", new StageDeclaration("a", [])).Count);

    [Fact]
    public void TheRawFolder_WithOnlyAGlobOfItsFilesAsInput_IsKdg1039()
    {
        // The program is passed the folder and may read any file in it, not only the .csv ones.
        var e = Refused("  a: { command: 'prep --raw {raw_dir}', inputs: ['{raw_dir}/*.csv'], outputs: [m] }\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
    }

    [Fact]
    public void AnotherDatasetsRawData_IsKdg1039NamingItsFolder()
    {
        var e = Assert.Throws<KdgException>(() => LoadD2("  a: { command: 'prep --raw {root}/raw/d1', inputs: ['{raw_dir}'], outputs: [m] }\n", new StageDeclaration("a", [])));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("the raw data of dataset d1", e.Message);
        Assert.Contains("Add inputs: ['raw/d1']", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("inputs: ['{cache_dir}/*'], ")] // the files directly in it, none in its subfolders
    public void ACacheDirNoStageWrites_IsKdg1039(string inputs)
    {
        var e = Refused($"  a: {{ command: 'fit --cache {{cache_dir}}', {inputs}outputs: [m] }}\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("where no stage writes it", e.Message);
        Assert.Contains("Add inputs: ['{cache_dir}']", e.Message);
    }

    /// <summary>
    /// A file with an '=' in its name, in raw data or a cache dir no stage writes, that the inputs
    /// name was refused as untracked data: the piece before the '=' ("{raw_dir}/part", a guess at
    /// the start of a point's run dir such as seed=0) was checked as a path of its own. The whole
    /// word is what is read, and it is checked.
    /// </summary>
    [Theory]
    [InlineData("  a: { command: 'cat {cache_dir}/part=1.bin > m', inputs: ['{cache_dir}/part=1.bin'], outputs: [m] }\n")]
    [InlineData("  a: { command: 'cat {raw_dir}/part=1.csv > m', inputs: ['{raw_dir}/part=1.csv'], outputs: [m] }\n")]
    public void ThePieceBeforeAnEquals_IsNoUntrackedDataOfItsOwn(string yaml) =>
        Assert.NotEmpty(Load(yaml, new StageDeclaration("a", [])));

    [Theory]
    [InlineData("  a: { command: 'cat {raw_dir}/part=1.csv > m', inputs: ['{raw_dir}/part=2.csv'], outputs: [m] }\n")]
    [InlineData("  a: { command: 'cat {cache_dir}/part=1.bin > m', inputs: ['{cache_dir}/part=2.bin'], outputs: [m] }\n")]
    // Past the first separators only the pieces are named (a word of weights, path=0.1,...): there the piece is checked (a review).
    [InlineData("  a: { command: 'mix --data /tmp/x0.csv=0.1,/tmp/x1.csv=0.1,/tmp/x2.csv=0.1,/tmp/x3.csv=0.1,/tmp/x4.csv=0.1,/tmp/x5.csv=0.1,/tmp/x6.csv=0.1,/tmp/x7.csv=0.1,/tmp/x8.csv=0.1,{raw_dir}/secret.csv=0.1 > m', outputs: [m] }\n")]
    public void AWholeWordWithAnEquals_InDataNoInputCovers_IsStillKdg1039(string yaml) =>
        Assert.Equal(ErrorCodes.UndeclaredRawData, Refused(yaml, new StageDeclaration("a", [])).Code);

    // A folder above raw dirs (paths.raw: raw/{dataset}; the command names {root}/raw): it reads
    // every dataset's raw data below it, which no input covered, so a change of raw data left the
    // stage up to date (found by review: only a path at or below a raw dir was checked).

    [Theory]
    [InlineData("ls {root}/raw", "'raw'", "'raw'")]
    [InlineData("cat {root}/raw/*/frames.csv", "'raw/*/frames.csv'", "'raw/*/frames.csv'")] // a glob: the fix is the glob itself
    [InlineData("agg --all={root}/raw", "'raw'", "'raw'")]
    [InlineData("cd {root} && cat raw/*/frames.csv", "'raw/*/frames.csv'", "'raw/*/frames.csv'")]
    public void AFolderAboveRawDirs_TheInputsDoNotCover_IsKdg1039NamingTheFolder(string command, string named, string fix)
    {
        var e = Refused($"  a: {{ command: '{command}', inputs: ['{{raw_dir}}'], outputs: [m] }}\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("stage 'a' (dataset d1): its command names " + named, e.Message);
        Assert.Contains("above the raw data of dataset d2 (paths.raw)", e.Message);
        Assert.Contains($"Add inputs: [{fix}]", e.Message);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal(4, e.Line);
    }

    [Fact]
    public void AFolderAboveOnlyTheOwnRawDir_IsKdg1039()
    {
        _p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'data/{dataset}/raw', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'ls {root}/data/d1', outputs: [m] }
            """);
        var e = Assert.Throws<KdgException>(() => _p.Instances([new StageDeclaration("a", [])]));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("above the raw data of dataset d1", e.Message);
        Assert.Contains("Add inputs: ['data/d1']", e.Message);
    }

    [Theory]
    [InlineData("'raw'")]
    [InlineData("'raw/**'")]
    [InlineData("'{root}/raw'")]
    [InlineData("'raw/d1', 'raw/d2'")]
    public void AFolderAboveRawDirs_WithInputsCoveringEveryOne_Loads(string inputs) =>
        Assert.Equal(2, Load($"  a: {{ command: 'ls {{root}}/raw; cat {{root}}/raw/*/frames.csv', inputs: [{inputs}], outputs: [m] }}\n", new StageDeclaration("a", [])).Count);

    /// <summary>A glob hashes files, never a folder below it: raw/* is the files directly in raw/, none of raw/d1's.</summary>
    [Theory]
    [InlineData("ls {root}/raw", "'raw/*'")]
    [InlineData("ls {root}/raw", "'raw/*/*.csv'")]
    [InlineData("prep --raw {raw_dir}", "'{raw_dir}/*'")]
    public void AGlobOfFilesOnly_DoesNotCoverTheRawFolders(string command, string input)
    {
        var e = Refused($"  a: {{ command: '{command}', inputs: [{input}], outputs: [m] }}\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
    }

    // A glob in the command reads what it matches, not its whole literal base: the same glob as an
    // input (or a wider one) covers it (a review: 'cat {raw_dir}/*' with inputs ['{raw_dir}/*'] was refused).

    [Theory]
    [InlineData("cat {raw_dir}/*", "'{raw_dir}/**'")]
    [InlineData("cat {raw_dir}/*.csv", "'{raw_dir}/*.csv'")]
    [InlineData("cat {raw_dir}/*.csv", "'{raw_dir}/*'")]
    [InlineData("cat {raw_dir}/frames_?.csv", "'{raw_dir}/*.csv'")]
    [InlineData("cat {raw_dir}/**/*.csv", "'{raw_dir}/**'")]
    [InlineData("cat {root}/raw/*/frames.csv", "'raw/*/frames.csv'")]
    [InlineData("cat {root}/raw/*/frames.csv", "'raw/**/frames.csv'")]
    [InlineData("cat {root}/raw/*/frames.csv", "'raw'")]
    [InlineData("cat {root}/raw/*.txt", "'{raw_dir}'")] // one level: never inside raw/d1 or raw/d2
    public void AGlobInTheCommand_ThatItsInputsCover_Loads(string command, string inputs) =>
        Assert.Equal(2, Load($"  a: {{ command: '{command}', inputs: [{inputs}], outputs: [m] }}\n", new StageDeclaration("a", [])).Count);

    [Theory]
    [InlineData("cat {raw_dir}/*", "'{raw_dir}/*.csv'", "'{raw_dir}'")]
    [InlineData("prep {raw_dir}/*", "'{raw_dir}/*'", "'{raw_dir}'")] // '*' may hand it folders, whose files '{raw_dir}/*' does not hash
    [InlineData("prep {raw_dir}/run_?", "'{raw_dir}/run_?'", "'{raw_dir}'")]
    [InlineData("cat {raw_dir}/**/*.csv", "'{raw_dir}/*.csv'", "'{raw_dir}/**/*.csv'")]
    [InlineData("cat {raw_dir}/*/x.csv", "'{raw_dir}/x.csv'", "'{raw_dir}/*/x.csv'")]
    public void AGlobInTheCommand_WiderThanItsInputs_IsKdg1039WithTheGlobAsFix(string command, string inputs, string fix)
    {
        var e = Refused($"  a: {{ command: '{command}', inputs: [{inputs}], outputs: [m] }}\n", new StageDeclaration("a", []));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains($"Add inputs: [{fix}]", e.Message);
    }

    [Fact]
    public void TheRawFolder_WithAGlobInput_SaysWhyTheGlobDoesNotCoverIt() =>
        Assert.Contains("only when it matches every file below it",
            Refused("  a: { command: 'prep --raw {raw_dir}', inputs: ['{raw_dir}/*.csv'], outputs: [m] }\n", new StageDeclaration("a", [])).Message);

    [Fact]
    public void TheRootAndFoldersAboveIt_AreNoReadOfRawData() =>
        Assert.Equal(2, Load($"  a: {{ command: 'cd {{root}} && run {{root}} / {Path.GetTempPath()} --raw={{raw_dir}}/frames.csv', inputs: ['{{raw_dir}}'], outputs: [m] }}\n",
            new StageDeclaration("a", [])).Count);

    [Fact]
    public void ACdIntoTheFolderAboveRawDirs_ReadsNothingByItself() =>
        Assert.Equal(2, Load("  a: { command: 'cd {root}/raw && cat {dataset}/frames.csv', inputs: ['{raw_dir}'], outputs: [m] }\n", new StageDeclaration("a", [])).Count);

    [Fact]
    public void AFolderAboveRawDirsAndAnotherDatasetsOutputs_IsKdg1038()
    {
        _p = new TestPipeline("""
            datasets: [d1, d2]
            paths: { runs: runs, raw: 'data/raw/{dataset}', cache: 'data/cache/{dataset}' }
            stages:
              a: { command: 'ls {root}/data', outputs: [m] }
            """);
        var e = Assert.Throws<KdgException>(() => _p.Instances([new StageDeclaration("a", [])]));

        Assert.Equal(ErrorCodes.CrossDatasetRead, e.Code);
    }

    // The cache dir inside the raw dir (raw: data/{dataset}, cache: data/{dataset}/cache): a review
    // expected {cache_dir}/g.pt, written by a needed stage, to be refused as raw data (KDG1039). No
    // stage can write there: an output inside a raw dir is KDG1204 when the instance is made, before
    // this check (the raw dir, preprocess's input, would hold its own output). What no stage writes
    // there is data no input covers.

    private IReadOnlyList<StageInstance> LoadNested(string stagesYaml, params StageDeclaration[] decl)
    {
        _p = new TestPipeline($$"""
            datasets: [d1, d2]
            paths: { runs: 'data/runs', raw: 'data/{dataset}', cache: 'data/{dataset}/cache' }
            stages:
            {{stagesYaml}}
            """);
        return _p.Instances(decl);
    }

    [Fact]
    public void TheCacheDirInsideTheRawDir_AsAnOutput_IsKdg1204_NotKdg1039ForItsReaders()
    {
        var e = Assert.Throws<KdgException>(() => LoadNested("  prep: { command: 'prep --raw {raw_dir}', inputs: ['{raw_dir}'], outputs: ['{cache_dir}'] }\n  train: { command: 'fit --graph {cache_dir}/g.pt', outputs: [m] }\n",
            new("prep", []), new("train", ["prep"])));

        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Contains("stage 'prep'", e.Message);
        Assert.Contains("the raw data of dataset d1 (paths.raw): paths.cache", e.Message);
        Assert.Contains("move paths.cache out of paths.raw", e.Message); // the layout is the fault, not the output's name
        Assert.DoesNotContain("under its dataset's {cache_dir}", e.Message); // it is: that advice would go in a circle
    }

    [Fact]
    public void TheCacheDirInsideTheRawDir_WrittenByNoStage_IsKdg1039()
    {
        var e = Assert.Throws<KdgException>(() => LoadNested("  train: { command: 'fit {cache_dir}/g.pt', outputs: [m] }\n", new StageDeclaration("train", [])));

        Assert.Equal(ErrorCodes.UndeclaredRawData, e.Code);
        Assert.Contains("'data/d1/cache/g.pt'", e.Message);
    }
}
