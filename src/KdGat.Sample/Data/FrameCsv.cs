using System.Globalization;
using System.Text;
using KdGat.Sample.Common;

namespace KdGat.Sample.Data;

/// <summary>
/// frames.csv, the KD-GAT raw format: timestamp (seconds), arbitration_id (hex), data_field
/// (hex bytes, up to 8), attack (0/1). Reading validates every row and reports the line number,
/// since real captures are the files most likely to be hand-edited or truncated.
/// </summary>
internal static class FrameCsv
{
    public const string FileName = "frames.csv";
    public const string Header = "timestamp,arbitration_id,data_field,attack";

    public static void Write(Stream stream, IEnumerable<Frame> frames)
    {
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        w.WriteLine(Header);
        foreach (var f in frames)
        {
            w.Write(f.TimeUs / 1_000_000);
            w.Write('.');
            w.Write((f.TimeUs % 1_000_000).ToString("D6", CultureInfo.InvariantCulture));
            w.Write(',');
            w.Write(f.Id.ToString("X3", CultureInfo.InvariantCulture));
            w.Write(',');
            w.Write(Convert.ToHexString(f.Data));
            w.Write(',');
            w.WriteLine(f.Attack ? '1' : '0');
        }
    }

    public static List<Frame> Read(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SampleError("raw frames not found", path, "run 'generate' for this dataset or put the capture there");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot read raw frames ({e.Message})", path, "check the file's permissions");
        }
        if (lines.Length == 0 || lines[0].Trim() != Header)
            throw new SampleError($"line 1: expected the header '{Header}'", path, "fix the header or regenerate the dataset");
        var frames = new List<Frame>(lines.Length);
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            frames.Add(ParseRow(lines[i], i + 1, path));
        }
        if (frames.Count == 0) throw new SampleError("no frames after the header", path, "regenerate the dataset");
        return frames;
    }

    private static Frame ParseRow(string line, int lineNo, string path)
    {
        SampleError Bad(string what) => new($"line {lineNo}: {what}", path, "fix the row or regenerate the dataset");
        var cols = line.Split(',');
        if (cols.Length != 4) throw Bad($"expected 4 columns, found {cols.Length}");
        if (!double.TryParse(cols[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || !double.IsFinite(seconds))
            throw Bad($"timestamp '{cols[0]}' is not a non-negative number");
        if (cols[1].Length is 0 or > 8 || !uint.TryParse(cols[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id))
            throw Bad($"arbitration_id '{cols[1]}' is not hex");
        byte[] data;
        try { data = Convert.FromHexString(cols[2]); }
        catch (FormatException) { throw Bad($"data_field '{cols[2]}' is not hex bytes"); }
        if (data.Length > 8) throw Bad($"data_field has {data.Length} bytes; CAN frames carry at most 8");
        var attack = cols[3].Trim() switch
        {
            "0" => false,
            "1" => true,
            _ => throw Bad($"attack '{cols[3]}' must be 0 or 1"),
        };
        return new Frame((long)Math.Round(seconds * 1_000_000), id, data, attack);
    }
}
