using KdGat.Core.Caching;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Engine;
using Xunit;

namespace KdGat.Core.Tests.Caching;

[Trait("Category", "Unit")]
public sealed class CacheCollectorTests
{
    [Fact]
    public void Collect_WithTheCacheOff_HasItsOwnCode_NotTheBadPropertyOne()
    {
        using var root = CrashLab.NewRoot(CrashLab.Yaml("1", cache: false));
        var config = ConfigLoader.Load(root["kdgat.yaml"], root.Path);
        var e = Assert.Throws<KdgException>(() => CacheCollector.Collect(config, "1G", null, DateTimeOffset.UnixEpoch));
        Assert.Equal(ErrorCodes.CacheOff, e.Code);
    }

    [Fact]
    public void Collect_WithoutALimit_IsABadProperty()
    {
        using var root = CrashLab.NewRoot(CrashLab.Yaml("1", cache: true));
        var config = ConfigLoader.Load(root["kdgat.yaml"], root.Path);
        Assert.Equal(ErrorCodes.BadProperty, Assert.Throws<KdgException>(() => CacheCollector.Collect(config, null, null, DateTimeOffset.UnixEpoch)).Code);
    }
}
