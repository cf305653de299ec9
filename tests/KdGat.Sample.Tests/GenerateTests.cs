using KdGat.Sample.Data;

namespace KdGat.Sample.Tests;

[Trait("Category", "Unit")]
public sealed class GenerateTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Generate_SameDatasetTwice_GivesIdenticalBytes()
    {
        _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["a"]);
        _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["b"]);

        Assert.Equal(File.ReadAllBytes(_ws["a/frames.csv"]), File.ReadAllBytes(_ws["b/frames.csv"]));
    }

    [Fact]
    public void Generate_DifferentDatasets_GiveDifferentFrames()
    {
        _ws.Ok("generate", "--dataset", "set_01", "--out", _ws["a"]);
        _ws.Ok("generate", "--dataset", "set_02", "--out", _ws["b"]);

        Assert.NotEqual(File.ReadAllBytes(_ws["a/frames.csv"]), File.ReadAllBytes(_ws["b/frames.csv"]));
    }

    [Fact]
    public void Generate_SeedIsAStableHashOfTheName()
    {
        // Pinned: string.GetHashCode would differ per process and break this.
        Assert.Equal(8041752769220599912UL, TrafficGenerator.SeedFor("hcrl_sa"));
    }

    [Fact]
    public void Generate_RefusesToOverwriteExistingFrames()
    {
        Directory.CreateDirectory(_ws["raw"]);
        File.WriteAllText(_ws["raw/frames.csv"], "precious");

        var r = _ws.Run("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(_ws["raw/frames.csv"], r.Stderr);
        Assert.Equal("precious", File.ReadAllText(_ws["raw/frames.csv"]));
    }

    [Fact]
    public void Generate_WritesCanFramesWithSomeAttacks()
    {
        _ws.Ok("generate", "--dataset", "hcrl_ch", "--out", _ws["raw"]);

        var lines = File.ReadAllLines(_ws["raw/frames.csv"]);
        Assert.Equal("timestamp,arbitration_id,data_field,attack", lines[0]);
        Assert.InRange(lines.Length - 1, 10000, 40000);
        var attackShare = lines.Skip(1).Count(l => l.EndsWith(",1", StringComparison.Ordinal)) / (double)(lines.Length - 1);
        Assert.InRange(attackShare, 0.01, 0.5);
        var frames = FrameCsv.Read(_ws["raw/frames.csv"]);
        Assert.True(frames.Zip(frames.Skip(1)).All(p => p.First.TimeUs <= p.Second.TimeUs), "timestamps must not go backwards");
    }

    [Fact]
    public void Generate_LeavesNoTempFiles()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);

        Assert.Equal(new[] { "frames.csv" }, Directory.GetFiles(_ws["raw"]).Select(Path.GetFileName));
    }
}
