using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

/// <summary>
/// Outputs may only be in their run dir or their dataset's cache dir, and touch nothing protected
/// of any dataset, whichever datasets a build selects: Clean deletes outputs. Every case selects
/// one dataset of a configuration with two.
/// </summary>
[Trait("Category", "Unit")]
public sealed class OutputRulesTests : IDisposable
{
    private TestPipeline? _p;
    public void Dispose() => _p?.Dispose();

    private IReadOnlyList<StageInstance> Instances(string output, string cache = "cache/{dataset}")
    {
        _p = new TestPipeline($$"""
            datasets: [d1, d2]
            paths:
              runs: runs
              raw: raw/{dataset}
              cache: {{cache}}
            stages:
              a:
                command: x
                params_file: models/a.yaml
                outputs: [{{output}}]
            """, "d1", "d2");
        _p.Dir.Write("models/a.yaml", "lr: 0.1\n");
        return _p.Instances([new("a", [])], "d1");
    }

    private KdgException Refused(string output, string cache = "cache/{dataset}")
    {
        var e = Assert.Throws<KdgException>(() => Instances(output, cache));
        Assert.Equal(ErrorCodes.UnsafeOutputPath, e.Code);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Contains("dataset d1", e.Message);
        return e;
    }

    [Theory]
    [InlineData("'{root}/models'")]                // the repository's own files
    [InlineData("'{root}/models/a.yaml'")]
    [InlineData("'{root}/src'")]
    [InlineData("'{root}/.git'")]
    [InlineData("'{root}/kdgat.yaml'")]
    [InlineData("'{tools}'")]                      // KdGat's tools
    [InlineData("'{tools}/KdGat.Tasks.dll'")]
    [InlineData("'{root}/.kdgat'")]                // KdGat's state
    [InlineData("'{root}/raw/d2'")]                // another dataset's raw data, d2 not selected
    [InlineData("'{root}/cache/d2'")]              // another dataset's cache dir
    [InlineData("'{root}/runs/d2/a/model.ckpt'")]  // another dataset's runs
    [InlineData("'{root}/runs/d1/.kdgat'")]        // the dataset's own KdGat state
    [InlineData("'{root}/runs'")]
    public void Output_OutsideItsRunDirAndCacheDir_IsKdg1204(string output) =>
        Assert.Contains("is outside its run dir", Refused(output).Message);

    [Theory]
    [InlineData("raw/{dataset}/cache", "is inside paths.raw")]
    [InlineData(".", "the pipeline root")]
    [InlineData("runs", "the runs root")]
    [InlineData(".kdgat/{dataset}", "KdGat's state (.kdgat)")]
    [InlineData("models/a.yaml/{dataset}", "params file of stage 'a'")]
    [InlineData("cache/shared", "the cache dir shared by datasets d1, d2")]
    public void Output_InACacheDirThatOverlapsSomethingProtected_IsKdg1204(string cache, string why) =>
        Assert.Contains(why, Refused("'{cache_dir}'", cache).Message);

