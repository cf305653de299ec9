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

    /// <summary>CACHEMAXSIZE=20 in the environment is MSBuild's CacheMaxSize (KDG1225): its error named a -p:CacheMaxSize never passed (the fxenvrest brief).</summary>
    [Fact]
    public void ALimitFromTheEnvironment_IsNamedAsThatVariable()
    {
        using var root = CrashLab.NewRoot(CrashLab.Yaml("1", cache: true));
        var config = ConfigLoader.Load(root["kdgat.yaml"], root.Path);
        string Given(string property) => Core.Engine.EnvironmentProperties.Given([new(property, property.ToUpperInvariant(), "x")], property);

        var size = Assert.Throws<KdgException>(() => CacheCollector.Collect(config, "20", null, DateTimeOffset.UnixEpoch, Given));
        var age = Assert.Throws<KdgException>(() => CacheCollector.Collect(config, null, "30", DateTimeOffset.UnixEpoch, Given));

        Assert.StartsWith("the environment variable CACHEMAXSIZE (MSBuild makes it the property CacheMaxSize; no -p:CacheMaxSize was given), '20' is not a size", size.Message);
        Assert.StartsWith("the environment variable CACHEMAXAGE (MSBuild makes it the property CacheMaxAge; no -p:CacheMaxAge was given), '30' is not an age", age.Message);
        Assert.StartsWith("-p:CacheMaxSize='20' is not a size", Assert.Throws<KdgException>(() => CacheCollector.Collect(config, "20", null, DateTimeOffset.UnixEpoch)).Message);
    }
}
