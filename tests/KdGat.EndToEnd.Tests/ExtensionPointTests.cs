using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// Targets of the user's around the stage targets: one in a *DependsOn list (an extension point of
/// the builds that run stages) and one a stage target depends on. Counted by the marker lines they
/// append, not by log wording.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ExtensionPointTests
{
    private static int Runs(Sandbox s, string marker)
    {
        var file = Path.Combine(s.Dir, marker);
        return File.Exists(file) ? File.ReadAllLines(file).Length : 0;
    }

    /// <summary>
    /// PublishLarge in LargeDependsOn ran in every flow that only collects the stages (Explain, Status,
    /// Compare, Graph, KdGatStages, Clean) and twice per build: once more in the plan's second instance,
    /// before the content check (a review). Now it runs once per build that runs stages, and FetchData,
    /// a stage target's prerequisite, skips itself while KdGatCollectingStages is true.
    /// </summary>
    [Fact]
    public void OwnTargetInADependsOnList_RunsOncePerBuild_AndNeverWhileStagesAreOnlyCollected()
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        const string import = "  <Import Project=\"targets/KdGat.Pipeline.targets\" />";
        File.WriteAllText(proj, File.ReadAllText(proj)
            .Replace("<LargeDependsOn>eval_large_evaluation</LargeDependsOn>", "<LargeDependsOn>eval_large_evaluation;PublishLarge</LargeDependsOn>", StringComparison.Ordinal)
            .Replace("<Target Name=\"preprocess_stage\" ", "<Target Name=\"preprocess_stage\" DependsOnTargets=\"FetchData\" ", StringComparison.Ordinal)
            .Replace(import, """
                  <Target Name="PublishLarge"><WriteLinesToFile File="publish.marker" Lines="ran" /></Target>
                  <Target Name="FetchData" Condition="'$(KdGatCollectingStages)' != 'true'"><WriteLinesToFile File="fetch.marker" Lines="ran" /></Target>

                """ + import, StringComparison.Ordinal));
        Assert.Contains("DependsOnTargets=\"FetchData\"", File.ReadAllText(proj), StringComparison.Ordinal);

        // Nothing built yet, so no no-op certificate: the plan asks the second instance for the graph.
        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
        Assert.Equal((1, 1), (Runs(s, "publish.marker"), Runs(s, "fetch.marker")));

        foreach (var target in new[] { "-t:Explain", "-t:Status", "-t:Compare", "-t:Graph", "-t:KdGatStages", "-t:Clean" })
        {
            var r = s.Build(target, "-p:Dataset=hcrl_sa", "-noWarn:KDG1013");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True((1, 1) == (Runs(s, "publish.marker"), Runs(s, "fetch.marker")), $"{target} ran a target of the user's:\n{r}");
        }

        // Rebuild: Clean collects, Evaluate runs the stages again, and the targets once.
        var rebuild = s.Build("-t:Rebuild", "-p:Dataset=hcrl_sa");
        Assert.True(rebuild.ExitCode == 0, rebuild.ToString());
        Assert.Equal((2, 2), (Runs(s, "publish.marker"), Runs(s, "fetch.marker")));
    }
}
