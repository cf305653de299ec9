using System.Text;
using System.Text.RegularExpressions;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.Tracking;

/// <summary>curves.jsonl as the report reads it: while a stage still appends, bounded, tolerant of bad lines.</summary>
[Trait("Category", "Unit")]
public sealed class EpochCurvesTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryNumericFieldIsACurve_EpochIsX_PartialLastLineAndBadLinesSkipped()
    {
        var path = _dir.Write("curves.jsonl",
            "{\"epoch\":1,\"loss\":0.9,\"acc\":0.5,\"note\":\"warmup\"}\n" +
            "not json\n" +
            "[1,2]\n" +
            "\n" +
            "{\"epoch\":2,\"loss\":0.7,\"acc\":0.6}\n" +
            "{\"epoch\":3,\"loss\":0.5,\"ac");     // the stage is writing this line right now
        var c = EpochCurves.Read(path)!;
        Assert.Equal(["loss", "acc"], c.Series.Select(s => s.Name));
        Assert.Equal([(1.0, 0.9), (2.0, 0.7)], c.Series[0].Points);
        Assert.Equal(2, c.Lines);
        Assert.False(c.Tail);

        var html = c.ToHtml("d/stage");
        Assert.Equal(2, Regex.Matches(html, "<svg class=\"curve\"").Count);
        Assert.Contains("data-metric=\"acc\"", html);
    }

    [Fact]
    public void ValuesNearTheLimitsOfADouble_DrawFiniteCoordinates()
    {
        var path = _dir.Write("curves.jsonl", "{\"epoch\":1,\"loss\":-1e308}\n{\"epoch\":2,\"loss\":1e308}\n{\"epoch\":1e308,\"loss\":0}\n");
        var html = EpochCurves.Read(path)!.ToHtml("d/stage");
        Assert.DoesNotContain("NaN", html); // was NaN: the range overflowed to infinity
        Assert.DoesNotContain("Infinity", html);
    }

    [Fact]
    public void NoFile_NoNumbers_OrAFileOlderThanTheAttempt_GiveNothing()
    {
        Assert.Null(EpochCurves.Read(_dir["missing.jsonl"]));
        Assert.Null(EpochCurves.Read(_dir.Write("text.jsonl", "{\"note\":\"x\"}\n")));
        var old = _dir.Write("old.jsonl", "{\"epoch\":1,\"loss\":1}\n");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));
        Assert.Null(EpochCurves.Read(old, notBefore: DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.NotNull(EpochCurves.Read(old, notBefore: DateTimeOffset.UtcNow.AddHours(-3)));
    }

    [Fact]
    public void HugeFile_OnlyItsTailIsRead_PointsThinned_NewestEpochKept()
    {
        var sb = new StringBuilder();
        var epoch = 0;
        while (sb.Length < 3 * EpochCurves.MaxBytes) { epoch++; sb.Append($"{{\"epoch\":{epoch},\"loss\":{1.0 / epoch:R}}}\n"); }
        var path = _dir.Write("big.jsonl", sb.ToString());
        var c = EpochCurves.Read(path)!;
        Assert.True(c.Tail);
        Assert.True(c.Lines < epoch / 2, $"{c.Lines} lines of {epoch} read");
        var loss = c.Series.Single().Points;
        Assert.Equal(EpochCurves.MaxPoints, loss.Count);
        Assert.Equal(epoch, loss[^1].X);
        Assert.True(loss[0].X > epoch / 2, "the first (cut) line of the tail is skipped, the rest is the newest part");
    }

    [Fact]
    public void AtMostMaxSeries_AndNoEpochField_UsesTheLineNumber()
    {
        var fields = string.Join(",", Enumerable.Range(0, EpochCurves.MaxSeries + 3).Select(i => $"\"m{i}\":{i}"));
        var c = EpochCurves.Read(_dir.Write("wide.jsonl", $"{{{fields}}}\n{{{fields}}}\n"))!;
        Assert.Equal(EpochCurves.MaxSeries, c.Series.Count);
        Assert.Equal([1.0, 2.0], c.Series[0].Points.Select(p => p.X));
    }

    /// <summary>
    /// A diverging run's curves.jsonl (json.dumps writes a NaN loss bare): the line was dropped whole, and
    /// the chart just stopped at the last finite epoch, its other values (acc) too; NaN and inf are said, not drawn.
    /// </summary>
    [Fact]
    public void ADivergedEpoch_IsSaid_NotDropped()
    {
        var path = _dir.Write("curves.jsonl",
            "{\"epoch\":1,\"loss\":0.9,\"acc\":0.5}\n" +
            "{\"epoch\":2,\"loss\":Infinity,\"acc\":0.4}\n" +
            "{\"epoch\":3,\"loss\":NaN,\"acc\":0.1,\"note\":\"NaN\"}\n");

        var c = EpochCurves.Read(path)!;

        Assert.Equal(3, c.Lines);
        Assert.Equal([(1.0, 0.5), (2.0, 0.4), (3.0, 0.1)], c.Series[1].Points);
        Assert.Equal([1.0, 2.0, 3.0], c.Series[0].Points.Select(p => p.X));
        var html = c.ToHtml("d/stage");
        Assert.Contains(">epoch 3: NaN</text>", html);
        Assert.Contains(">inf at epoch 2 (not drawn)</text>", html);
        Assert.DoesNotContain("Infinity", html);
        Assert.Contains("<circle ", html); // the one finite loss, as a point

        var only = EpochCurves.Read(_dir.Write("nan.jsonl", "{\"epoch\":1,\"loss\":NaN}\n"))!.ToHtml("d/stage");
        Assert.Contains(">epoch 1: NaN</text>", only);
        Assert.Contains(">NaN at epoch 1 (not drawn)</text>", only);
    }
}
