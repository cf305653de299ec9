using System.Text;

namespace KdGat.Core.Graphing;

/// <summary>Graphviz DOT of a <see cref="PipelinePicture"/>: one cluster per dataset, nodes filled by state.</summary>
internal static class DotWriter
{
    public static string Write(PipelinePicture picture)
    {
        var sb = new StringBuilder();
        sb.Append("digraph kdgat {\n");
        sb.Append("  rankdir=TB;\n");
        sb.Append("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
        foreach (var dataset in picture.Datasets)
        {
            sb.Append($"  subgraph {Quote("cluster_" + dataset)} {{\n");
            sb.Append($"    label={Quote(dataset)};\n");
            foreach (var n in picture.Nodes.Where(n => n.Dataset == dataset))
            {
                var label = n.Variant is null ? $"{n.Stage}\n{n.State}" : $"{n.Stage}\n{n.Variant}\n{n.State}";
                sb.Append($"    {Quote(n.Id)} [label={Quote(label)}, fillcolor={Quote(GraphStyle.Fill(n.State))}, tooltip={Quote(n.Detail)}];\n");
            }
            sb.Append("  }\n");
        }
        foreach (var e in picture.Edges) sb.Append($"  {Quote(e.From)} -> {Quote(e.To)};\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>A DOT double-quoted ID: backslash and quote escaped, line breaks as \n (a centred line in a label).</summary>
    public static string Quote(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "",
                _ when char.IsControl(c) => " ",
                _ => c.ToString(),
            });
        return sb.Append('"').ToString();
    }
}
