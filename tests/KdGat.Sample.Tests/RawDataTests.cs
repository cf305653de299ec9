using System.Text;
using System.Text.Json;
using KdGat.Sample.Graphs;

namespace KdGat.Sample.Tests;

/// <summary>
/// Raw data as real captures come: several CSV files per dataset, clocks restarting at each
/// file, and every way a file can be wrong reported as one line naming the file and line.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class RawDataTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private const string PreprocessParams = """{"stride": 25, "window": 50}""";

    [Fact]
    public void SeveralFilesWithRestartingClocks_BuildThroughEvaluate_WindowsNeverSpanFiles()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["generated"]);
        var files = _ws.SplitCapture(_ws["generated"], _ws["raw"], 3);

        _ws.Ok("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"], "--params", _ws.WriteParams("p.json", PreprocessParams));
        _ws.TrainLarge();

        using var index = JsonDocument.Parse(File.ReadAllBytes(_ws["cache/index.json"]));
        var listed = index.RootElement.GetProperty("files").EnumerateArray()
            .Select(f => (Name: f.GetProperty("name").GetString(), Frames: f.GetProperty("frames").GetInt32(), Graphs: f.GetProperty("graphs").GetInt32())).ToList();
        Assert.Equal(files.Select(Path.GetFileName), listed.Select(f => f.Name));
        Assert.All(listed, f => Assert.Equal((f.Frames - 50) / 25 + 1, f.Graphs));
        // Every window lies inside one file's frame range.
        var firstFrames = listed.Select((f, i) => listed.Take(i).Sum(x => x.Frames)).ToList();
        foreach (var g in GraphCache.ReadGraphs(_ws["cache"]))
        {
            var file = firstFrames.FindLastIndex(first => first <= g.Start);
            Assert.True(g.Start + g.Frames <= firstFrames[file] + listed[file].Frames, $"window at frame {g.Start} spans two files");
            Assert.True(g.DurationUs >= 0);
        }
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(_ws["eval_large/metrics.json"]));
        Assert.InRange(metrics.RootElement.GetProperty("f1").GetDouble(), 0.0, 1.0);
    }

    [Fact]
    public void CapturesJoinedIntoOneFile_RejectedWhereTheClockRestarts()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["generated"]);
        var parts = _ws.SplitCapture(_ws["generated"], _ws["parts"], 2);
        var first = File.ReadAllLines(parts[0]);
        Directory.CreateDirectory(_ws["raw"]);
        File.WriteAllLines(_ws["raw/frames.csv"], first.Concat(File.ReadLines(parts[1]).Skip(1)));

        var r = _ws.Run("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"]);

        AssertOneLineError(r, _ws["raw/frames.csv"], first.Length + 1);
        Assert.Contains("backwards", r.Stderr);
    }

    private static readonly string Good = Workspace.CsvHeader + "\n0.000100,123,0011,0\n0.000200,0316,22,1\n0.000300,18FEF100,00112233,0\n";
    private static string Row(string row) => Workspace.CsvHeader + "\n0.000100,123,0011,0\n" + row + "\n0.000400,123,0011,0\n";

    /// <summary>Case name -> (file bytes, line the error must name).</summary>
    public static readonly Dictionary<string, (byte[] Bytes, int Line)> BadFiles = new()
    {
        ["empty file"] = ([], 1),
        ["header only"] = (Encoding.ASCII.GetBytes(Workspace.CsvHeader + "\n"), 2),
        ["wrong header"] = (Encoding.ASCII.GetBytes("time,id,data,label\n0.1,123,00,0\n"), 1),
        ["three columns"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,0011")), 3),
        ["five columns"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,0011,0,x")), 3),
        ["non-numeric timestamp"] = (Encoding.ASCII.GetBytes(Row("abc,123,0011,0")), 3),
        ["NaN timestamp"] = (Encoding.ASCII.GetBytes(Row("NaN,123,0011,0")), 3),
        ["infinite timestamp"] = (Encoding.ASCII.GetBytes(Row("Infinity,123,0011,0")), 3),
        ["overflowing timestamp"] = (Encoding.ASCII.GetBytes(Row("1e400,123,0011,0")), 3),
        ["negative timestamp"] = (Encoding.ASCII.GetBytes(Row("-0.5,123,0011,0")), 3),
        ["time going backwards"] = (Encoding.ASCII.GetBytes(Row("0.000050,123,0011,0")), 3),
        ["decimal id"] = (Encoding.ASCII.GetBytes(Row("0.000200,1234,0011,0")), 3),
        ["id above 29 bits"] = (Encoding.ASCII.GetBytes(Row("0.000200,FFFFFFFF,0011,0")), 3),
        ["id of nine digits"] = (Encoding.ASCII.GetBytes(Row("0.000200,000000123,0011,0")), 3),
        ["id not hex"] = (Encoding.ASCII.GetBytes(Row("0.000200,XYZ,0011,0")), 3),
        ["empty payload"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,,0")), 3),
        ["odd payload digits"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,001,0")), 3),
        ["payload of nine bytes"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,001122334455667788,0")), 3),
        ["payload not hex"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,00GG,0")), 3),
        ["bad label"] = (Encoding.ASCII.GetBytes(Row("0.000200,123,0011,2")), 3),
        ["binary junk"] = ([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0xFF, 0xFE, 0x0A, 0x00], 1),
        ["non-UTF-8 byte in a row"] = ([.. Encoding.ASCII.GetBytes(Workspace.CsvHeader + "\n0.000100,123,00"), 0xC3, 0x28, .. Encoding.ASCII.GetBytes(",0\n")], 2),
        ["huge line"] = ([.. Encoding.ASCII.GetBytes(Workspace.CsvHeader + "\n"), .. Enumerable.Repeat((byte)'7', 4 << 20)], 2),
    };

    public static TheoryData<string> BadFileCases => [.. BadFiles.Keys];

    [Theory]
    [MemberData(nameof(BadFileCases))]
    public void BadFile_OneLineErrorNamingFileAndLine(string name)
    {
        var (bytes, line) = BadFiles[name];
        Directory.CreateDirectory(_ws["raw"]);
        File.WriteAllText(_ws["raw/capture_00.csv"], Good);
        File.WriteAllBytes(_ws["raw/frames.csv"], bytes);

        var r = _ws.Run("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"]);

        AssertOneLineError(r, _ws["raw/frames.csv"], line);
        Assert.False(Directory.Exists(_ws["cache"]), "a failed preprocess must not leave a cache behind");
    }

    private static void AssertOneLineError(RunResult r, string file, int line)
    {
        Assert.True(r.ExitCode == 2, r.ToString());
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith($"kdgat-sample: error: {file}({line}): ", lines[0]);
        Assert.Contains("; ", lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.True(lines[0].Length < 400, "the message must stay one readable line");
    }
}
