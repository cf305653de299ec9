using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Config;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

[Trait("Category", "Unit")]
public sealed class StageGraphTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml());
    public void Dispose() => _p.Dispose();

    private StageGraph Graph() => _p.Graph(KdGatGraph.Stages);

    private PipelineConfig Abc() =>
        ConfigLoader.Load(_p.Dir.Write("abc.yaml", """
            datasets: [d1]
            stages:
              a: { command: x, outputs: [o] }
              b: { command: x, outputs: [o] }
              c: { command: x, outputs: [o], teacher: a }
            """), _p.Root);

    [Fact]
    public void Build_KdGatGraph_KeepsDeclaredOrder()
    {
        var g = Graph();

        Assert.Equal(KdGatGraph.Names, g.Stages.Select(s => s.Name));
    }

    [Fact]
    public void Build_RepositoryPipeline_MatchesTestGraphAndValidatesAgainstRepositoryConfig()
    {
        var root = ConfigLoaderTests.RepoRoot();
        var declared = KdGatGraph.Declared(Path.Combine(root, "pipeline.proj"));

        var g = StageGraph.Build(declared, ConfigLoader.Load(Path.Combine(root, "kdgat.yaml"), root), "pipeline.proj");

        Assert.Equal(KdGatGraph.Names, g.Stages.Select(s => s.Name));
        foreach (var (mine, theirs) in KdGatGraph.Stages.Zip(g.Stages))
            Assert.Equal(mine.Needs.Order(StringComparer.Ordinal), theirs.Needs.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("gat_large_curriculum", new[] { "gat_large_curriculum", "dqn_large_fusion", "eval_large_evaluation", "gat_small_curriculum_kd", "dqn_small_fusion_kd", "eval_small_evaluation_kd" })]
    [InlineData("vgae_small_autoencoder", new[] { "vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion", "eval_small_evaluation" })]
    [InlineData("dqn_large_fusion", new[] { "dqn_large_fusion", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd" })]
    [InlineData("vgae_large_autoencoder", new[] { "vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion", "vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd" })]
    [InlineData("eval_small_evaluation", new[] { "eval_small_evaluation" })]
    public void WithDownstream_GivesExactSet(string stage, string[] expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), Graph().WithDownstream(stage, "pipeline.proj").Order(StringComparer.Ordinal));

    [Fact]
    public void WithDownstream_Preprocess_IsEveryStage() =>
        Assert.Equal(13, Graph().WithDownstream("preprocess", "pipeline.proj").Count);

    [Theory]
    [InlineData("preprocess", new[] { "preprocess" })]
    [InlineData("dqn_large_fusion", new[] { "preprocess", "vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion" })]
    [InlineData("eval_small_evaluation_kd", new[] { "preprocess", "vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion", "vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd", "eval_small_evaluation_kd" })]
    [InlineData("eval_small_evaluation", new[] { "preprocess", "vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion", "eval_small_evaluation" })]
    public void WithUpstream_GivesExactListInDependencyOrder(string stage, string[] expected) =>
        Assert.Equal(expected, Graph().WithUpstream(stage, "pipeline.proj").Select(s => s.Name));

    [Fact]
    public void RestrictTo_IsAGraphOfTheUpstreamClosure()
    {
        var g = Graph().RestrictTo("gat_small_curriculum_kd", "pipeline.proj");

        Assert.Equal(["preprocess", "vgae_large_autoencoder", "gat_large_curriculum", "vgae_small_autoencoder_kd", "gat_small_curriculum_kd"], g.Stages.Select(s => s.Name));
        Assert.Equal(["gat_small_curriculum_kd"], g.WithDownstream("gat_large_curriculum", "pipeline.proj").Except(["gat_large_curriculum"]));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("GAT_LARGE_CURRICULUM")]
    public void WithDownstreamAndWithUpstream_UnknownStage_IsKdg1203(string stage)
    {
        var g = Graph();

        var down = Assert.Throws<KdgException>(() => g.WithDownstream(stage, "pipeline.proj"));
        var up = Assert.Throws<KdgException>(() => g.WithUpstream(stage, "pipeline.proj"));

        Assert.Equal(ErrorCodes.UnknownStage, down.Code);
        Assert.Equal(ErrorCodes.UnknownStage, up.Code);
        Assert.Equal("pipeline.proj", down.File);
        Assert.Contains("preprocess, vgae_large_autoencoder", down.Message);
    }

    [Fact]
    public void Build_UnknownNeed_IsKdg1201()
    {
        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", ["zzz"])], Abc(), "pipeline.proj"));

        Assert.Equal(ErrorCodes.UnknownUpstream, e.Code);
        Assert.Equal("pipeline.proj", e.File);
        Assert.Contains("stage 'b' needs 'zzz', which no stage target declares", e.Message);
        Assert.DoesNotContain("Did you mean", e.Message);
        var typo = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", ["aa"])], Abc(), "pipeline.proj"));
        Assert.Contains("Did you mean 'a'?", typo.Message);
    }

    /// <summary>
    /// A stage of kdgat.yaml whose target never ran (the target of the stage that needs it lost its
    /// DependsOnTargets): it was "which no stage target declares. Did you mean 'c'?", the very name.
    /// </summary>
    [Fact]
    public void Build_NeedOfKdgatYamlWhoseTargetDidNotRun_IsKdg1201_NamingTheFix()
    {
        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", ["c"])], Abc(), "pipeline.proj"));

        Assert.Equal(ErrorCodes.UnknownUpstream, e.Code);
        Assert.Contains("'c', which is a stage of kdgat.yaml whose target did not run before the target of stage 'b'", e.Message);
        Assert.DoesNotContain("Did you mean", e.Message);
    }

    [Fact]
    public void Build_NeedDeclaredLater_IsKdg1201()
    {
        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("b", ["a"]), new("a", [])], Abc(), "pipeline.proj"));
        Assert.Equal(ErrorCodes.UnknownUpstream, e.Code);
        Assert.Contains("whose target runs after the target of stage 'b'", e.Message);
    }

    [Fact]
    public void Build_SelfOrMutualCycle_CannotBeDeclared()
    {
        // Needs must name stages declared before: a cycle can never be built.
        var self = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", ["a"])], Abc(), "pipeline.proj"));
        var mutual = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", ["a", "c"]), new("c", ["b"])], Abc(), "pipeline.proj"));

        Assert.Equal(ErrorCodes.UnknownUpstream, self.Code);
        Assert.Equal(ErrorCodes.UnknownUpstream, mutual.Code);
        // Said as a cycle, not as a DependsOnTargets to add (that would be a circle of targets: MSB4006).
        Assert.Contains("circle", mutual.Message);
        Assert.Contains("c -> b", mutual.Message);
        Assert.Contains("stage 'a' needs itself", self.Message); // not "'a' needs 'a', and 'a' needs 'a'" (a review)
    }

    [Fact]
    public void Build_DuplicateWithDifferentNeeds_IsKdg1202()
    {
        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", ["a"]), new("b", [])], Abc(), "pipeline.proj"));

        Assert.Equal(ErrorCodes.DuplicateStage, e.Code);
        Assert.Contains("'b'", e.Message);
    }

    /// <summary>
    /// KDG1201 and KDG1202 point at the KdGatStage item whose Needs to fix (they named the project
    /// file alone: the brief asks for file(line,col) where there is one): the item of that declaration,
    /// found by its Needs, not the first in the file (a review: with the declarations met in another
    /// order than the file's, the first item was the one that agreed). An item not written in the file
    /// (an imported target) leaves the file alone, as before.
    /// </summary>
    [Fact]
    public void Build_UnknownNeedAndDuplicate_AreAtTheKdGatStageItemOfThatDeclaration()
    {
        var proj = _p.Dir.Write("pipeline.proj", """
            <Project>
              <Target Name="a">
                <ItemGroup><KdGatStage Include="a" /></ItemGroup>
              </Target>
              <Target Name="b" DependsOnTargets="a">
                <ItemGroup><KdGatStage Include="b" Needs="a" /></ItemGroup>
              </Target>
              <Target Name="b_again">
                    <ItemGroup><KdGatStage Include="b" /></ItemGroup>
              </Target>
              <Target Name="c">
                <ItemGroup><KdGatStage Include="c" Needs="aa" /></ItemGroup>
              </Target>
            </Project>
            """);
        (string, int, int) Place(KdgException e) => (e.File!, e.Line, e.Column);

        var unknown = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("c", ["aa"])], Abc(), proj));
        Assert.Equal(ErrorCodes.UnknownUpstream, unknown.Code);
        Assert.Equal((proj, 12, 16), Place(unknown));

        var later = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", ["a"]), new("b", [])], Abc(), proj));
        Assert.Equal(ErrorCodes.DuplicateStage, later.Code);
        Assert.Equal((proj, 9, 20), Place(later));
        Assert.Contains("here: no Needs; first: Needs=\"a\"", later.Message);

        var earlier = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", []), new("b", ["a"])], Abc(), proj));
        Assert.Equal((proj, 6, 16), Place(earlier));
        Assert.Contains("here: Needs=\"a\"; first: no Needs", earlier.Message);

        var imported = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("d", ["aa"])], Abc(), proj));
        Assert.Equal((proj, 0, 0), Place(imported));
    }

    [Fact]
    public void Build_IdenticalDuplicate_IsKeptOnce()
    {
        var g = StageGraph.Build([new("a", []), new("b", ["a"]), new("b", ["a"])], Abc(), "pipeline.proj");

        Assert.Equal(["a", "b"], g.Stages.Select(s => s.Name));
    }

    [Fact]
    public void Build_StageWithoutConfigEntry_IsKdg1006()
    {
        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("extra", ["a"])], Abc(), "pipeline.proj"));

        Assert.Equal(ErrorCodes.StageNotConfigured, e.Code);
        Assert.EndsWith("abc.yaml", e.File);
        Assert.Equal(3, e.Line); // the 'stages:' mapping, where the entry goes (was no line; a README pass)
        var typo = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("bb", ["a"])], Abc(), "pipeline.proj"));
        Assert.Contains("Did you mean 'b'?", typo.Message);
    }

    /// <summary>A misspelt stage name: KDG1006 points at the KdGatStage item that has it, not at 'stages:' (user review).</summary>
    [Fact]
    public void Build_MisspeltStageItem_IsKdg1006AtThatItem()
    {
        var proj = _p.Dir.Write("pipeline.proj", """
            <Project>
              <Target Name="a">
                <ItemGroup><KdGatStage Include="a" /></ItemGroup>
              </Target>
              <Target Name="bb" DependsOnTargets="a">
                <ItemGroup><KdGatStage Include="bb" Needs="a" /></ItemGroup>
              </Target>
            </Project>
            """);

        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("bb", ["a"])], Abc(), proj));

        Assert.Equal(ErrorCodes.StageNotConfigured, e.Code);
        Assert.Equal((proj, 6, 16), (e.File, e.Line, e.Column));
        Assert.Contains("Did you mean 'b'? abc.yaml(4,6) has 'b'.", e.Message); // the entry's place too: the typo may be there
    }

    [Fact]
    public void Build_TeacherNotUpstream_IsKdg1010AtTheStageEntry()
    {
        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", []), new("c", ["b"])], Abc(), "pipeline.proj"));

        Assert.Equal(ErrorCodes.TeacherNotUpstream, e.Code);
        Assert.EndsWith("abc.yaml", e.File);
        Assert.Equal((5, 6), (e.Line, e.Column));
        Assert.Contains("teacher 'a'", e.Message);
    }

    /// <summary>A misspelt teacher is named as no stage, with a did-you-mean (it said to add the misspelt name to the Needs: a user review).</summary>
    [Fact]
    public void Build_MisspeltTeacher_IsKdg1010SayingDidYouMean()
    {
        var config = ConfigLoader.Load(_p.Dir.Write("typo.yaml", """
            datasets: [d1]
            stages:
              a: { command: x, outputs: [o] }
              b: { command: x, outputs: [o] }
              c: { command: x, outputs: [o], teacher: aa }
            """), _p.Root);

        var e = Assert.Throws<KdgException>(() => StageGraph.Build([new("a", []), new("b", []), new("c", ["a"])], config, "pipeline.proj"));

        Assert.Equal(ErrorCodes.TeacherNotUpstream, e.Code);
        Assert.Contains("teacher 'aa' is no stage of typo.yaml. Did you mean 'a'?", e.Message);
        Assert.DoesNotContain("Add it to the stage's Needs", e.Message);
    }

    [Fact]
    public void Build_UnknownStageInStageProperty_SaysDidYouMean()
    {
        var e = Assert.Throws<KdgException>(() => Graph().WithDownstream("gat_larg_curriculum", "pipeline.proj"));

        Assert.Equal(ErrorCodes.UnknownStage, e.Code);
        Assert.Contains("Did you mean 'gat_large_curriculum'?", e.Message);
    }

    [Fact]
    public void Build_UnknownStageInStageProperty_WithALineBreak_IsOneLine()
    {
        var e = Assert.Throws<KdgException>(() => Graph().WithDownstream("gat\nx", "pipeline.proj"));

        Assert.Equal(ErrorCodes.UnknownStage, e.Code);
        Assert.Contains("unknown stage 'gat\\nx'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Build_TeacherUpstream_IsAccepted()
    {
        var g = StageGraph.Build([new("a", []), new("b", []), new("c", ["b", "a"])], Abc(), "pipeline.proj");
        Assert.Equal(3, g.Stages.Count);
    }

    [Fact]
    public void Build_KdGatTeacherRemovedFromNeeds_IsKdg1010()
    {
        var stages = KdGatGraph.Stages.Select(s => s.Name == "gat_small_curriculum_kd" ? s with { Needs = ["vgae_small_autoencoder_kd"] } : s);

        var e = Assert.Throws<KdgException>(() => _p.Graph(stages));

        Assert.Equal(ErrorCodes.TeacherNotUpstream, e.Code);
        Assert.Contains("gat_large_curriculum", e.Message);
    }
}
