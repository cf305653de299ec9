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
}
