using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KdGat.Core.Tracking;

/// <summary>One metric over the epochs: (epoch, value) points in file order.</summary>
internal sealed record CurveSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// Per-epoch training curves a stage writes while it trains: <c>{run_dir}/curves.jsonl</c>, one
/// JSON object per line, e.g. <c>{"epoch":3,"loss":0.41,"val_f1":0.87}</c>. Every numeric field
/// other than <c>epoch</c> is a curve; <c>epoch</c> is the x value (the line number when absent).
/// Read bounded, because the report reads files stages are still appending to: only the last
/// <see cref="MaxBytes"/> of a file, a partial or malformed line is skipped, at most
/// <see cref="MaxSeries"/> curves of at most <see cref="MaxPoints"/> points each (evenly thinned).
/// </summary>
internal sealed record EpochCurves(IReadOnlyList<CurveSeries> Series, int Lines, bool Tail)
{
    public const string FileName = "curves.jsonl";
    public const int MaxBytes = 1 << 20, MaxPoints = 300, MaxSeries = 6;

    /// <param name="notBefore">Ignore a file last written before this (left by an earlier run of the stage).</param>
    /// <returns>null when there is no (usable, fresh enough) file or it holds no numeric field.</returns>
    public static EpochCurves? Read(string path, DateTimeOffset? notBefore = null)
    {
        byte[] bytes;
        bool tail;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return null;
            // A little slack: file systems round times, and the stage's clock is another node's on SLURM.
            if (notBefore is { } t && info.LastWriteTimeUtc < t.UtcDateTime.AddSeconds(-5)) return null;
            IO.SmallFile.RefuseSpecial(path); // a stage's named pipe there hung Report, Status and the build's live report
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = fs.Length;
            tail = length > MaxBytes;
            if (tail) fs.Seek(length - MaxBytes, SeekOrigin.Begin);
            bytes = new byte[Math.Min(length, MaxBytes)];
            var read = 0;
            while (read < bytes.Length && fs.Read(bytes, read, bytes.Length - read) is var n && n > 0) read += n;
            if (read < bytes.Length) Array.Resize(ref bytes, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // a report never fails over a stage's progress file
        }
        return Parse(bytes, tail);
    }

    public static EpochCurves? Parse(ReadOnlySpan<byte> bytes, bool tail = false)
    {
        var series = new Dictionary<string, List<(double, double)>>(StringComparer.Ordinal);
        var order = new List<string>();
        var lines = 0;
        var first = true;
        while (!bytes.IsEmpty)
        {
            var nl = bytes.IndexOf((byte)'\n');
            var line = nl < 0 ? bytes : bytes[..nl];
            bytes = nl < 0 ? [] : bytes[(nl + 1)..];
            var skip = first && tail; // the tail starts inside a line
            first = false;
            if (skip || line.Trim((byte)' ').IsEmpty) continue;
            lines++;
            if (!TryLine(line, lines, series, order)) lines--;
        }
        if (order.Count == 0) return null;
        return new EpochCurves(order.Select(n => new CurveSeries(n, Thin(series[n]))).ToArray(), lines, tail);
    }

    private static bool TryLine(ReadOnlySpan<byte> line, int number, Dictionary<string, List<(double, double)>> series, List<string> order)
    {
        try
        {
            // A diverged epoch's NaN loss (bare, from json.dumps) dropped the whole line: the curve just stopped.
            var text = new NonFiniteJson(line.ToArray());
            var reader = new Utf8JsonReader(text.Json, new JsonReaderOptions { MaxDepth = 8 });
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return false;
            double x = number;
            if (doc.RootElement.TryGetProperty("epoch", out var ep) && ep.ValueKind == JsonValueKind.Number && ep.TryGetDouble(out var e) && double.IsFinite(e)) x = e;
            foreach (var (name, y) in text.TopLevelNumbers(doc.RootElement))
            {
                if (name == "epoch") continue;
                if (!series.TryGetValue(name, out var list))
                {
                    if (order.Count >= MaxSeries) continue;
                    series[name] = list = [];
                    order.Add(name);
                }
                list.Add((x, y));
            }
            return true;
        }
        catch (JsonException)
        {
            return false; // a line still being written, or not JSON
        }
    }

    /// <summary>At most MaxPoints, evenly spaced, always keeping the last (the newest epoch).</summary>
    private static IReadOnlyList<(double, double)> Thin(List<(double, double)> points)
    {
        if (points.Count <= MaxPoints) return points;
        var step = (double)(points.Count - 1) / (MaxPoints - 1);
        return Enumerable.Range(0, MaxPoints).Select(i => points[(int)Math.Round(i * step)]).ToArray();
    }

