namespace KdGat.Sample.Graphs;

/// <summary>An arbitration ID seen in a window, with payload statistics of its frames there.</summary>
internal sealed record GraphNode(uint Id, int Count, double MeanByte, double Entropy);

/// <summary>Frame i followed by frame i+1: an edge between their IDs' nodes, weighted by how often.</summary>
internal sealed record GraphEdge(int Src, int Dst, int Weight);

/// <summary>
/// One window of frames as a graph, as in KD-GAT: nodes are IDs, edges are consecutive-frame
/// transitions. Label is 1 when any frame in the window is an attack frame. Split says whether
/// training stages may see it ("train") or only evaluation ("test").
/// </summary>
internal sealed record CanGraph(int Start, int Frames, long DurationUs, int AttackFrames, string Split, IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges)
{
    public const string Train = "train";
    public const string Test = "test";

    public int Label => AttackFrames > 0 ? 1 : 0;
}
