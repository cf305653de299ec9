using KdGat.Core.Caching;
using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.Manifests;
using KdGat.Core.Tests.Support;
using Xunit;

namespace KdGat.Core.Tests.Caching;

/// <summary>KDGAT_CACHE_READONLY=1: a pull-request job restores from the store and never writes to it.</summary>
[Trait("Category", "Unit")]
public sealed class ReadOnlyStoreTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static readonly string Fp = new('b', 32);

    private (string[] Sources, OutputRecord[] Records) Output()
    {
        var file = _tmp.Write("run/model.ckpt", "weights");
        var h = new PathHasher(new HashCache()).Hash(file)!;
        return ([file], [new("run/model.ckpt", h.Hash, h.Size, false)]);
    }

    private static string[] Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => f + "=" + File.ReadAllText(f)).ToArray();

    [Fact]
    public void Insert_IntoAReadOnlyStore_WritesNothing()
    {
        var (sources, records) = Output();
        var store = new OutputStore(_tmp["store"], readOnly: true);

        Assert.False(store.Insert(Fp, "gat", "d1", sources, records, "digest"));
        Assert.False(Directory.Exists(_tmp["store"]));
    }

    [Fact]
    public void ReadOnlyStore_FindsAndRestoresEntries_ButNeitherTouchesNorEvictsThem()
    {
        var (sources, records) = Output();
        Assert.True(new OutputStore(_tmp["store"]).Insert(Fp, "gat", "d1", sources, records, "digest"));
        var before = Snapshot(_tmp["store"]);
        var store = new OutputStore(_tmp["store"], readOnly: true);

        var entry = store.Find(Fp)!;
        OutputStore.Materialize(entry, 0, _tmp["restored/model.ckpt"]);
        store.Touch(entry);
        store.Evict(Fp);

        Assert.Equal("weights", File.ReadAllText(_tmp["restored/model.ckpt"]));
        Assert.Equal(before, Snapshot(_tmp["store"]));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData(" Yes ", true)]
    // Every yes/no word, as a -p: property reads it: on and off were KDG1210 here only.
    [InlineData("on", true)]
    [InlineData("TRUE", true)]
    [InlineData("Off", false)]
    public void IsReadOnly_ReadsTheVariable(string? value, bool expected) =>
        Assert.Equal(expected, OutputStoreLocation.IsReadOnly(n => n == OutputStoreLocation.ReadOnlyVariable ? value : null));

    /// <summary>KDGAT_CACHE=OFF or 0 was a store folder named OFF or 0 in the pipeline root, restored from (an edge review).</summary>
    [Theory]
    [InlineData("off", null)]
    [InlineData("OFF", null)]
    [InlineData(" 0 ", null)]
    [InlineData("No", null)]
    [InlineData("none", null)]
    [InlineData("NONE", null)]
    [InlineData("False", null)]
    [InlineData("on", ".kdgat/store")]
    [InlineData("Yes", ".kdgat/store")]
    [InlineData("1", ".kdgat/store")]
    [InlineData("", ".kdgat/store")]
    [InlineData("/scratch/u/store", "/scratch/u/store")]
    [InlineData("shared/store", "shared/store")]
    public void Resolve_ReadsSwitchWordsInAnyCase_ElseAFolder(string value, string? expected)
    {
        var config = new KdGat.Core.Config.PipelineConfig { File = "/p/kdgat.yaml", Root = "/p", Datasets = ["d1"], Stages = new Dictionary<string, KdGat.Core.Config.StageConfig>() };

        var store = OutputStoreLocation.Resolve(config, n => n == OutputStoreLocation.EnvironmentVariable ? value : null);

        Assert.Equal(expected is null ? null : Path.GetFullPath(Path.Combine("/p", expected)), store);
    }

    [Fact]
    public void IsReadOnly_OtherValue_IsKdg1210NamingTheVariable()
    {
        var e = Assert.Throws<KdgException>(() => OutputStoreLocation.IsReadOnly(_ => "sometimes"));

        Assert.Equal(ErrorCodes.CacheReadOnlyValue, e.Code);
        Assert.Contains("KDGAT_CACHE_READONLY='sometimes'", e.Message);
        Assert.Contains(KdGat.Core.Config.YesNo.Words, e.Message);
    }
}
