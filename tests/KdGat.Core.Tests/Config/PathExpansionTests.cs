using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Config;

/// <summary>
/// $NAME, ${NAME} and a leading ~ in kdgat.yaml's paths: `cache_store: /scratch/$USER/kdgat-cache`
/// (the bundled kdgat.yaml's own example) made a folder literally named `$USER`, and `runs: ~/x` a
/// folder `~` in the repository (found by review).
/// </summary>
[Trait("Category", "Unit")]
public sealed class PathExpansionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _var = "KDGAT_TEST_PATH_" + Guid.NewGuid().ToString("N")[..8];

    public PathExpansionTests() => Environment.SetEnvironmentVariable(_var, "alice");
    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_var, null);
        _dir.Dispose();
    }

    private PipelineConfig Load(string yaml) => ConfigLoader.Load(_dir.Write("kdgat.yaml", yaml), _dir.Path);

    private string Config(string top = "", string stage = "") => $"""
        datasets: [hcrl_sa]
        {top}
        stages:
          train:
            command: 'echo {"{dataset}"} > out.txt'
            outputs: [out.txt]
        {stage}
        """;

    [Fact]
    public void PathsAndCacheStore_ExpandBothVariableForms_KeepingPlaceholders()
    {
        var c = Load(Config($"paths: {{ runs: '/scratch/${_var}/runs', raw: '/data/${{{_var}}}/{{dataset}}', cache: 'cache/{{dataset}}/$' }}\ncache_store: /scratch/${_var}/kdgat-cache"));

        Assert.Equal("/scratch/alice/runs", c.RunsDir);
        Assert.Equal("/data/alice/{dataset}", c.RawDir);
        Assert.Equal("cache/{dataset}/$", c.CacheDir); // a '$' not followed by a name stays
        Assert.Equal("/scratch/alice/kdgat-cache", c.CacheStore);
        // A loaded pipeline is used again only while the variable has that value.
        Assert.True(c.Sources.Unchanged());
        Environment.SetEnvironmentVariable(_var, "bob");
        Assert.False(c.Sources.Unchanged());
    }

    [Fact]
    public void StagePaths_AreExpanded()
    {
        var c = Load(Config(stage: $"    inputs: ['/in/${_var}/a.csv', '{{raw_dir}}/b']\n    code: ['src/${{{_var}}}/**/*.py']"));
        var s = c.Stages["train"];

        Assert.Equal(["/in/alice/a.csv", "{raw_dir}/b"], s.Inputs);
        Assert.Contains("src/alice/**/*.py", s.Code);
    }

    [Fact]
    public void ParamsFile_IsExpanded()
    {
        _dir.Write("models/alice.yaml", "lr: 0.1\n");
        var c = Load(Config(stage: $"    params_file: models/${_var}.yaml"));

        Assert.Equal("models/alice.yaml", c.Stages["train"].ParamsFile);
        Assert.Equal("0.1", c.Stages["train"].Params["lr"].Text);
    }

    [Theory]
    [InlineData("~", "")]
    [InlineData("~/runs", "/runs")]
    public void LeadingTilde_IsTheHomeDirectory(string runs, string rest)
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        Assert.False(string.IsNullOrEmpty(home));
        var c = Load(Config($"paths: {{ runs: '{runs}' }}"));
        Assert.Equal(home + rest, c.RunsDir);
    }

    [Fact]
    public void TildeUser_IsRefusedAtItsPosition()
    {
        var e = Assert.Throws<KdgException>(() => Load(Config("paths: { runs: '~bob/runs' }")));
        Assert.Equal(ErrorCodes.ConfigWrongType, e.Code);
        Assert.Equal((2, 16), (e.Line, e.Column));
        Assert.Contains("'paths.runs' starts with '~bob'", e.Message);
        Assert.Contains("full path", e.Message);
    }

    [Theory]
    [InlineData("cache_store: /scratch/$NAME/c", 2, 14, "'cache_store' uses $NAME")]
    [InlineData("paths: { cache: 'x/${NAME}/{dataset}' }", 2, 17, "'paths.cache' uses ${NAME}")]
    public void UnsetVariable_IsKdg1025WithFileLineAndColumn(string top, int line, int column, string says)
    {
        var name = "KDGAT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8];
        var e = Assert.Throws<KdgException>(() => Load(Config(top.Replace("NAME", name))));

        Assert.Equal(ErrorCodes.ResourceVariableUnset, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains(says.Replace("NAME", name), e.Message);
        Assert.Contains($"export {name}=", e.Message);
    }

    [Fact]
    public void UnsetVariableInAnInputList_IsKdg1025AtTheItem()
    {
        var name = "KDGAT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8];
        var e = Assert.Throws<KdgException>(() => Load(Config(stage: $"    inputs: [a.csv, '/d/${name}/b.csv']")));

        Assert.Equal(ErrorCodes.ResourceVariableUnset, e.Code);
        Assert.Equal((7, 21), (e.Line, e.Column));
        Assert.Contains("stage 'train'.inputs", e.Message);
    }

    [Fact]
    public void TildeInAnOutput_StaysRefusedAsAnAbsolutePath()
    {
        var e = Assert.Throws<KdgException>(() => Load(Config(stage: "    optional_outputs: ['~/x']")));
        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
    }
}