    /// <summary>
    /// An output is refused where one of its stage's input globs, or any stage's code glob, could match what it
    /// writes, not wherever the glob's literal folder lies above it: 'data/*.txt' reaches nothing in
    /// data/cache/d1/ (the default cache dir beside raw: data/{dataset}), yet it was refused (a first-week review).
    /// And a code glob whose walk starts inside a run dir matched its stage's own output (a review of that change).
    /// </summary>
    [Theory]
    [InlineData("inputs: ['data/*.txt']", "'{cache_dir}/clean.txt'", null)]
    [InlineData("code: ['data/*.txt']", "'{cache_dir}/clean.txt'", null)]
    [InlineData("code: ['data/**/*.py']", "'{cache_dir}/clean.txt'", "overlaps code of stage 'a' (data/**/*.py)")] // what it could match, whatever its walk skips
    [InlineData("code: ['runs/d1/a/*.py']", "gen.py", "overlaps code of stage 'a' (runs/d1/a/*.py)")] // its walk starts inside the run dir: it reran at every build
    [InlineData("code: ['runs/d1/a/*.py']", "out.txt", null)]
    [InlineData("inputs: ['data/*/clean.txt']", "'{cache_dir}/clean.txt'", null)]
    [InlineData("inputs: ['data/cache/*/x.txt']", "'{cache_dir}/clean.txt'", null)]
    [InlineData("inputs: ['data/**/*.txt']", "'{cache_dir}/clean.txt'", "overlaps its input data/**/*.txt")]
    [InlineData("inputs: ['data/cache/*/x.txt']", "'{cache_dir}'", "overlaps its input data/cache/*/x.txt")]
    [InlineData("inputs: ['data/cache/d?/clean.txt']", "'{cache_dir}/clean.txt'", "overlaps its input")]
    [InlineData("inputs: ['data/cache/d1/clean.txt']", "'{cache_dir}'", "overlaps its input")]
    public void AnOutputBelowAGlobsFolder_IsRefusedOnlyWhereTheGlobCanMatchIt(string declared, string output, string? refused)
    {
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'data/{dataset}', cache: 'data/cache/{dataset}' }
            stages:
              a: { command: x, {{declared}}, outputs: [{{output}}] }
            """, "d1");
        if (refused is null) Assert.Single(_p.Instances([new("a", [])]));
        else Assert.Contains(refused, Assert.Throws<KdgException>(() => _p.Instances([new("a", [])])).Message);
    }

    /// <summary>
    /// Listed twice, inside another of the stage's outputs, or the run dir itself: refused at the entry. Listed
    /// twice, the commit crashed (KDG9001) at every build, and Explain after it (a first-week review).
    /// </summary>
    [Theory]
    [InlineData("model.ckpt, model.ckpt", "is listed twice")]
    [InlineData("model.ckpt, ./model.ckpt", "is listed twice")]
    [InlineData("'{run_dir}/m', m", "is listed twice")]
    [InlineData("plots, plots/a.png", "lies inside its output runs/d1/a/plots")]
    [InlineData("'{cache_dir}', '{cache_dir}/graphs'", "lies inside its output cache/d1")]
    [InlineData("'.'", "is the run dir itself")]
    [InlineData("'{run_dir}'", "is the run dir itself")]
    public void AnOutputListedTwice_InsideAnother_OrTheRunDir_IsKdg1204(string outputs, string why) =>
        Assert.Contains(why, Refused(outputs).Message);

    [Theory]
    [InlineData("model.ckpt")]
    [InlineData("'{run_dir}/sub/model.ckpt'")]
    [InlineData("'{cache_dir}'")]
    [InlineData("'{cache_dir}/graphs'")]
    [InlineData("'{root}/runs/d1/a/model.ckpt'")]
    public void Output_InItsRunDirOrCacheDir_IsAllowed(string output) =>
        Assert.Single(Instances(output));

    /// <summary>
    /// A literal code entry that is or holds KdGat's state or a folder stages write: `code: ["."]`
    /// fingerprinted .kdgat/ and the run dirs, and the stage reran at every build (a soundness
    /// review). At the entry; a wildcard and an ordinary folder load.
    /// </summary>
    [Theory]
    [InlineData("'.'", "KdGat's state (.kdgat)")]
    [InlineData("''", "KdGat's state (.kdgat)")]
    [InlineData("runs", "is runs, which stages write")]
    [InlineData("cache", "contains cache/d1, which stages write")]
    public void ACodeEntryHoldingStateOrWhatStagesWrite_IsKdg1041AtTheEntry(string code, string expected)
    {
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a:
                command: x
                outputs: [m]
                code: [src, {{code}}]
            """);
        var e = Assert.Throws<KdgException>(() => _p.Instances([new("a", [])]));

        Assert.Equal(ErrorCodes.CodeCoversState, e.Code);
        Assert.Contains(expected, e.Message);
        Assert.Equal((7, 17), (e.Line, e.Column));
    }

    [Theory]
    [InlineData("'**/*.py'")]
    [InlineData("src")]
    [InlineData("'.kdgat/tools'")]
    public void AWildcardOrAnOrdinaryCodeFolder_Loads(string code)
    {
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: x, outputs: [m], code: [{{code}}] }
            """);
        Assert.Single(_p.Instances([new("a", [])]));
    }
}
