using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;

namespace KdGat.Core.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class PropertySpellingTests
{
    private static IReadOnlyList<Diagnostic> For(params string[] names) =>
        PropertySpelling.Warnings(new BuildRequest { Root = "/r", ConfigFile = "kdgat.yaml", ToolsDir = "/t", PipelineFile = "/r/pipeline.proj", Stages = [], GlobalPropertyNames = names });

    /// <summary>A user review: -t:Explain -p:Datset=hcrl_sa selected all six datasets without a word (a build would have run, or submitted, every one).</summary>
    [Fact]
    public void AMisspeltProperty_IsKdg1217_NamingTheOneMeant()
    {
        var w = Assert.Single(For("Datset"));
        Assert.Equal((Severity.Warning, ErrorCodes.PropertyMisspelt, "/r/pipeline.proj"), (w.Severity, w.Code, w.File));
        Assert.Contains("-p:Datset is not a property KdGat reads", w.Message);
        Assert.Contains("every dataset is selected", w.Message);
        Assert.Contains("Did you mean -p:Dataset?", w.Message);
        Assert.Contains("Did you mean -p:Executor?", Assert.Single(For("executr")).Message);
    }

    [Theory]
    [InlineData("Dataset")]
    [InlineData("dataset")] // MSBuild property names ignore case
    [InlineData("Configuration")] // MSBuild's own, far from KdGat's
    [InlineData("_KdGatPlanKeysOnly")] // KdGat's private ones
    [InlineData("DesignTimeBuild")]
    public void KnownOrUnrelatedProperties_AreNotWarnedAbout(string name) => Assert.Empty(For(name));
}
