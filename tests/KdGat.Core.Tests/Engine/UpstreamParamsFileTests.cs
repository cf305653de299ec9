using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// {upstream.X} gives a downstream stage X's whole run dir, params.json included (evaluation code
/// that reads the training run's hyperparameters). A parameter change that leaves X's declared
/// outputs byte-identical must still rerun the downstream: params.json is part of X's outputs digest.
/// </summary>
[Trait("Category", "Unit")]
public sealed class UpstreamParamsFileTests
{
    /// <summary>Stage a writes the same bytes whatever its parameter; b reads a's model and params.json.</summary>
    internal static string Yaml(string note, string store = "off") => $$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        cache_store: {{store}}
        defaults: { retries: 0 }
        stages:
          a:
            command: 'echo same > model.ckpt'
            params: { note: '{{note}}' }
            outputs: [model.ckpt]
          b:
            command: 'cat {upstream.a}/model.ckpt {upstream.a}/params.json > out.txt'
            outputs: [out.txt]
        """;

    [Fact]
    public async Task AnUpstreamParameterThatLeavesItsOutputsAlone_StillRerunsTheDownstreamThatReadsParamsJson()
    {
        using var d = NewRoot(Yaml("first"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));

        SetConfig(d, Yaml("second"));
        var r = await BuildAsync(d);

        Assert.True(r.Succeeded);
        Assert.Equal(["a", "b"], With(r, Outcome.Ran));
        Assert.Contains("second", File.ReadAllText(d["runs/d1/b/out.txt"]));
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran)); // and then it is up to date
    }

    /// <summary>
    /// params.json is KdGat's, written from the configuration: a hand edit of an up-to-date stage's
    /// copy would be read by a downstream that runs later (from scratch it would see the configured
    /// values), so the stage is stale until KdGat has written it again.
    /// </summary>
    [Theory]
    [InlineData("edited")]
    [InlineData("deleted")]
    public async Task AParamsJsonChangedByHand_MakesItsStageStale_AndTheDownstreamReadsTheConfiguredValues(string how)
    {
        using var d = NewRoot(Yaml("configured"));
        Assert.Equal(["a", "b"], With(await BuildAsync(d), Outcome.Ran));

        var paramsJson = d["runs/d1/a/params.json"];
        if (how == "edited") File.WriteAllText(paramsJson, File.ReadAllText(paramsJson).Replace("configured", "by-hand-x", StringComparison.Ordinal));
        else File.Delete(paramsJson);
        var r = await BuildAsync(d);

        Assert.True(r.Succeeded);
        Assert.Contains("a", With(r, Outcome.Ran));
        Assert.Contains(r.Stages.Single(x => x.Stage == "a").Reasons, x => x.Contains("params.json", StringComparison.Ordinal));
        Assert.Contains("configured", File.ReadAllText(paramsJson));
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran));
    }

    [Fact]
    public async Task ACommandThatRewritesItsParamsJson_IsRejected_AndThePreviousResultKept()
    {
        using var d = NewRoot(Yaml("configured"));
        Assert.True((await BuildAsync(d)).Succeeded);
        var before = File.ReadAllText(d["runs/d1/a/params.json"]);

        SetConfig(d, Yaml("configured").Replace("'echo same > model.ckpt'", "'echo same > model.ckpt; echo more >> {params_file}'", StringComparison.Ordinal));
        var log = new RecordingLog();
        var r = await BuildAsync(d, log: log);

        Assert.False(r.Succeeded);
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.ParamsFileChangedByStage);
        Assert.Equal(before, File.ReadAllText(d["runs/d1/a/params.json"]));
    }
}
