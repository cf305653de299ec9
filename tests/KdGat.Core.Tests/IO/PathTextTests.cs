using KdGat.Core.IO;

namespace KdGat.Core.Tests.IO;

[Trait("Category", "Unit")]
public sealed class PathTextTests
{
    [Theory]
    [InlineData("/r/a", "/r/a", true)]
    [InlineData("/r/a/b", "/r/a", true)]
    [InlineData("/r/a/", "/r/a", true)]
    [InlineData("/r/ab", "/r/a", false)]
    [InlineData("/r", "/r/a", false)]
    public void IsUnder_ComparesWholePathSegments(string path, string dir, bool expected) =>
        Assert.Equal(expected, PathText.IsUnder(path, dir));

    [Fact]
    public void ToStored_FromStored_RoundTripRelativeToRoot()
    {
        var stored = PathText.ToStored("/r", "/r/runs/d1/s/out.txt");

        Assert.Equal("runs/d1/s/out.txt", stored);
        Assert.Equal("/r/runs/d1/s/out.txt", PathText.FromStored("/r", stored));
    }

    [Theory]
    [InlineData("/r/work/clone", "/data/raw/d1", "/data/raw/d1")]
    [InlineData("/r/deeper/dir/clone", "/data/raw/d1", "/data/raw/d1")]
    [InlineData("/r/clone", "/r/clone/data/d1", "<root>/data/d1")]
    [InlineData("/r/clone", "/r/clone-b/d1", "/r/clone-b/d1")]
    public void ForFingerprint_IsRootRelativeInsideAndAbsoluteOutside(string root, string path, string expected)
    {
        Assert.Equal(expected, PathText.ForFingerprint(root, path));
        Assert.Equal(path, PathText.FromStored(root, PathText.ToStored(root, path)));
    }
}
