using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Diagnostics;

[Trait("Category", "Unit")]
public sealed class LogTailTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void KeepsTheLastNonEmptyLines_Bounded_WithoutControlCharacters()
    {
        var lines = Enumerable.Range(1, 40).Select(i => $"line {i}").Append("\u001b[31mred\u001b[0m\t" + new string('x', 1000)).Append("");
        var path = _dir.Write("stage.err", string.Join("\n", lines) + "\n\n");

        var tail = LogTail.Read(path);

        Assert.Equal(LogTail.MaxLines, tail.Count);
        Assert.Equal("line 32", tail[0]);
        Assert.StartsWith("[31mred[0m x", tail[^1]);
        Assert.Equal(LogTail.MaxLineLength + 1, tail[^1].Length); // cut, with an ellipsis
    }

    [Fact]
    public void ReadsOnlyTheEndOfAHugeFile_AndDropsThePartialFirstLine()
    {
        var path = _dir.Write("big.err", new string('a', 5 * LogTail.MaxBytes) + "\nlast\n");
        Assert.Equal(["last"], LogTail.Read(path));
    }

    [Fact]
    public void MissingOrEmptyFile_GivesNothing()
    {
        Assert.Empty(LogTail.Read(_dir["none.err"]));
        Assert.Equal("", LogTail.Describe(_dir.Write("empty.err", ""), "empty.err"));
    }
}
