namespace KdGat.Sample.Graphs;

/// <summary>
/// Graph-level features the tiny models train on. Each is there because one attack kind moves
/// it: fuzzing adds nodes and edges, DoS and spoofing concentrate traffic on one node and its
/// self-loop, DoS shortens the window's duration, forged payloads shift byte statistics, and a forged or fuzzed stream under a real ID makes that
/// ID's payloads (max_node_entropy) and successors (max_out_degree) more varied than usual.
/// </summary>
internal static class GraphFeatures
{
    public static readonly string[] Names =
        ["node_ratio", "edge_ratio", "max_node_share", "self_loop_share", "payload_entropy", "payload_mean", "log_gap_ms", "max_node_entropy", "max_out_degree"];

    public static int Count => Names.Length;

    /// <summary>Computed once, when the cache is read; callers must not change the array.</summary>
    public static double[] Of(CachedGraph g) => g.Features;

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
            g.Nodes.Max(n => n.Entropy),
            MaxOutDegree(g) / (double)g.Nodes.Count,
        ];
    }

    private static int MaxOutDegree(CanGraph g)
    {
        var degree = new int[g.Nodes.Count];
        foreach (var e in g.Edges) degree[e.Src]++;
        return degree.Max();
    }
}
