using System.Collections;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// KDG1225: MSBuild makes every environment variable a property, so STAGE=dev in the shell was -p:Stage=dev
/// without a word, and KDG1203 blamed a "-p:Stage" never passed (the rvswitches review).
/// </summary>
[Trait("Category", "Unit")]
public sealed class EnvironmentPropertiesTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private static IReadOnlyList<EnvironmentProperty> Find(IDictionary env, string[] global, Dictionary<string, string> values) =>
        EnvironmentProperties.Find(env, global, name => values.GetValueOrDefault(name));

    [Fact]
    public void AVariableNamedLikeAProperty_WithItsValue_CameFromTheEnvironment()
    {
        var env = new Hashtable { ["STAGE"] = "dev", ["PATH"] = "/bin", ["wait"] = "false", ["LIMIT"] = "5" };
        var found = Find(env, [], new() { ["Stage"] = "dev", ["Wait"] = "false" });

        // LIMIT: this task has no Limit (a build), so it changes nothing here.
        Assert.Equal([new EnvironmentProperty("Stage", "STAGE", "dev"), new EnvironmentProperty("Wait", "wait", "false")], found);
    }

    [Theory]
    [InlineData("Stage")] // -p:Stage=... wins over the environment
    [InlineData("stage")] // names ignore case
    public void APropertyGivenWithP_IsNot(string global) =>
        Assert.Empty(Find(new Hashtable { ["STAGE"] = "dev" }, [global], new() { ["Stage"] = "dev" }));

    [Fact]
    public void AValueTheProjectSet_OrAnEmptyOne_IsNot()
    {
        Assert.Empty(Find(new Hashtable { ["EXECUTOR"] = "slurm" }, [], new() { ["Executor"] = "local" })); // the project's <Executor>
        Assert.Empty(Find(new Hashtable { ["DATASET"] = " " }, [], new() { ["Dataset"] = " " }));
        Assert.Empty(Find(new Hashtable { ["DATASET"] = "hcrl_sa" }, [], new())); // the task does not read it
    }

    /// <summary>
    /// WAIT=true is the default, so it changes nothing, yet it was warned about (the fxenvrest brief). A value
    /// equal to the property's fixed default as KdGat reads it is not one; any other value is.
    /// </summary>
    [Theory]
    [InlineData("Wait", "true")]
    [InlineData("Wait", " YES ")] // YesNo's words and spaces
    [InlineData("CancelOnAbort", "on")]
    [InlineData("LiveReport", "1")]
    [InlineData("VerifyHashes", "false")]
    [InlineData("FailIfStale", "No")]
    [InlineData("AdoptOverwrite", "0")]
    [InlineData("KdGatTracking", "TRUE")] // the targets' conditions ignore case
    [InlineData("KdGatSkipBootstrap", "false")]
    [InlineData("KdGatToolsConfiguration", "Debug")]
    [InlineData("LiveReportRefresh", " 5")]
    public void AValueEqualToTheDefault_ChangesNothing_AndIsNot(string property, string value) =>
        Assert.Empty(Find(new Hashtable { [property.ToUpperInvariant()] = value }, [], new() { [property] = value }));

    [Theory]
    [InlineData("Wait", "false")]
    [InlineData("Wait", "maybe")] // not a word: its KDG1205 names the variable
    [InlineData("VerifyHashes", "on")]
    [InlineData("KdGatTracking", "yes")] // the targets take only true or false: KDG1205
    [InlineData("KdGatToolsConfiguration", "debug")] // another stamp: the tools are built again
    [InlineData("LiveReportRefresh", "05x")]
    [InlineData("LiveReportRefresh", "6")]
    [InlineData("Executor", "local")] // kdgat.yaml's default is not fixed: the variable pins it
    public void AnyOtherValue_Is(string property, string value) =>
        Assert.Single(Find(new Hashtable { [property.ToUpperInvariant()] = value }, [], new() { [property] = value }));

    [Fact]
    public void TheWarning_NamesTheVariable_AndHowToKeepItOut()
    {
        var request = _p.Request(KdGatGraph.Stages) with { PipelineFile = "/r/pipeline.proj", FromEnvironment = [new("Dataset", "DATASET", "hcrl_sa")] };

        var w = Assert.Single(EnvironmentProperties.Warnings(request));

        Assert.Equal((Severity.Warning, ErrorCodes.PropertyFromEnvironment, "/r/pipeline.proj"), (w.Severity, w.Code, w.File));
        Assert.Contains("Dataset is 'hcrl_sa' from the environment variable DATASET, not from -p:Dataset", w.Message);
        Assert.Contains("not every dataset", w.Message);
        Assert.Contains("unset DATASET", w.Message);
        Assert.Contains("-p:Dataset=", w.Message);
        Assert.Empty(EnvironmentProperties.Warnings(request with { FromEnvironment = [] }));
    }

    [Fact]
    public async Task AnUnknownStageFromTheEnvironment_IsKdg1203NamingTheVariable_NotMinusP()
    {
        var request = _p.Request(KdGatGraph.Stages) with { OnlyStage = "dev", FromEnvironment = [new("Stage", "STAGE", "dev")] };

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(request, new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.UnknownStage, e.Code);
        Assert.Contains("unknown stage 'dev' in the environment variable STAGE", e.Message);
        Assert.DoesNotContain("in -p:Stage", e.Message);
        var p = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(request with { FromEnvironment = [] }, new RecordingLog(), CancellationToken.None));
        Assert.Contains("unknown stage 'dev' in -p:Stage.", p.Message);
    }

    [Fact]
    public async Task AnUnknownDatasetFromTheEnvironment_NamesTheVariable()
    {
        var request = _p.Request(KdGatGraph.Stages, datasets: "d9") with { FromEnvironment = [new("Dataset", "DATASET", "d9")] };

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(request, new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.UnknownDataset, e.Code);
        Assert.Contains("unknown dataset 'd9' in the environment variable DATASET", e.Message);
    }

    [Fact]
    public async Task ASweepFromTheEnvironment_IsKdg1033NamingTheVariable()
    {
        var request = _p.Request(KdGatGraph.Stages) with { Sweep = "seed=1", FromEnvironment = [new("Sweep", "SWEEP", "seed=1")] };

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(request, new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.SweepSelection, e.Code);
        Assert.StartsWith("the environment variable SWEEP (MSBuild makes it the property Sweep; no -p:Sweep was given), 'seed=1': ", e.Message);
    }

    [Fact]
    public async Task AnExplainWithAStageFromTheEnvironment_HonoursIt_AndWarns()
    {
        var log = new RecordingLog();
        var request = _p.Request(KdGatGraph.Stages) with { Mode = BuildMode.Explain, OnlyStage = "preprocess", FromEnvironment = [new("Stage", "STAGE", "preprocess")] };

        var report = await new BuildEngine().RunAsync(request, log, CancellationToken.None);

        Assert.Equal(["preprocess"], report.Stages.Select(s => s.Stage).Distinct());
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.PropertyFromEnvironment && d.Message.Contains("environment variable STAGE"));
    }

    /// <summary>FAILIFSTALE=1 in the environment made the gate's errors say "-p:FailIfStale=true" (the fxenvrest brief).</summary>
    [Fact]
    public async Task TheGateFromTheEnvironment_IsNamedAsThatVariable()
    {
        var log = new RecordingLog();
        var request = _p.Request(KdGatGraph.Stages) with { Mode = BuildMode.Explain, FailIfStale = true, FromEnvironment = [new("FailIfStale", "FAILIFSTALE", "1")] };

        await new BuildEngine().RunAsync(request, log, CancellationToken.None);

        var stale = log.Items.Where(d => d.Code == ErrorCodes.StaleUnderGate).ToArray();
        Assert.NotEmpty(stale);
        Assert.All(stale, d => Assert.Contains("(-question or FAILIFSTALE=1 in the environment (the property FailIfStale; no -p:FailIfStale))", d.Message));
        Assert.DoesNotContain(stale, d => d.Message.Contains("-p:FailIfStale=true", StringComparison.Ordinal));
    }

    [Fact]
    public void ASetting_NamesTheVariableWithItsOwnText_OrTheMinusP()
    {
        IReadOnlyList<EnvironmentProperty> env = [new("Wait", "wait", " no ")];
        Assert.Equal("wait=no in the environment (the property Wait; no -p:Wait)", EnvironmentProperties.Setting(env, "Wait", "false"));
        Assert.Equal("-p:Wait=false", EnvironmentProperties.Setting([], "Wait", "false"));
        Assert.Equal("-p:CacheMaxSize='20'", EnvironmentProperties.WithValue(null, "CacheMaxSize", "20"));
        Assert.Equal("-p:CacheMaxSize='20'", EnvironmentProperties.WithValue("-p:CacheMaxSize", "CacheMaxSize", "20"));
    }

    /// <summary>The properties README's "Properties (-p:)" table lists: each row's backticked names and its default column.</summary>
    private static IReadOnlyList<(string Property, string Default)> ReadmeProperties()
    {
        var lines = File.ReadAllLines(Path.Combine(Config.ConfigLoaderTests.RepoRoot(), "README.md"));
        var start = Array.FindIndex(lines, l => l.StartsWith("### Properties (`-p:`)", StringComparison.Ordinal));
        Assert.True(start >= 0, "README has no \"### Properties (`-p:`)\" section");
        var rows = lines.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2); // header, |---|
        return [.. rows.SelectMany(row =>
        {
            var cells = row.Split('|');
            return System.Text.RegularExpressions.Regex.Matches(cells[1], "`([A-Za-z]+)`").Select(m => (m.Groups[1].Value, cells[2].Trim()));
        })];
    }

    /// <summary>
    /// A property added to README's table but not to the list KDG1225 (and KDG1217) checks would take an environment
    /// variable's value without a word, as STAGE did before KDG1225 (the fxmsgs brief: no test tied the two).
    /// </summary>
    [Fact]
    public void EveryPropertyOfReadmesTable_IsOneTheEnvironmentCheckKnows_AndNoOther()
    {
        var documented = ReadmeProperties().Select(p => p.Property).ToArray();

        Assert.True(documented.Length > 20, $"README's properties table read as {documented.Length} names");
        Assert.Equal(documented.Order(StringComparer.Ordinal), PropertySpelling.Known.Order(StringComparer.Ordinal));
    }

    /// <summary>A fixed default README gives (a word or number, not a path) changes nothing, so its variable is not said (WAIT=true; KDG1225's row).</summary>
    [Fact]
    public void EveryFixedDefaultOfReadmesTable_ChangesNothing()
    {
        var fixedDefaults = ReadmeProperties()
            .Select(p => (p.Property, Match: System.Text.RegularExpressions.Regex.Match(p.Default, "^`([A-Za-z0-9]+)`$")))
            .Where(p => p.Match.Success).Select(p => (p.Property, Value: p.Match.Groups[1].Value)).ToArray();

        Assert.True(fixedDefaults.Length >= 10, $"README's properties table gave {fixedDefaults.Length} fixed defaults");
        Assert.All(fixedDefaults, p => Assert.True(EnvironmentProperties.ChangesNothing(p.Property, p.Value), $"{p.Property}={p.Value}, README's default, is said by KDG1225"));
    }
}
