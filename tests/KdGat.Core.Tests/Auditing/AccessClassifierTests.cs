using KdGat.Core.Auditing;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Auditing;

[Trait("Category", "Unit")]
public sealed class AccessClassifierTests : IDisposable
{
    // pre -> a -> b: b needs only a, although a needs pre (the shape of the KD-GAT bug).
    private readonly TestPipeline _p = new("""
        datasets: [d1, d2]
        paths:
          runs: runs
          raw: raw/{dataset}
          cache: cache/{dataset}
        stages:
          pre: { command: x, inputs: ['{raw_dir}'], outputs: ['{cache_dir}'] }
          a: { command: x, inputs: ['data/labels.csv'], code: ['src/**/*.py'], params_file: models/a.yaml, outputs: [model.ckpt] }
          b: { command: x, outputs: [metrics.json] }
        """);
    private readonly IReadOnlyList<StageInstance> _all;
    private readonly AccessClassifier _classifier;

    public AccessClassifierTests()
    {
        _p.Dir.Write("models/a.yaml", "lr: 0.1\n");
        _all = _p.Instances([new("pre", []), new("a", ["pre"]), new("b", ["a"])]);
        _classifier = new AccessClassifier(new AuditScope(_all[0].Layout, _all));
    }

    public void Dispose() => _p.Dispose();

    private StageInstance I(string key) => _all.Single(i => i.Key == key);
    private string R(string relative) => Path.Combine(_p.Root, relative);
    private static TracedAccess Read(string path, bool listing = false) => new(1, "openat", AccessKind.Read, path, listing);
    private static TracedAccess Write(string path, bool created = false) => new(1, created ? "mkdir" : "openat", AccessKind.Write, path, Created: created);

    private IReadOnlyList<Diagnostic> Classify(string key, params TracedAccess[] accesses) => _classifier.Classify(I(key), accesses);

    [Fact]
    public void ReadOfAnIndirectUpstreamsOutput_IsAnErrorNamingBothStagesAndTheFix()
    {
        var d = Assert.Single(Classify("d1/b", Read(R("cache/d1/graphs.json")), Read(R("cache/d1/index.json"))));

        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal(ErrorCodes.AuditUndeclaredUpstream, d.Code);
        Assert.Contains("d1/b read cache/d1/graphs.json, cache/d1/index.json, which belong to d1/pre", d.Message);
        Assert.Contains("pre is not in the Needs of b", d.Message);
        Assert.Contains("through a", d.Message);
        Assert.Contains("add pre to Needs=", d.Message);
        Assert.Equal(("pipeline.proj", 0), (d.File, d.Line)); // no such file here: the file alone
    }

    /// <summary>The fix is in pipeline.proj: KDG6001 points at the stage's target there (user review: the file alone before).</summary>
    [Fact]
    public void ReadOfAnIndirectUpstreamsOutput_PointsAtTheStagesTarget()
    {
        var proj = _p.Dir.Write("pipeline.proj", """
            <Project>
              <Target Name="pre_stage"><ItemGroup><KdGatStage Include="pre" /></ItemGroup></Target>
              <Target Name="a" DependsOnTargets="pre_stage"><ItemGroup><KdGatStage Include="a" Needs="pre" /></ItemGroup></Target>

              <Target Name="b" DependsOnTargets="a">
                <ItemGroup><KdGatStage Include="b" Needs="a" /></ItemGroup>
              </Target>
            </Project>
            """);

        var d = Assert.Single(new AccessClassifier(new AuditScope(_all[0].Layout, _all), proj).Classify(I("d1/b"), [Read(R("cache/d1/graphs.json"))]));

        Assert.Equal(ErrorCodes.AuditUndeclaredUpstream, d.Code);
        Assert.Equal((proj, 5, 3), (d.File, d.Line, d.Column));
    }

    [Fact]
    public void ReadsOfDirectNeeds_OwnFiles_DeclaredFiles_AndSystemFiles_AreSilent()
    {
        Assert.Empty(Classify("d1/b", Read(R("runs/d1/a/model.ckpt")), Read(R("runs/d1/b/params.json")), Read("/usr/lib/x86_64-linux-gnu/libc.so.6"),
            Read("/etc/hostname"), Read("/proc/self/maps"), Read("/tmp/elsewhere/x"), Read(R(".kdgat/tools/KdGat.Sample.dll"))));
        Assert.Empty(Classify("d1/a", Read(R("cache/d1/graphs.json")), Read(R("cache/d1"), listing: true), Read(R("data/labels.csv")),
            Read(R("src/pipeline/cli.py")), Read(R("src/pipeline/__pycache__/cli.cpython-312.pyc")), Read(R("."), listing: true),
            Read(R(".venv/lib/python3.11/site-packages/numpy/__init__.py")), Read(R(".venv/bin/python"))));
        Assert.Empty(Classify("d1/pre", Read(R("raw/d1/frames-1.csv")), Write(R("cache"), created: true),
            Write(R("cache/.d1.77.0123abcd.tmp/graphs.json")), Write(R("cache/d1/graphs.json"))));
    }

