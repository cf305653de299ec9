using KdGat.Core.IO;
using KdGat.Core.Tests.Support;

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

    [Fact]
    public void LinkBeforeDotDot_IsTheLinkADotDotStepsOutOf_AndNullWhereTheTextMeansWhatTheSystemReads()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d["scratch/raw/hcrl_sa"]);
        Directory.CreateDirectory(d["repo/data/real/sub"]);
        Directory.CreateDirectory(d["scratch/raw/hcrl_sa/hcrl"]);
        Directory.CreateSymbolicLink(d["repo/data/lnk"], d["scratch/raw/hcrl_sa"]);
        var repo = d["repo"];

        Assert.Equal(d["repo/data/lnk"], PathText.LinkBeforeDotDot(repo, "data/lnk/../labels.csv"));
        Assert.Equal(d["repo/data/lnk"], PathText.LinkBeforeDotDot(repo, "./data/lnk/sub/../../x"));
        Assert.Equal(d["repo/data/lnk"], PathText.LinkBeforeDotDot(d["repo/data"], "lnk/.."));
        Assert.Null(PathText.LinkBeforeDotDot(repo, "data/lnk/labels.csv")); // through the link, no '..': the same file either way
        Assert.Null(PathText.LinkBeforeDotDot(repo, "data/real/sub/../x")); // '..' out of a real directory
        Assert.Null(PathText.LinkBeforeDotDot(repo, "data/lnk/hcrl/../x")); // '..' out of a real directory inside the link's target
        Assert.Null(PathText.LinkBeforeDotDot(d["repo/data/real"], "../../outside"));
        Directory.CreateSymbolicLink(d["repo/data/current"], "real"); // a version switch beside its target: '..' is the same folder
        Assert.Null(PathText.LinkBeforeDotDot(repo, "data/current/../labels.csv"));
    }
}
