using KdGat.Sample.Data;

namespace KdGat.Sample.Tests;

[Trait("Category", "Unit")]
public sealed class GenerateTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static string[] Names(string dir) => Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Generate_SameDatasetTwice_GivesIdenticalBytes()
    {
        _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["a"]);
        _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["b"]);

        Assert.Equal(Names(_ws["a"]), Names(_ws["b"]));
        foreach (var name in Names(_ws["a"]))
            Assert.Equal(File.ReadAllBytes(Path.Combine(_ws["a"], name)), File.ReadAllBytes(Path.Combine(_ws["b"], name)));
    }

    [Fact]
    public void Generate_DifferentDatasets_GiveDifferentFrames()
    {
        _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["a"]);
        _ws.Ok("generate", "--dataset", "set_02", "--out", _ws["b"]);

        Assert.NotEqual(File.ReadAllBytes(_ws["a/capture_01.csv"]), File.ReadAllBytes(_ws["b/capture_01.csv"]));
    }

    [Fact]
    public void Generate_SeedIsAStableHashOfTheName()
    {
        // Pinned: string.GetHashCode would differ per process and break this.
        Assert.Equal(8041752769220599912UL, TrafficGenerator.SeedFor("hcrl_sa"));
    }

    [Fact]
    public void Generate_WithoutFrames_KeepsTheDefaultDataset()
    {
        // Pinned: the tests and the bundled pipeline's figures are built on these frames.
        var r = _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.StartsWith("generate: 3 files, 22552 frames (856 attack)", r.Stdout);
    }

    [Fact]
    public void Generate_Frames_ScalesFramesAndAttacksTogether()
    {
        var small = _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["a"]).Stdout;
        var large = _ws.Ok("generate", "--dataset", "set_01", "--frames", "100000", "--out", _ws["b"]).Stdout;

        var (frames, attacks) = Counts(small);
        var (framesL, attacksL) = Counts(large);
        Assert.InRange(framesL, 100_000, 130_000);
        Assert.Equal(Names(_ws["a"]), Names(_ws["b"]));
        // The attack share stays the dataset's, within the noise of its episode lengths.
        Assert.InRange((double)attacksL / framesL, 0.5 * attacks / frames, 2.0 * attacks / frames);
    }

    [Theory]
    [InlineData("999")]
    [InlineData("1e6")]
    [InlineData("-5000")]
    [InlineData("100000001")]
    public void Generate_FramesOutOfRange_IsAOneLineUsageError(string frames)
    {
        var r = _ws.Run("generate", "--dataset", "hcrl_sa", "--frames", frames, "--out", _ws["raw"]);

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("--frames", r.Stderr);
        Assert.False(Directory.Exists(_ws["raw"]));
    }

    private static (int Frames, int Attacks) Counts(string stdout)
    {
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) frames \((\d+) attack\)");
        return (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Generate_RefusesANonEmptyDirectory()
    {
        Directory.CreateDirectory(_ws["raw"]);
        File.WriteAllText(_ws["raw/notes.txt"], "precious");

        var r = _ws.Run("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(_ws["raw"], r.Stderr);
        Assert.Equal(["notes.txt"], Names(_ws["raw"]));
        Assert.Equal("precious", File.ReadAllText(_ws["raw/notes.txt"]));
    }

    [Fact]
    public void Generate_WritesSeveralCaptureFilesWithRestartingClocksAndSomeAttacks()
    {
        // KdGat runs the generator when the raw directory is missing or empty.
        Directory.CreateDirectory(_ws["raw"]);

        _ws.Ok("generate", "--dataset", "hcrl_ch", "--out", _ws["raw"]);

        var files = RawDataset.Files(_ws["raw"]);
        Assert.InRange(files.Count, 3, 5);
        var all = files.Select(f => FrameCsv.Read(f).ToList()).ToList();
        foreach (var f in files) Assert.Equal(FrameCsv.Header, File.ReadLines(f).First());
        var frames = all.Sum(f => f.Count);
        Assert.InRange(frames, 10000, 40000);
        Assert.InRange(all.Sum(f => f.Count(x => x.Attack)) / (double)frames, 0.01, 0.5);
        Assert.All(all, f => Assert.True(f.Zip(f.Skip(1)).All(p => p.First.TimeUs <= p.Second.TimeUs), "timestamps must not go backwards within a file"));
        Assert.All(all.Zip(all.Skip(1)), p => Assert.True(p.Second[0].TimeUs < p.First[^1].TimeUs, "each file's clock restarts"));
    }

    [Fact]
    public void Generate_LeavesNoTempFiles()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.All(Names(_ws["raw"]), n => Assert.Matches(@"^capture_\d\d\.csv$", n));
        Assert.Empty(Directory.GetFileSystemEntries(_ws.Root, ".*.tmp"));
    }
}
