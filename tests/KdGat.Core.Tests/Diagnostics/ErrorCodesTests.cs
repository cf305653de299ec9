using KdGat.Core.Diagnostics;

namespace KdGat.Core.Tests.Diagnostics;

[Trait("Category", "Unit")]
public sealed class ErrorCodesTests
{
    // Uniqueness, shape and the README table are checked by ErrorCodeDocumentationTests.
    [Fact]
    public void KdgException_ToString_IsMsBuildStyle()
    {
        Assert.Equal("/r/kdgat.yaml(3,5): error KDG1003: unknown key", new KdgException("KDG1003", "unknown key", "/r/kdgat.yaml", 3, 5).ToString());
        Assert.Equal("/r/kdgat.yaml: error KDG1102: unknown dataset", new KdgException("KDG1102", "unknown dataset", "/r/kdgat.yaml").ToString());
        Assert.Equal("error KDG3010: failed", new KdgException("KDG3010", "failed").ToString());
    }
}
