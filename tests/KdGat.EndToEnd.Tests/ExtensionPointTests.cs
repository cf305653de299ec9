using System.Text.RegularExpressions;
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
    /// a stage target's prerequisite, skips itself while KdGatCollectingStages is true; RunStage and
    /// Adopt run both as Evaluate does.
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

        // RunStage and Adopt act on the stages a build runs, so the targets run there as in Evaluate:
        // for a stage PublishLarge's list does not select, and though Adopt runs no stage (README).
        foreach (var (args, runs) in new[] { (new[] { "-t:RunStage", "-p:Stage=preprocess" }, 3), (["-t:Adopt"], 4) })
        {
            var r = s.Build([.. args, "-p:Dataset=hcrl_sa"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal((runs, runs), (Runs(s, "publish.marker"), Runs(s, "fetch.marker")));
        }
    }

    /// <summary>
    /// A stage target listed in LargeDependsOn whose KdGatStageDefinition was removed: Evaluate stopped
    /// with KDG1212, but the flows that only collect the stages took it for a target of the user's and
    /// did not run it: Explain showed 12 of 13 stages and a KDG1012 warning, Status and Clean left the
    /// stage out without a word (a review), and so did KdGatStages, which IDEs call. Now each stops with the same KDG1212 before collecting,
    /// Clean deletes nothing, and the user's PublishLarge in the same list still runs in none of them.
    /// </summary>
    [Fact]
    public void StageTargetListedWithoutItsDefinition_IsKdg1212_InTheFlowsThatOnlyCollect_AsInEvaluate()
    {
        using var s = Sandbox.Trivial();
        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        const string import = "  <Import Project=\"targets/KdGat.Pipeline.targets\" />";
        File.WriteAllText(proj, File.ReadAllText(proj)
            .Replace("<KdGatStageDefinition Include=\"eval_large_evaluation;", "<KdGatStageDefinition Include=\"", StringComparison.Ordinal)
            .Replace("<LargeDependsOn>eval_large_evaluation</LargeDependsOn>", "<LargeDependsOn>eval_large_evaluation;PublishLarge</LargeDependsOn>", StringComparison.Ordinal)
            .Replace(import, """
                  <Target Name="PublishLarge"><WriteLinesToFile File="publish.marker" Lines="ran" /></Target>

                """ + import, StringComparison.Ordinal));
        Assert.DoesNotContain("Include=\"eval_large_evaluation;", File.ReadAllText(proj), StringComparison.Ordinal);
        var metrics = Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "metrics.json");
        Assert.True(File.Exists(metrics));

        foreach (var target in new[] { "-t:Explain", "-t:Status", "-t:Graph", "-t:Clean", "-t:Evaluate" })
        {
            var r = s.Build(target, "-p:Dataset=hcrl_sa");
            Assert.True(r.ExitCode != 0 && !r.Output.Contains("KDG1012", StringComparison.Ordinal)
                && Regex.IsMatch(r.Output, @"pipeline\.proj\(\d+,\d+\): error KDG1212: stage\(s\) eval_large_evaluation "), $"{target}:\n{r}");
        }
        // KdGatStages, what an IDE lists (without the tools), left the stage out without a word; it says KDG1212 too,
        // with the definition to add (at the file: no position without the tools).
        var stages = s.Build("-t:KdGatStages", "-p:KdGatToolsDir=no-tools/");
        Assert.True(stages.ExitCode != 0 && stages.Output.Contains("pipeline.proj : error KDG1212: stage(s) eval_large_evaluation have a target but no KdGatStageDefinition item", StringComparison.Ordinal)
            && stages.Output.Contains("Add <KdGatStageDefinition Include=\"eval_large_evaluation\" /> to", StringComparison.Ordinal) && !stages.Output.Contains("PublishLarge", StringComparison.Ordinal), stages.ToString());
        Assert.True(File.Exists(metrics), "Clean deleted the stage's outputs");
        Assert.Equal(0, Runs(s, "publish.marker"));

        // The stage switched off by commenting out its KdGatStage item declares nothing: no KDG1212 (the regex read comments too).
        const string item = "<ItemGroup><KdGatStage Include=\"eval_large_evaluation\"";
        File.WriteAllText(proj, File.ReadAllText(proj).Replace(item, "<!-- " + item, StringComparison.Ordinal)
            .Replace("dqn_large_fusion\" /></ItemGroup>", "dqn_large_fusion\" /></ItemGroup> -->", StringComparison.Ordinal));
        Assert.Contains("<!-- " + item, File.ReadAllText(proj), StringComparison.Ordinal);
        var off = s.Build("-t:KdGatStages", "-p:KdGatToolsDir=no-tools/");
        Assert.True(off.ExitCode == 0 && !off.Output.Contains("KDG1212", StringComparison.Ordinal), off.ToString());
    }
}
