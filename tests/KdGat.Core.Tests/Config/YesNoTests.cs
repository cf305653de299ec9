using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Tests.Config;

[Trait("Category", "Unit")]
public sealed class YesNoTests
{
    [Theory]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("True", true)]
    [InlineData("yes", true)]
    [InlineData("YES", true)]
    [InlineData("On", true)]
    [InlineData(" on ", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("FALSE", false)]
    [InlineData("No", false)]
    [InlineData("OFF", false)]
    [InlineData("\toff\n", false)]
    [InlineData("0", false)]
    public void TheWords_InAnyCase_SpacesAround(string text, bool expected) => Assert.Equal(expected, YesNo.Read(text));

    /// <summary>Nothing else is read as yes or no: each site refuses it with its own code, or takes it as its own word (a path, verify).</summary>
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("maybe")]
    [InlineData("y")]
    [InlineData("n")]
    [InlineData("t")]
    [InlineData("of")]
    [InlineData("o n")]
    [InlineData("2")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("enable")]
    [InlineData("verify")]
    [InlineData("none")]
    public void AnythingElse_IsNeither(string? text) => Assert.Null(YesNo.Read(text));

    /// <summary>The -p: properties the tasks read (VerifyHashes, Wait, FailIfStale, ...): the same words, empty the default.</summary>
    [Theory]
    [InlineData(" ON ", false, true)]
    [InlineData("Off", true, false)]
    [InlineData("", true, true)]
    [InlineData(null, false, false)]
    public void AProperty_ReadsTheWords_EmptyIsTheDefault(string? value, bool fallback, bool expected) =>
        Assert.Equal(expected, YesNo.Property("VerifyHashes", value, fallback));

    [Fact]
    public void AProperty_WithAnotherValue_IsKdg1205NamingItAndTheWords()
    {
        var e = Assert.Throws<KdgException>(() => YesNo.Property("VerifyHashes", "maybe", false));

        Assert.Equal(ErrorCodes.BadProperty, e.Code);
        Assert.Equal($"-p:VerifyHashes must be true or false ({YesNo.Words}), not 'maybe'.", e.Message);
    }

    [Fact]
    public void TheWordsAMessageLists_AreTheOnesRead()
    {
        var listed = YesNo.Words.Split([' ', ',', '/'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => YesNo.Read(w) is not null).ToArray();

        Assert.Equal(["true", "yes", "on", "1", "false", "no", "off", "0"], listed);
    }
}
