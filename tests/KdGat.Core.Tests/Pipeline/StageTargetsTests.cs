using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

[Trait("Category", "Unit")]
public sealed class StageTargetsTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    internal const string Project = """
        <Project DefaultTargets="Evaluate">
          <ItemGroup>
            <KdGatStageDefinition Include="pre;b" />
          </ItemGroup>
          <Target Name="pre_stage">
            <ItemGroup><KdGatStage Include="pre" /></ItemGroup>
          </Target>
            <Target Name="b" DependsOnTargets="pre_stage">
              <ItemGroup>
                <KdGatStage Include=" x ; b" Needs="pre" />
              </ItemGroup>
            </Target>
        </Project>
        """;

    [Fact]
    public void Find_GivesTheItemAndItsTarget_AtTheirOpeningBracket()
    {
        var file = _dir.Write("pipeline.proj", Project);

        Assert.Equal((new ProjectPlace(file, 6, 16), new ProjectPlace(file, 5, 3)), StageTargets.Find(file, "pre"));
        Assert.Equal((new ProjectPlace(file, 10, 9), new ProjectPlace(file, 8, 5)), StageTargets.Find(file, "b"));
    }

    /// <summary>Each declaration's Needs and metadata names, so an error can point at the item it is about (KDG1202, KDG1214), not the first.</summary>
    [Fact]
    public void FindAll_GivesEveryDeclaration_WithItsNeedsAndMetadataNames()
    {
        var file = _dir.Write("two.proj", """
            <Project>
              <Target Name="a"><ItemGroup><KdGatStage Include="s" Needs="x;y" /></ItemGroup></Target>
              <Target Name="b"><ItemGroup><KdGatStage Include="s" Need="x" Condition="true"><Extra>1</Extra></KdGatStage></ItemGroup></Target>
            </Project>
            """);

        var all = StageTargets.FindAll(file, "s").ToArray();

        Assert.Equal([2, 3], all.Select(d => d.Item.Line));
        Assert.Equal(["x", "y"], all[0].Needs);
        Assert.Equal(["Needs"], all[0].Metadata);
        Assert.Empty(all[1].Needs);
        Assert.Equal(["Need", "Extra"], all[1].Metadata);
    }

    [Fact]
    public void Find_IsNull_ForAStageNotWrittenThere_OrAFileItCannotRead()
    {
        var file = _dir.Write("pipeline.proj", Project);
        Assert.Null(StageTargets.Find(file, "c")); // only KdGatStageDefinition or nowhere: not a target
        Assert.Null(StageTargets.Find(_dir["missing.proj"], "pre"));
        Assert.Null(StageTargets.Find(_dir.Write("broken.proj", "<Project><Target"), "pre"));
        Assert.Null(StageTargets.Find(_dir.Write("dtd.proj", "<!DOCTYPE p [<!ENTITY e 'x'>]><Project/>"), "pre"));
    }
    /// <summary>
    /// KDG1223: a KdGatStageDefinition naming a target the project lacks (StageTarget="pre_stge", or no
    /// StageTarget where the target is not the stage's name) said nothing, and -t:pre_stage alone ran
    /// nothing and succeeded (its KDG1216 hangs on the definition). Now an error at the definition,
    /// naming the target the stage is declared in as the fix.
    /// </summary>
    [Theory]
    [InlineData("StageTarget=\"pre_stge\"", "pre_stge")]
    [InlineData("", "pre")]
    public void ADefinitionNamingNoTarget_IsKdg1223_AtTheDefinition_NamingTheStagesTarget(string stageTarget, string named)
    {
        var file = _dir.Write("pipeline.proj", Project.Replace("<KdGatStageDefinition Include=\"pre;b\" />",
            $"<KdGatStageDefinition Include=\"pre\" {stageTarget} />\n    <KdGatStageDefinition Include=\"b\" />"));

        var e = StageTargets.UndefinedStageTarget([file, _dir["KdGat.Pipeline.targets"]], [("pre", named), ("b", "b")]);

        Assert.NotNull(e);
        Assert.Equal(("KDG1223", Severity.Warning), (e.Code, e.Severity)); // the target may be in an import KdGat does not read
        Assert.Equal((file, 3, 5), (e.File, e.Line, e.Column));
        Assert.Contains("KdGatGraphFile", e.Message);
        Assert.Contains($"names the stage target '{named}'", e.Message);
        Assert.Contains($"declared in the target 'pre_stage' ({file}(6,3))", e.Message);
        Assert.Contains("StageTarget=\"pre_stage\"", e.Message);
    }

    private Func<PipelineConfig> Yaml(params string[] stages) => () => ConfigLoader.Load(_dir.Write("kdgat.yaml",
        "datasets: [d1]\nstages:\n" + string.Concat(stages.Select(s => $"  {s}: {{ command: x, outputs: [o_{s}] }}\n"))), _dir.Path);

    /// <summary>
    /// KDG1212 before the collecting: a stage target in AllStagesDependsOn that no KdGatStageDefinition
    /// names counted as a target of the user's there, so Explain showed the other stages (with KDG1012)
    /// and Status and Clean left it out, while Evaluate stopped with KDG1212. Said at the target, with
    /// the definition to add (StageTarget when the target has another name).
    /// </summary>
    [Fact]
    public void AListedStageTargetNoDefinitionNames_IsKdg1212_AtTheTarget()
    {
        var file = _dir.Write("pipeline.proj", Project);
        var config = Yaml("pre", "x", "b");

        var e = StageTargets.UndefinedListedStage([file], ["pre_stage", " b "], [("pre", "pre_stage")], config, file);

        Assert.NotNull(e);
        Assert.Equal(("KDG1212", file, 8, 5), (e.Code, e.File, e.Line, e.Column));
        Assert.StartsWith("stage(s) x, b have a target", e.Message);
        Assert.Contains("<KdGatStageDefinition Include=\"x\" StageTarget=\"b\" /> and <KdGatStageDefinition Include=\"b\" />", e.Message);
    }

    /// <summary>
    /// An optional stage: its definition, target (or item) under a condition that is off in this build. The evaluated
    /// definitions lack it, the text cannot tell whether the condition holds: not refused here (a review: it was, where
    /// the build had built the other stages); if the target runs, the build's own KDG1212 stops it.
    /// </summary>
    [Theory]
    [InlineData("<Target Name=\"extra\" Condition=\"'$(WithExtra)' == 'true'\"><ItemGroup><KdGatStage Include=\"extra\" /></ItemGroup></Target>")]
    [InlineData("<Target Name=\"extra\"><ItemGroup Condition=\"'$(WithExtra)' == 'true'\"><KdGatStage Include=\"extra\" /></ItemGroup></Target>")]
    [InlineData("<Target Name=\"extra\"><ItemGroup><KdGatStage Include=\"extra\" Condition=\"'$(WithExtra)' == 'true'\" /></ItemGroup></Target>")]
    public void AConditionalStageDeclaration_IsNotRefused(string target)
    {
        var file = _dir.Write("pipeline.proj", Project.Replace("</Project>", target + "\n</Project>"));
        var config = Yaml("pre", "b", "extra");

        Assert.Null(StageTargets.UndefinedListedStage([file], ["pre_stage", "b", "extra"], [("pre", "pre_stage"), ("b", "b")], config, file));
    }

    /// <summary>
    /// A listed target of the user's (no KdGatStage in it) stays one, however named; one not written in the
    /// files read (imported from elsewhere) is KDG1212 at its stage in kdgat.yaml when it has the name of
    /// a stage without a definition; nothing without definitions (the collecting then runs every listed target).
    /// </summary>
    [Fact]
    public void AListedTargetOfTheUsers_IsNoError_AndAnUnreadOneNamedLikeAnUndefinedStage_IsKdg1212()
    {
        var file = _dir.Write("pipeline.proj", Project.Replace("</Project>", """
              <Target Name="Publish"><Message Text="x" /></Target>
              <Target Name="x"><Message Text="named like a stage, declares none" /></Target>
            </Project>
            """));
        var config = Yaml("pre", "b", "x", "imported");
        (string, string)[] defined = [("pre", "pre_stage"), ("b", "b")];

        Assert.Null(StageTargets.UndefinedListedStage([file], ["PRE_STAGE", "b", "Publish", "x", "elsewhere"], defined, config, file));
        Assert.Null(StageTargets.UndefinedListedStage([file], ["Imported"], [], config, file));
        Assert.Null(StageTargets.UndefinedListedStage([file], ["Imported"], [("imported", "imp_stage")], config, file));
        var e = StageTargets.UndefinedListedStage([file], ["b", "Imported"], defined, config, file);
        Assert.Equal(("KDG1212", _dir["kdgat.yaml"], config().Stages["imported"].Line), (e?.Code, e?.File, e?.Line));
        Assert.Contains("Add <KdGatStageDefinition Include=\"imported\" /> to", e!.Message); // target names ignore case
    }

    /// <summary>No error where the target exists in any case or in another graph file, or where the stage's own target cannot be found (imported from a file KdGat does not read).</summary>
    [Fact]
    public void ADefinitionWhoseTargetExists_OrWhoseStageIsDeclaredElsewhere_IsNoError()
    {
        var file = _dir.Write("pipeline.proj", Project);
        var other = _dir.Write("stages.targets", """
            <Project>
              <Target
                 Name = "Imported"><ItemGroup><KdGatStage Include="imp" /></ItemGroup></Target>
              <Target Name="c_stage"><Output PropertyName="renamed" /><ItemGroup><KdGatStage Include="c" /></ItemGroup></Target>
            </Project>
            """);

        Assert.Null(StageTargets.UndefinedStageTarget([file], [("pre", "PRE_STAGE"), ("b", "b")]));
        Assert.Null(StageTargets.UndefinedStageTarget([file, other], [("imp", "imported")]));
        Assert.Null(StageTargets.UndefinedStageTarget([file], [("imp", "imp_stage"), ("elsewhere", "elsewhere")]));
        // PropertyName="renamed" is not a target called renamed
        Assert.Equal("KDG1223", StageTargets.UndefinedStageTarget([file, other], [("c", "renamed")])?.Code);
        Assert.Null(StageTargets.UndefinedStageTarget([_dir["missing.proj"]], [("pre", "x")]));
    }
    /// <summary>
    /// A stage target named like a public target that only DependsOnTargets reaches, in a project
    /// without KdGatStageDefinition items ('evaluate', 'train'): MSBuild's uncoded MSB4006 or Train's
    /// KDG1221 though no one asked for Train. KDG1215 at that target, any case, in any file of the graph.
    /// </summary>
    [Fact]
    public void AStageTargetNamedLikeAReservedTarget_IsKdg1215_AtThatTarget()
    {
        string[] reserved = ["Evaluate", "Train", "Build"];
        var file = _dir.Write("pipeline.proj", Project.Replace("<Target Name=\"b\" DependsOnTargets=\"pre_stage\">", "<Target Name=\"evaluate\" DependsOnTargets=\"pre_stage\">"));
        var imported = _dir.Write("stages.targets", "<Project>\n  <Target Name='TRAIN'><ItemGroup><KdGatStage Include='t' /></ItemGroup></Target>\n</Project>");

        var e = StageTargets.ReservedStageTarget([file], reserved);

        Assert.NotNull(e);
        Assert.Equal(("KDG1215", file, 8, 5), (e.Code, e.File, e.Line, e.Column));
        Assert.Contains("the stage target 'evaluate' has the name of one of KdGat's or MSBuild's own targets", e.Message);
        Assert.Contains("StageTarget=\"evaluate_stage\"", e.Message);
        Assert.Equal((imported, 2), (StageTargets.ReservedStageTarget([_dir.Write("ok.proj", Project), imported], reserved)?.File, StageTargets.ReservedStageTarget([imported], reserved)!.Line));
    }

    /// <summary>A target of that name that declares no stage (a deliberate override of Build after KdGat's import), or a stage target of another name, is no error.</summary>
    [Fact]
    public void AReservedNameThatIsNoStageTarget_IsNoError()
    {
        var file = _dir.Write("pipeline.proj", Project.Replace("</Project>", "  <Target Name=\"Build\" DependsOnTargets=\"Evaluate\" />\n</Project>"));
        Assert.Null(StageTargets.ReservedStageTarget([file], ["Evaluate", "Build", "pre"]));
        Assert.Null(StageTargets.ReservedStageTarget([_dir["missing.proj"]], ["Evaluate"]));
    }
}
