using System.Globalization;
using System.Text;
using KdGat.Sample.Common;

namespace KdGat.Sample.Data;

/// <summary>
/// One raw capture file, the KD-GAT raw format: header "timestamp,arbitration_id,data_field,attack",
/// then one frame per row: timestamp (seconds, a non-negative decimal, never decreasing within
/// the file), arbitration_id (hex, see <see cref="ArbitrationId"/>), data_field (2-16 hex digits,
/// an even count: 1-8 payload bytes) and attack (0 or 1). Every row is validated and a problem is
/// reported as FILE(LINE), since real captures are the files most likely to be hand-edited,
/// truncated or exported with another tool's conventions.
/// </summary>
internal static class FrameCsv
{
    public const string Header = "timestamp,arbitration_id,data_field,attack";

    /// <summary>About 285 years: beyond it, microseconds no longer fit a double exactly.</summary>
    private const double MaxSeconds = 9e9;

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
            w.Write(ArbitrationId.Format(f.Id));
            w.Write(',');
            w.Write(Convert.ToHexString(f.Data));
            w.Write(',');
            w.WriteLine(f.Attack ? '1' : '0');
        }
    }

    /// <summary>The file's frames, read lazily: memory holds one line, whatever the file's size.</summary>
    public static IEnumerable<Frame> Read(string path)
    {
        using var lines = CsvLines.Open(path);
        const string fixFile = "fix or remove the file, or regenerate the dataset";
        var header = lines.Next()
            ?? throw lines.Error($"the file is empty; expected the header '{Header}'", fixFile, 1);
        // Tolerates what spreadsheet exports do to a header: capitals, spaces after commas.
        if (!string.Equals(string.Join(',', header.Split(',').Select(c => c.Trim())), Header, StringComparison.OrdinalIgnoreCase))
            throw lines.Error($"expected the header '{Header}'", fixFile);
        Frame? previous = null;
        long previousLine = 0;
        for (var line = lines.Next(); line is not null; line = lines.Next())
        {
            if (line.Trim().Length == 0) continue;
            var frame = ParseRow(line, lines);
            if (previous is not null && frame.TimeUs < previous.TimeUs)
                throw lines.Error($"timestamp goes backwards ({Seconds(frame.TimeUs)} s after {Seconds(previous.TimeUs)} s on line {previousLine})",
                    "frames must be in time order within a file; where a capture's clock restarts, split it into separate files");
            yield return frame;
            (previous, previousLine) = (frame, lines.LineNumber);
        }
        if (previous is null) throw lines.Error("no frames after the header", fixFile, 2);
    }

    private static Frame ParseRow(string line, CsvLines lines)
    {
        SampleError Bad(string what) => lines.Error(what, "fix the row or regenerate the dataset");
        var cols = line.Split(',');
        if (cols.Length != 4) throw Bad($"expected 4 columns ({Header}), found {cols.Length}");
        for (var i = 0; i < cols.Length; i++) cols[i] = cols[i].Trim();

        // No sign, no thousands separators, no "NaN"/"Infinity" (IsFinite below catches those).
        if (!double.TryParse(cols[0], NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds) || seconds > MaxSeconds)
            throw Bad($"timestamp '{Shorten(cols[0])}' is not a number of seconds between 0 and {MaxSeconds:0}");
        if (!ArbitrationId.TryParse(cols[1], out var id, out var idProblem))
            throw lines.Error(idProblem, ArbitrationId.Rule);
        var hex = cols[2];
        if (hex.Length is < 2 or > 16 || hex.Length % 2 != 0 || !hex.All(char.IsAsciiHexDigit))
            throw Bad($"data_field '{Shorten(hex)}' is not 2-16 hex digits in pairs (1-8 payload bytes)");
        var attack = cols[3] switch
        {
            "0" => false,
            "1" => true,
            _ => throw Bad($"attack '{Shorten(cols[3])}' must be 0 (normal) or 1 (attack)"),
        };
        return new Frame((long)Math.Round(seconds * 1_000_000), id, Convert.FromHexString(hex), attack);
    }

    private static string Seconds(long us) => (us / 1e6).ToString("0.######", CultureInfo.InvariantCulture);

    private static string Shorten(string s) => s.Length <= 24 ? s : s[..24] + "...";
}
