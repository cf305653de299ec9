using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tests.Pipeline;

[Trait("Category", "Unit")]
public sealed class DatasetNameTests
{
    private static readonly string[] Configured = ["hcrl_sa", "hcrl_ch", "set_01", "set_02"];

    [Theory]
    [InlineData("hcrl_sa")]
    [InlineData("set_01")]
    [InlineData("A")]
    [InlineData("can.v2-final")]
    [InlineData("9lives")]
    public void IsValid_Accepts(string name) => Assert.True(DatasetName.IsValid(name));

    [Fact]
    public void IsValid_AcceptsSixtyFourCharacters() => Assert.True(DatasetName.IsValid(new string('a', 64)));

    [Theory]
    [InlineData("../x")]
    [InlineData("a;rm -rf /")]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("-leading")]
    [InlineData(".hidden")]
    [InlineData("_under")]
    [InlineData("a..b")]
    [InlineData("a/b")]
    [InlineData("$(id)")]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("trailing\n")] // "$" matched before a final newline
    [InlineData("ümlaut")]
    public void Validate_Rejects_WithKdg1101(string name)
    {
        Assert.False(DatasetName.IsValid(name));
        var e = Assert.Throws<KdgException>(() => DatasetName.Validate(name, "-p:Dataset"));
        Assert.Equal(ErrorCodes.InvalidDatasetName, e.Code);
        Assert.Contains($"'{name.Replace("\n", "\\n", StringComparison.Ordinal)}'", e.Message);
        Assert.DoesNotContain('\n', e.Message); // one line: a second would reach the console without the code
    }

    [Fact]
    public void Validate_RejectsSixtyFiveCharacters()
    {
        var e = Assert.Throws<KdgException>(() => DatasetName.Validate(new string('a', 65), "config"));
        Assert.Equal(ErrorCodes.InvalidDatasetName, e.Code);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Select_Empty_MeansAllConfigured(string? requested) =>
        Assert.Equal(Configured, DatasetName.Select(requested, Configured, "/r/kdgat.yaml"));

    [Fact]
    public void Select_SemicolonList_TrimsAndDeduplicatesInRequestOrder() =>
        Assert.Equal(["set_01", "hcrl_sa"], DatasetName.Select(" set_01 ;hcrl_sa;; set_01", Configured, "/r/kdgat.yaml"));

    [Fact]
    public void Select_SpaceOrTabSeparatedList_IsSplitToo() =>
        Assert.Equal(["hcrl_sa", "hcrl_ch", "set_02"], DatasetName.Select("hcrl_sa hcrl_ch\tset_02", Configured, "/r/kdgat.yaml"));

    [Fact]
    public void Select_UnknownDataset_IsKdg1102NamingKnownOnes()
    {
        var e = Assert.Throws<KdgException>(() => DatasetName.Select("hcrl_sa;set_09", Configured, "/r/kdgat.yaml"));

        Assert.Equal(ErrorCodes.UnknownDataset, e.Code);
        Assert.Equal("/r/kdgat.yaml", e.File);
        Assert.Contains("'set_09'", e.Message);
        Assert.Contains("hcrl_sa, hcrl_ch, set_01, set_02", e.Message);
        Assert.Contains("kdgat.yaml", e.Message);
    }

    /// <summary>A near miss and a name in the wrong case get a "did you mean" (a user review: they only listed every name).</summary>
    [Theory]
    [InlineData("set01", "set_01", false)]
    [InlineData("HCRL_SA", "hcrl_sa", true)]
    public void Select_MisspeltOrMiscasedDataset_SaysDidYouMean(string given, string meant, bool caseOnly)
    {
        var e = Assert.Throws<KdgException>(() => DatasetName.Select(given, Configured, "/r/kdgat.yaml"));

        Assert.Contains($"Did you mean '{meant}'?", e.Message);
        Assert.Equal(caseOnly, e.Message.Contains("case-sensitive"));
    }

    [Theory]
    [InlineData("../hcrl_sa")]
    [InlineData("hcrl_sa;a|b")]
    [InlineData("set_01 $(id)")]
    public void Select_InvalidName_IsKdg1101BeforeLookup(string requested)
    {
        var e = Assert.Throws<KdgException>(() => DatasetName.Select(requested, Configured, "/r/kdgat.yaml"));
        Assert.Equal(ErrorCodes.InvalidDatasetName, e.Code);
    }

    /// <summary>`-p:Dataset=%3B%3B` built no instance and succeeded, while an empty value means every dataset (found by review).</summary>
    [Theory]
    [InlineData(";;")]
    [InlineData(" ; ")]
    [InlineData(";\t;")]
    public void Select_OnlySeparators_IsKdg1205SayingToNameOneOrLeaveItOut(string requested)
    {
        var e = Assert.Throws<KdgException>(() => DatasetName.Select(requested, Configured, "/r/kdgat.yaml"));

        Assert.Equal(ErrorCodes.BadProperty, e.Code);
        Assert.Contains("-p:Dataset", e.Message);
        Assert.Contains("names no dataset", e.Message);
        Assert.Contains("leave -p:Dataset out", e.Message);
        Assert.Contains("hcrl_sa, hcrl_ch, set_01, set_02", e.Message);
    }
}