    /// <summary>One small inline SVG line chart per curve, in a div; HTML-escaped.</summary>
    /// <param name="current">False: the div is marked "not-current" (the tracking report's curves of an instance that is not up to date).</param>
    public string ToHtml(string instanceKey, bool current = true)
    {
        var h = new StringBuilder();
        h.Append($"<div class=\"curves{(current ? "" : " not-current")}\" data-id=\"{E(instanceKey)}\">");
        foreach (var s in Series) h.Append(Chart(s));
        h.Append("</div>");
        return h.ToString();
    }

    /// <summary>
    /// A NaN or infinite value is not drawn (no place on an axis) but said: the last value in the title
    /// ("epoch 7: NaN"), and the first such one in the plot ("NaN at epoch 5 (not drawn)").
    /// </summary>
    private static string Chart(CurveSeries s)
    {
        const double w = 250, ht = 120, left = 54, right = 8, top = 18, bottom = 18;
        var last = s.Points[^1];
        var diverged = s.Points.Where(p => !double.IsFinite(p.Y)).Take(1).ToArray();
        var said = diverged.Length == 0 ? "" : $"<text x=\"{N(left + 4)}\" y=\"{N(top + 12)}\" font-size=\"10\" fill=\"{DivergedColor}\">{G(diverged[0].Y)} at epoch {G(diverged[0].X)} (not drawn)</text>";
        var head = $"<svg class=\"curve\" data-metric=\"{E(s.Name)}\" width=\"{N(w)}\" height=\"{N(ht)}\" viewBox=\"0 0 {N(w)} {N(ht)}\" role=\"img\" aria-label=\"{E(s.Name)} per epoch\">" +
               $"<rect x=\"{N(left)}\" y=\"{N(top)}\" width=\"{N(w - left - right)}\" height=\"{N(ht - top - bottom)}\" fill=\"#fafafa\" stroke=\"#cfd8dc\"/>" +
               $"<text x=\"{N(left)}\" y=\"12\" font-size=\"11\" font-weight=\"bold\">{E(s.Name)}</text>" +
               $"<text x=\"{N(w - right)}\" y=\"12\" font-size=\"10\" text-anchor=\"end\">epoch {G(last.X)}: {G(last.Y)}</text>";
        var drawn = s.Points.Where(p => double.IsFinite(p.Y)).ToArray();
        if (drawn.Length == 0) return head + said + "</svg>";
        double x0 = drawn.Min(p => p.X), x1 = drawn.Max(p => p.X), y0 = drawn.Min(p => p.Y), y1 = drawn.Max(p => p.Y);
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) { y0 -= 0.5 * Math.Max(Math.Abs(y0), 1e-9); y1 = y0 + Math.Max(Math.Abs(y0), 1e-9); }
        string X(double v) => N(left + (w - left - right) * Fraction(v, x0, x1));
        string Y(double v) => N(top + (ht - top - bottom) * (1 - Fraction(v, y0, y1)));
        var pts = string.Join(' ', drawn.Select(p => $"{X(p.X)},{Y(p.Y)}"));
        var end = drawn[^1];
        return head + said +
               $"<text x=\"{N(left - 3)}\" y=\"{N(top + 8)}\" font-size=\"9\" text-anchor=\"end\">{A(y1)}</text>" +
               $"<text x=\"{N(left - 3)}\" y=\"{N(ht - bottom)}\" font-size=\"9\" text-anchor=\"end\">{A(y0)}</text>" +
               $"<text x=\"{N(left)}\" y=\"{N(ht - 5)}\" font-size=\"9\">{G(x0)}</text><text x=\"{N(w - right)}\" y=\"{N(ht - 5)}\" font-size=\"9\" text-anchor=\"end\">{G(x1)}</text>" +
               (drawn.Length == 1
                   ? $"<circle cx=\"{X(end.X)}\" cy=\"{Y(end.Y)}\" r=\"2.5\" fill=\"{LineColor}\"/>"
                   : $"<polyline fill=\"none\" stroke=\"{LineColor}\" stroke-width=\"1.5\" points=\"{pts}\"/>") +
               "</svg>";
    }

    /// <summary>Where v lies between lo and hi, in halves: 1e308 - (-1e308) overflows to infinity and drew NaN coordinates (a hostile-input pass).</summary>
    private static double Fraction(double v, double lo, double hi) => (v * 0.5 - lo * 0.5) / (hi * 0.5 - lo * 0.5);

    public const string LineColor = "#6a1b9a", DivergedColor = "#bf360c";

    private static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string G(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : Tracker.Number(v);
    /// <summary>Axis labels: short enough for the margin (0.001933 -> 0.00193, 123456 -> 1.23E+05).</summary>
    private static string A(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
    private static string E(string s) => System.Net.WebUtility.HtmlEncode(s);
}
