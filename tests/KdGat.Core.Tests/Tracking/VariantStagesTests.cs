using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.Tracking;

/// <summary>
/// A Compare/Report variant whose stages named no stage was an all-'-' column without a word (a
/// review): a misspelt KdGatVariant, or a default variant whose *DependsOn names a stage's own
/// target (StageTarget="eval_large_target"). Targets are mapped to their stages; what is still no
/// stage is KDG5027.
/// </summary>
[Trait("Category", "Unit")]
public sealed class VariantStagesTests
{
    private static readonly string[] Stages = ["gat_large_curriculum", "eval_large_evaluation", "eval_small_evaluation_kd", "eval_small_evaluation"];

    private static readonly (string, string)[] Definitions =
        [("gat_large_curriculum", ""), ("eval_large_evaluation", "eval_large_target"), ("eval_small_evaluation_kd", ""), ("eval_small_evaluation", "")];

    [Fact]
    public void DependsOnNamingAStageTarget_IsThatStage()
    {
        var (variants, error) = VariantStages.Resolve(
            [new("large", ["gat_large_curriculum", "EVAL_large_target"], "LargeDependsOn"), new("small_kd", ["eval_small_evaluation_kd"], "SmallKdDependsOn")],
            Definitions, Stages, null);
        Assert.Null(error);
        Assert.Equal(["gat_large_curriculum", "eval_large_evaluation"], variants[0].Stages); // target names ignore case, as in MSBuild
        Assert.Equal(["eval_small_evaluation_kd"], variants[1].Stages);
    }

    [Fact]
    public void MisspeltStageInAKdGatVariant_IsKdg5027AtTheItem_WithTheNearestStage()
    {
        using var dir = new TempDir();
        var project = dir.Write("pipeline.proj", """
            <Project>
              <!-- <KdGatVariant Include="large" Stages="eval_large_evalution" /> -->
              <ItemGroup>
                <KdGatVariant Include="small_kd" Stages="eval_small_evaluation_kd" />
                  <KdGatVariant Include="large" Stages="eval_large_evalution" />
              </ItemGroup>
            </Project>
            """);
        var (variants, error) = VariantStages.Resolve(
            [new("small_kd", ["eval_small_evaluation_kd"], DefinedIn: project), new("large", ["eval_large_evalution"], DefinedIn: project)],
            Definitions, Stages, project);

        Assert.NotNull(error);
        Assert.Equal(ErrorCodes.UnknownVariantStage, error.Code);
        Assert.Equal("KDG5027", error.Code);
        Assert.Contains("variant 'large'", error.Message);
        Assert.Contains("'eval_large_evalution'", error.Message);
        Assert.Contains("KdGatVariant item's Stages", error.Message);
        Assert.Contains("Did you mean 'eval_large_evaluation'?", error.Message);
        Assert.Contains("Stages: gat_large_curriculum, eval_large_evaluation, eval_small_evaluation_kd, eval_small_evaluation.", error.Message);
        Assert.Equal((project, 5, 7), (error.File, error.Line, error.Column)); // not the commented-out one
        Assert.Equal(2, variants.Count); // still handed back, for Status's warning
    }

    [Fact]
    public void AKdGatVariantNamingAStageTarget_SaysWhoseTargetItIs()
    {
        var (_, error) = VariantStages.Resolve([new("large", ["eval_large_target"])], Definitions, Stages, null);
        Assert.NotNull(error);
        Assert.Contains("'eval_large_target' is the target of stage 'eval_large_evaluation': Stages names stages. Did you mean 'eval_large_evaluation'?", error.Message);
    }

    /// <summary>*DependsOn lists are extension points: a target of the user's own beside a stage target is left out, not refused (a review).</summary>
    [Fact]
    public void DependsOnNamingATargetOfTheUsersOwn_BesideAStageTarget_LeavesItOut()
    {
        var (variants, error) = VariantStages.Resolve([new("large", ["eval_large_target", "PublishLarge"], "LargeDependsOn")], Definitions, Stages, null);
        Assert.Null(error);
        Assert.Equal(["eval_large_evaluation"], variants[0].Stages);

        // A KdGatVariant's Stages name stages: there a name that is none is still refused.
        Assert.NotNull(VariantStages.Resolve([new("large", ["eval_large_evaluation", "PublishLarge"], null)], Definitions, Stages, null).Error);
    }

    [Fact]
    public void DependsOnNamingNoStagesTarget_IsKdg5027AtTheProperty()
    {
        using var dir = new TempDir();
        var project = dir.Write("pipeline.proj", """
            <Project>
              <PropertyGroup>
                <LargeDependsOn>eval_large_evaluation</LargeDependsOn>
              </PropertyGroup>
              <PropertyGroup>
                <LargeDependsOn>large_all</LargeDependsOn>
              </PropertyGroup>
            </Project>
            """);
        var (_, error) = VariantStages.Resolve([new("large", ["large_all"], "LargeDependsOn", "/kdgat/targets/KdGat.Tracking.targets")], Definitions, Stages, project);

        Assert.NotNull(error);
        Assert.Contains("variant 'large' takes its stages from the targets LargeDependsOn lists", error.Message);
        Assert.Contains("'large_all' is the target of no stage", error.Message);
        Assert.Contains("StageTarget=", error.Message);
        Assert.Equal((project, 6, 5), (error.File, error.Line, error.Column)); // the last assignment, the one MSBuild keeps

        var (_, given) = VariantStages.Resolve([new("large", ["large_all"], "LargeDependsOn")], Definitions, Stages, project, ["LargeDependsOn"]);
        Assert.Contains("-p:LargeDependsOn", given!.Message);
        Assert.Equal((project, 0), (given.File, given.Line));
    }

    [Fact]
    public void WithoutDefinitions_ATargetIsItsStagesName()
    {
        var (variants, error) = VariantStages.Resolve([new("large", ["eval_large_evaluation"], "LargeDependsOn")], [], Stages, null);
        Assert.Null(error);
        Assert.Equal(["eval_large_evaluation"], variants[0].Stages);
    }
}