    /// <summary>
    /// A file in a needed upstream's run dir that the upstream does not declare: the downstream's
    /// fingerprint has only the upstream's output digest, so a rerun of the upstream that rewrote it
    /// left the downstream up to date on the old file (found by review). Its declared outputs,
    /// params.json and a listing of its run dir are fine.
    /// </summary>
    [Fact]
    public void ReadOfAnUndeclaredFileInANeededUpstreamsRunDir_IsAnErrorNamingTheUpstreamsOutputs()
    {
        Assert.Empty(Classify("d1/b", Read(R("runs/d1/a/model.ckpt")), Read(R("runs/d1/a/params.json")), Read(R("runs/d1/a"), listing: true), Read(R("runs/d1/a/logs/x.out"))));

        var d = Assert.Single(Classify("d1/b", Read(R("runs/d1/a/notes.txt")), Read(R("runs/d1/a/model.ckpt"))));

        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal(ErrorCodes.AuditUndeclaredUpstreamFile, d.Code);
        Assert.Contains("d1/b read runs/d1/a/notes.txt in the run dir of its upstream d1/a", d.Message);
        Assert.Contains("under `outputs:` (or `optional_outputs:`) of stage a", d.Message);
    }

    /// <summary>
    /// A stage that reads its params_file itself: the fingerprint has the values KdGat parsed, so an
    /// edit KdGat reads as the same value (0.001 -> 1e-3, which PyYAML reads as a string) left it up
    /// to date on the old reading (found by review). Listed under inputs, its bytes count: silent.
    /// </summary>
    [Fact]
    public void ReadOfItsOwnParamsFile_IsAWarning_UnlessItIsAlsoAnInput()
    {
        var d = Assert.Single(Classify("d1/a", Read(R("models/a.yaml"))));

        Assert.Equal(Severity.Warning, d.Severity);
        Assert.Equal(ErrorCodes.AuditParamsFileRead, d.Code);
        Assert.Contains("read its params_file models/a.yaml itself", d.Message);
        Assert.Contains("Read {params_file}", d.Message);

        using var p = new TestPipeline("""
            datasets: [d1]
            stages:
              a: { command: x, inputs: [models/a.yaml], params_file: models/a.yaml, outputs: [model.ckpt] }
            """);
        p.Dir.Write("models/a.yaml", "lr: 0.1\n");
        var all = p.Instances([new("a", [])]);
        Assert.Empty(new AccessClassifier(new AuditScope(all[0].Layout, all)).Classify(all[0], [Read(Path.Combine(p.Root, "models/a.yaml"))]));
        using var q = new TestPipeline("""
            datasets: [d1]
            stages:
              a: { command: x, code: ['models/*.yaml'], params_file: models/a.yaml, outputs: [model.ckpt] }
            """);
        q.Dir.Write("models/a.yaml", "lr: 0.1\n");
        var coded = q.Instances([new("a", [])]);
        Assert.Empty(new AccessClassifier(new AuditScope(coded[0].Layout, coded)).Classify(coded[0], [Read(Path.Combine(q.Root, "models/a.yaml"))])); // a code glob has its bytes too
    }

    [Fact]
    public void ReadOfAnotherDatasetsOutput_IsAnError_EvenFromANeededStage()
    {
        var d = Assert.Single(Classify("d1/a", Read(R("cache/d2/graphs.json"))));

        Assert.Equal(ErrorCodes.AuditUndeclaredUpstream, d.Code);
        Assert.Contains("belongs to d2/pre, a stage of another dataset", d.Message);
        Assert.Equal((_p.ConfigFile, 8, 6), (d.File, d.Line, d.Column)); // the fix is in the command of stage a (its entry)
    }

    [Fact]
    public void ListingAnotherStagesOutput_CountsAsReadingIt()
    {
        var d = Assert.Single(Classify("d1/b", Read(R("cache/d1"), listing: true)));
        Assert.Equal(ErrorCodes.AuditUndeclaredUpstream, d.Code);
    }

