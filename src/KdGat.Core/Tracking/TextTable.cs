using System.Text;

namespace KdGat.Core.Tracking;

/// <summary>Plain aligned text columns for the console (MSBuild prints each line as a message).</summary>
internal static class TextTable
{
    public static IReadOnlyList<string> Format(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string indent = "  ")
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = new int[header.Count];
        foreach (var r in all)
            for (var i = 0; i < widths.Length; i++) widths[i] = Math.Max(widths[i], i < r.Count ? r[i].Length : 0);
        var lines = new List<string>();
        foreach (var r in all)
        {
            var sb = new StringBuilder(indent);
            for (var i = 0; i < widths.Length; i++)
            {
                var cell = i < r.Count ? r[i] : "";
                sb.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
            }
            lines.Add(sb.ToString().TrimEnd());
        }
        return lines;
    }
}
