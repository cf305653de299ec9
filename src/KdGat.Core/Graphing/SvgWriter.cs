using System.Globalization;
using System.Text;

namespace KdGat.Core.Graphing;

/// <summary>A self-contained SVG of a <see cref="PipelinePicture"/> laid out by <see cref="SvgLayout"/>, with a legend.</summary>
internal static class SvgWriter
{
    private const double LegendRow = 20;

    /// <param name="legend">The states to explain below the graph; default <see cref="GraphStyle.Legend"/> (-t:Graph).</param>
    public static string Write(PipelinePicture picture, IReadOnlyList<(string State, string Fill, string Meaning)>? legend = null) =>
        Write(new StringBuilder(), picture, legend).ToString();

    /// <summary>Appends the SVG to <paramref name="sb"/> (a page that embeds it: no string of the whole graph, ~15 MB at 7,800 nodes).</summary>
    public static StringBuilder Write(StringBuilder sb, PipelinePicture picture, IReadOnlyList<(string State, string Fill, string Meaning)>? legend = null)
    {
        legend ??= GraphStyle.Legend;
        var layout = new SvgLayout(picture);
        var legendTop = layout.GraphBottom + 20;
        var height = legendTop + legend.Count * LegendRow + SvgLayout.Margin;
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"stage-graph\" width=\"{N(layout.Width)}\" height=\"{N(height)}\" viewBox=\"0 0 {N(layout.Width)} {N(height)}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        sb.Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#607d8b\"/></marker></defs>\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        foreach (var c in layout.Clusters)
            sb.Append($"<g class=\"cluster\"><rect x=\"{N(c.X)}\" y=\"{N(c.Y)}\" width=\"{N(c.Width)}\" height=\"{N(c.Height)}\" rx=\"6\" fill=\"#f7f9fa\" stroke=\"#b0bec5\"/>" +
                      $"<text x=\"{N(c.X + 10)}\" y=\"{N(c.Y + 18)}\" font-weight=\"bold\">{Escape(c.Dataset)}</text></g>\n");

        var boxes = layout.Nodes.ToDictionary(b => b.Node.Id, StringComparer.Ordinal);
        foreach (var e in picture.Edges)
        {
            if (!boxes.TryGetValue(e.From, out var a) || !boxes.TryGetValue(e.To, out var b)) continue;
            double x1 = a.CenterX, y1 = a.Y + a.Height, x2 = b.CenterX, y2 = b.Y, mid = (y1 + y2) / 2;
            sb.Append($"<g class=\"edge\"><title>{Escape(e.From)} -&gt; {Escape(e.To)}</title><path d=\"M{N(x1)},{N(y1)} C{N(x1)},{N(mid)} {N(x2)},{N(mid)} {N(x2)},{N(y2)}\" fill=\"none\" stroke=\"#607d8b\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"/></g>\n");
        }

        foreach (var box in layout.Nodes)
        {
            var n = box.Node;
            var tip = n.Detail.Length > 0 ? $"{n.Id}: {n.State}: {n.Detail}" : $"{n.Id}: {n.State}";
            sb.Append($"<g class=\"node\" data-id=\"{Escape(n.Id)}\" data-state=\"{Escape(n.State)}\"><title>{Escape(tip)}</title>" +
                      $"<rect x=\"{N(box.X)}\" y=\"{N(box.Y)}\" width=\"{N(box.Width)}\" height=\"{N(box.Height)}\" rx=\"9\" fill=\"{GraphStyle.Fill(n.State)}\" stroke=\"#455a64\"/>" +
                      $"<text x=\"{N(box.CenterX)}\" y=\"{N(box.Y + 18)}\" text-anchor=\"middle\" font-weight=\"bold\">{Escape(Short(n.Stage))}</text>" +
                      $"<text x=\"{N(box.CenterX)}\" y=\"{N(box.Y + 34)}\" text-anchor=\"middle\" fill=\"#37474f\">{Escape(Short(n.Variant is null ? n.Shown : $"{n.Variant}: {n.Shown}"))}</text></g>\n");
        }

        sb.Append("<g class=\"legend\">");
        for (var i = 0; i < legend.Count; i++)
        {
            var (state, fill, meaning) = legend[i];
            var y = legendTop + i * LegendRow;
            sb.Append($"<rect x=\"{N(SvgLayout.Margin)}\" y=\"{N(y)}\" width=\"26\" height=\"14\" rx=\"4\" fill=\"{fill}\" stroke=\"#455a64\"/>" +
                      $"<text x=\"{N(SvgLayout.Margin + 34)}\" y=\"{N(y + 11)}\">{Escape(meaning.Length > 0 ? $"{state}: {meaning}" : state)}</text>");
        }
        sb.Append("</g>\n</svg>\n");
        return sb;
    }

    private static string Short(string text) => text.Length <= SvgLayout.MaxLabelChars ? text : text[..(SvgLayout.MaxLabelChars - 1)] + "…";

    private static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>Text for XML content and attributes: markup characters escaped, characters XML forbids dropped.</summary>
    public static string Escape(string text)
    {
        if (!NeedsEscape(text)) return text; // most ids and states: no copy (a 7,800-node picture escapes ~40,000 of them)
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                '\t' or '\n' or '\r' => " ",
                _ when char.IsControl(c) || c is '\uFFFE' or '\uFFFF' => "",
                _ => c.ToString(),
            });
        return DropLoneSurrogates(sb.ToString());
    }

    private static bool NeedsEscape(string text)
    {
        foreach (var c in text)
            if (c is '&' or '<' or '>' or '"' or '\'' || char.IsControl(c) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF')
                return true;
        return false;
    }

    private static string DropLoneSurrogates(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { sb.Append(s, i, 2); i++; }
            else if (!char.IsSurrogate(s[i])) sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