    [Fact]
    public void UndeclaredInputs_AreAWarningWithTheYamlLineToAdd()
    {
        var d = Assert.Single(Classify("d1/a", Read(R("data/extra.csv")), Read(R("raw/d1/frames.csv")), Read(R("scripts/helper.py")), Read(R("data/d1/split.json"))));

        Assert.Equal(Severity.Warning, d.Severity);
        Assert.Equal(ErrorCodes.AuditUndeclaredInput, d.Code);
        Assert.Equal(_p.ConfigFile, d.File);
        Assert.True(d.Line > 0);
        Assert.Contains("under `stages: a:`", d.Message);
        Assert.Contains("inputs: ['data/labels.csv', 'data/{dataset}/split.json', 'data/extra.csv', '{raw_dir}']", d.Message);
        Assert.Contains("code: ['scripts/helper.py']", d.Message);
    }

    /// <summary>
    /// A module imported through its valid bytecode cache: Python opens lib/__pycache__/util.cpython-311.pyc and
    /// only stats lib/util.py, so the read went unsaid and an edit of util.py rebuilt nothing (a first-week review).
    /// Read as its source; a .pyc without one, and one in a virtual environment, stay unjudged.
    /// </summary>
    [Fact]
    public void ReadOfAModulesBytecodeCache_IsAReadOfItsSource()
    {
        _p.Dir.Write("lib/util.py", "def f(): pass\n");
        _p.Dir.Write(".venv/lib/python3.11/site-packages/np/__init__.py", "\n");

        var d = Assert.Single(Classify("d1/a", Read(R("lib/__pycache__/util.cpython-311.pyc")), Read(R("lib/__pycache__/gone.cpython-311.opt-1.pyc")),
            Read(R(".venv/lib/python3.11/site-packages/np/__pycache__/__init__.cpython-311.pyc"))));

        Assert.Equal(ErrorCodes.AuditUndeclaredInput, d.Code);
        Assert.Contains("code: ['lib/util.py']", d.Message);
        Assert.DoesNotContain("gone", d.Message);
        Assert.DoesNotContain(".venv", d.Message);
    }

    [Fact]
    public void ManyUndeclaredFiles_AreSuggestedAsTheirDirectory()
    {
        var reads = Enumerable.Range(0, 8).Select(i => Read(R($"data/shards/part-{i}.bin"))).ToArray();
        var d = Assert.Single(Classify("d1/b", reads));

        Assert.Contains("inputs: ['data/shards']", d.Message);
        Assert.Contains("and 5 more file(s)", d.Message);
    }

    [Fact]
    public void PathsTracedThroughTheResolvedRoot_AreJudgedAsTheRoot()
    {
        // A checkout reached through a symbolic link (/home -> /gpfs/home): strace -y prints the resolved directory.
        var link = _p.Root + "-link";
        File.CreateSymbolicLink(link, _p.Root);
        try
        {
            var config = KdGat.Core.Config.ConfigLoader.Load(Path.Combine(link, "kdgat.yaml"), link);
            var all = new PipelineLayout(config, Path.Combine(link, "tools")).Instantiate(
                StageGraph.Build([new("pre", []), new("a", ["pre"]), new("b", ["a"])], config, "pipeline.proj"), config.Datasets);
            var classifier = new AccessClassifier(new AuditScope(all[0].Layout, all));

            var d = Assert.Single(classifier.Classify(all.Single(i => i.Key == "d1/b"), [Read(R("cache/d1/graphs.json"))]));

            Assert.Equal(ErrorCodes.AuditUndeclaredUpstream, d.Code);
            Assert.Contains("d1/b read cache/d1/graphs.json, which belongs to d1/pre", d.Message);
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Fact]
    public void WritesOutsideRunDirAndOutputs_AreAWarning_SystemAndStateWritesAreNot()
    {
        var d = Assert.Single(Classify("d1/a", Write(R("runs/d1/a/model.ckpt")), Write(R("runs/d1/a/.model.ckpt.1.abc.tmp")), Write("/tmp/scratch.bin"),
            Write("/dev/null"), Write(R("src/pipeline/__pycache__/cli.cpython-312.pyc")), Write(R("runs/d1/.kdgat/a/lock")),
            Write(R("data/out.csv")), Write(R("runs/d1/pre/stolen.txt"))));

        Assert.Equal(ErrorCodes.AuditUndeclaredWrite, d.Code);
        Assert.Equal(Severity.Warning, d.Severity);
        Assert.Contains("d1/a wrote data/out.csv, runs/d1/pre/stolen.txt outside its run dir", d.Message);
        Assert.Contains("belongs to d1/pre", d.Message);
    }
}
