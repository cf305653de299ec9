using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Config;

/// <summary>
/// YAML 1.1 merge keys (<c>&lt;&lt;: *base</c>, <c>&lt;&lt;: [*a, *b]</c>) in kdgat.yaml and params
/// files: expanded by the loader, so parameters are named <c>lr</c>, not <c>&lt;&lt;.lr</c>, and a
/// section like resources takes them. A '&lt;&lt;' given anything but mappings is an error at the '&lt;&lt;'.
/// </summary>
[Trait("Category", "Unit")]
public sealed class YamlMergeTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private const string Stage = YamlLimitsTests.Stage;

    private PipelineConfig Load(string config) => ConfigLoader.Load(_dir.Write("kdgat.yaml", config), _dir.Path);

    private KdgException LoadFails(string config) => Assert.Throws<KdgException>(() => Load(config));

    /// <summary>The parameters of stage 'train' reading this params file.</summary>
    private IReadOnlyDictionary<string, ParamValue> Params(string paramsFile)
    {
        _dir.Write("p.yaml", paramsFile);
        return Load(Stage + "    params_file: p.yaml\n").Stages["train"].Params;
    }

    private static Dictionary<string, string> Texts(IReadOnlyDictionary<string, ParamValue> p) =>
        p.ToDictionary(kv => kv.Key, kv => kv.Value.FingerprintText);

    [Fact]
    public void ParamsFile_MergeKey_GivesTheMergedNames_NotDottedUnderLtLt()
    {
        var p = Params("""
            base: &base {hidden: 32, lr: 0.001}
            <<: *base
            epochs: 20
            """);

        Assert.Equal(["base.hidden", "base.lr", "epochs", "hidden", "lr"], p.Keys);
        Assert.Equal(new ParamValue("32", ParamKind.Integer), p["hidden"]);
        Assert.Equal(new ParamValue("0.001", ParamKind.Float), p["lr"]);
    }

    [Theory]
    [InlineData("<<: *base\nlr: 0.002\n")]
    [InlineData("lr: 0.002\n<<: *base\n")]
    public void AKeyWrittenInTheMapping_WinsOverTheMergedOne_BeforeOrAfterTheMergeKey(string rest)
    {
        var p = Params("base: &base {hidden: 32, lr: 0.001}\n" + rest);

        Assert.Equal("0.002", p["lr"].Text);
        Assert.Equal("32", p["hidden"].Text);
        Assert.Equal("0.001", p["base.lr"].Text); // the anchored mapping itself is unchanged
    }

    [Fact]
    public void AListOfMappings_EarlierOnesWin()
    {
        var p = Params("""
            a: &a {lr: 1, heads: 4}
            b: &b {lr: 2, heads: 8, epochs: 5}
            model:
              <<: [*a, *b]
              heads: 16
            """);

        Assert.Equal("1", p["model.lr"].Text);
        Assert.Equal("16", p["model.heads"].Text);
        Assert.Equal("5", p["model.epochs"].Text);
        Assert.DoesNotContain(p.Keys, k => k.Contains("<<", StringComparison.Ordinal));
    }

    [Fact]
    public void MappingsWrittenInPlace_AndChainsOfMerges_AreMerged()
    {
        var p = Params("""
            a: &a {x: 1}
            b: &b {<<: *a, y: 2}
            c: {<<: [*b, {z: 3, x: 9}], w: 4}
            """);

        Assert.Equal(("1", "2"), (p["b.x"].Text, p["b.y"].Text));
        Assert.Equal(["c.w", "c.x", "c.y", "c.z"], p.Keys.Where(k => k.StartsWith("c.", StringComparison.Ordinal)));
        Assert.Equal("1", p["c.x"].Text); // *b comes before the mapping written in place
    }

    [Fact]
    public void AQuotedLtLt_IsAnOrdinaryKey()
    {
        var p = Params("'<<': {lr: 1}\n");

        Assert.Equal(["<<.lr"], p.Keys);
    }

    [Fact]
    public void MergedOrWrittenOut_TheSameParameters_SoTheSameFingerprint()
    {
        const string other = """
            datasets: [d1]
            stages:
              other:
                command: 'true'
                outputs: [o.txt]
                params: &kd {alpha: 0.5, temperature: 3}
              train:
                command: 'true'
                outputs: [out.txt]

            """;

        var writtenOut = Load(other + "    params: {kd: {alpha: 0.5, temperature: 2.0}, lr: 1e-3}\n").Stages["train"].Params;
        var merged = Load(other + "    params: {kd: {<<: *kd, temperature: 2}, lr: 0.001}\n").Stages["train"].Params;

        Assert.Equal(["kd.alpha", "kd.temperature", "lr"], merged.Keys);
        Assert.Equal(Texts(writtenOut), Texts(merged)); // the fingerprint's params (Fingerprinter: name -> FingerprintText)
    }

    [Fact]
    public void KdgatYaml_StageResources_TakeAMergedMapping()
    {
        var c = Load("""
            datasets: [d1]
            stages:
              big:
                command: 'true'
                outputs: [a.txt]
                resources: &gpu { gpus: 1, mem: 8G, cpus: 4 }
              small:
                command: 'true'
                outputs: [b.txt]
                resources:
                  <<: *gpu
                  mem: 4G
            """);

        var r = c.Stages["small"].Resources;
        Assert.Equal((1, 4096L, 4), (r.Gpus, r.MemMb, r.Cpus));
    }

    [Fact]
    public void AMergedParameter_IsSourcedWhereTheAnchoredValueIsWritten()
    {
        _dir.Write("p.yaml", "base: &base\n  lr: 0.001\n<<: *base\n");

        var s = Load(Stage + "    params_file: p.yaml\n").Stages["train"];

        Assert.Equal("p.yaml(2,3)", s.ParamSources["lr"]);
    }

    [Theory]
    [InlineData("<<: 5\n", "its value is '5'", 1, 1)]
    [InlineData("n: &n 5\nm:\n  <<: *n\n", "its value is '5'", 3, 3)] // at the '<<', not where the anchor stands
    [InlineData("a: &a {x: 1}\n<<: [*a, [1]]\n", "item 2 of its list is a list", 2, 1)]
    [InlineData("<<:\n", "its value is empty", 1, 1)]
    public void ParamsFile_MergeKeyGivenNoMapping_IsKdg1009_AtTheMergeKey(string yaml, string what, int line, int column)
    {
        _dir.Write("p.yaml", yaml);

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Equal(_dir["p.yaml"], e.File);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains(what, e.Message);
        Assert.Contains("`<<: *base`", e.Message);
    }

    [Fact]
    public void KdgatYaml_MergeKeyGivenAList_IsKdg1002_AtTheMergeKey()
    {
        var e = LoadFails(Stage + "    resources: {<<: [1, 2]}\n");

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Equal((6, 17), (e.Line, e.Column));
        Assert.Contains("item 1 of its list is '1'", e.Message);
    }

    [Theory]
    [InlineData("lr: 1\nlr: 2\n", "Duplicate key lr")]
    [InlineData("a: &a {x: 1}\n<<: *a\n<<: *a\n", "Duplicate key <<")]
    public void AKeyWrittenTwice_IsStillAnError(string yaml, string message)
    {
        _dir.Write("p.yaml", yaml);

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MergesOfMergesBeyondTheBudget_AreRefused()
    {
        // Each level merges the one before it ten times: small once merged (the keys repeat), but
        // the budget counts every alias expanded, so this is refused before anything is merged.
        var lines = new List<string> { "a0: &a0 {x: 1, y: 2}" };
        for (var i = 1; i <= 8; i++) lines.Add($"a{i}: &a{i} {{<<: [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}], k{i}: {i}}}");
        _dir.Write("p.yaml", string.Join('\n', lines) + "\n");

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("100,000", e.Message);
    }
}
