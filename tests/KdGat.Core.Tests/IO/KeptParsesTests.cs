using KdGat.Core.IO;

namespace KdGat.Core.Tests.IO;

[Trait("Category", "Unit")]
public sealed class KeptParsesTests
{
    [Fact]
    public void Get_HandsOutAParseOnlyForTheBytesItWasMadeFrom()
    {
        var kept = new KeptParses<string>(maxBytes: 10);
        var a = KeptParses<string>.ContentOf("one"u8);
        kept.Keep("f", a, "parsed one", 3);

        Assert.Equal("parsed one", kept.Get("f", KeptParses<string>.ContentOf("one"u8)));
        Assert.Null(kept.Get("f", KeptParses<string>.ContentOf("onf"u8)));
        Assert.Null(kept.Get("g", a));
        kept.Forget("f");
        Assert.Null(kept.Get("f", a));
    }

    [Fact]
    public void Keep_BeyondTheBytes_DropsEverythingKeptBefore()
    {
        var kept = new KeptParses<string>(maxBytes: 2);
        var c = KeptParses<string>.ContentOf("x"u8);
        kept.Keep("1", c, "p1", 1);
        kept.Keep("2", c, "p2", 1);
        kept.Keep("3", c, "p3", 1);

        Assert.Null(kept.Get("1", c));
        Assert.Null(kept.Get("2", c));
        Assert.Equal("p3", kept.Get("3", c));
    }
}
