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
