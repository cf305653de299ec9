namespace KdGat.Sample.Graphs;

/// <summary>
/// Graph-level features the tiny models train on. Each is there because one attack kind moves
/// it: fuzzing adds nodes and edges, DoS and spoofing concentrate traffic on one node and its
/// self-loop, DoS shortens the window's duration, forged payloads shift byte statistics.
/// </summary>
internal static class GraphFeatures
{
    public static readonly string[] Names =
        ["node_ratio", "edge_ratio", "max_node_share", "self_loop_share", "payload_entropy", "payload_mean", "log_gap_ms"];

    public static int Count => Names.Length;

    public static double[] Of(CanGraph g)
    {
        var frames = (double)g.Frames;
        var transitions = Math.Max(1, g.Frames - 1);
        var selfLoops = g.Edges.Where(e => e.Src == e.Dst).Sum(e => e.Weight);
        return
        [
            g.Nodes.Count / frames,
            g.Edges.Count / (double)transitions,
            g.Nodes.Max(n => n.Count) / frames,
            selfLoops / (double)transitions,
            g.Nodes.Sum(n => n.Entropy * n.Count) / frames,
            g.Nodes.Sum(n => n.MeanByte * n.Count) / frames,
            Math.Log(1 + g.DurationUs / 1000.0 / transitions),
        ];
    }
}
