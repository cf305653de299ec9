using KdGat.Core.Engine;

namespace KdGat.Core.Tests.Engine;

/// <summary>The plan certificate key's part of what the stage graph is made from.</summary>
[Trait("Category", "Unit")]
public sealed class GraphSourcesTests
{
    private static GraphSources Of(string[] stages, params (string Name, string Value)[] globals) =>
        new(stages, [.. globals.Select(g => KeyValuePair.Create(g.Name, g.Value))], ["/p/pipeline.proj"]);

    [Fact]
    public void AnotherPropertyValue_OrStageName_IsAnotherKey_TheirOrderIsNot()
    {
        var key = Of(["a", "b"], ("Dataset", "x"), ("Extra", "1")).KeyParts();
        Assert.Equal(key, Of(["b", "a", "a"], ("Extra", "1"), ("Dataset", "x")).KeyParts());
        Assert.NotEqual(key, Of(["a", "b"], ("Dataset", "x"), ("Extra", "2")).KeyParts());
        Assert.NotEqual(key, Of(["a", "b"], ("Dataset", "x")).KeyParts());
        Assert.NotEqual(key, Of(["a", "c"], ("Dataset", "x"), ("Extra", "1")).KeyParts());
    }
}
