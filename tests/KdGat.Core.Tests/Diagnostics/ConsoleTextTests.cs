using KdGat.Core.Diagnostics;

namespace KdGat.Core.Tests.Diagnostics;

[Trait("Category", "Unit")]
public sealed class ConsoleTextTests
{
    [Theory]
    [InlineData("plain line\nsecond\tcolumn", "plain line\nsecond\tcolumn")]
    [InlineData("note \u001b[31mred\u001b[0m", "note \\x1b[31mred\\x1b[0m")] // an escape sequence recoloured the terminal
    [InlineData("before\rafter", "before\\x0dafter")]                           // a carriage return cut the line
    [InlineData("c1 \u009b and del \u007f", "c1 \\x9b and del \\x7f")]
    [InlineData("name \u202egpj.exe", "name \\u202egpj.exe")] // a right-to-left override shows the rest reversed
    public void Printable_WritesOutControlCharacters_ButLineBreaksAndTabs(string text, string shown) =>
        Assert.Equal(shown, ConsoleText.Printable(text));

    [Fact]
    public void Printable_ReturnsATextWithoutThemAsItIs()
    {
        var text = "KdGat: build 1: 13 stage instance(s) ✓";
        Assert.Same(text, ConsoleText.Printable(text));
    }
}
