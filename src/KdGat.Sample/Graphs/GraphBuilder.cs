using KdGat.Sample.Data;

namespace KdGat.Sample.Graphs;

/// <summary>
/// Slides a window over each capture file's frames and turns each window into a CanGraph.
/// Windows never span two files: each file has its own clock, so a window across the boundary
/// would mix two recordings and could have a negative duration. Frame starts and the split
/// pattern count on across files: a graph's start is its first frame's index in the dataset.
/// </summary>
internal sealed class GraphBuilder(int window, int stride)
{
    private int _windows;

    public int Frames { get; private set; }

    /// <summary>
    /// Passes one file's windows to <paramref name="emit"/> (none if it has fewer frames than a
    /// window) and returns its frame and window counts. Only the last <c>window</c> frames are
    /// held and no graph is kept, so a file of any size fits.
    /// </summary>
    public (int Frames, int Graphs) AddFile(IEnumerable<Frame> frames, Action<CanGraph> emit)
    {
        var recent = new Queue<Frame>(window);
        int count = 0, graphs = 0;
        foreach (var f in frames)
        {
            if (recent.Count == window) recent.Dequeue();
            recent.Enqueue(f);
            var start = ++count - window;
            if (start >= 0 && start % stride == 0)
            {
                emit(BuildOne(recent.ToArray(), Frames + start, SplitOf(_windows++)));
                graphs++;
            }
        }
        Frames += count;
        return (count, graphs);
    }

    /// <summary>
    /// Every fifth block of four consecutive windows is held out for evaluation. Blocks rather than
    /// single windows, so overlapping neighbours leak less of a test window into training.
    /// </summary>
    private static string SplitOf(int n) => n / 4 % 5 == 4 ? CanGraph.Test : CanGraph.Train;

    private static CanGraph BuildOne(Frame[] frames, int firstFrame, string split)
    {
        // Nodes in first-seen order: deterministic and independent of ID values.
        var index = new Dictionary<uint, int>();
        var members = new List<List<Frame>>();
        var edges = new Dictionary<(int, int), int>();
        var attacks = 0;
        var previous = -1;
        foreach (var f in frames)
        {
            if (f.Attack) attacks++;
            if (!index.TryGetValue(f.Id, out var node))
            {
                node = index[f.Id] = members.Count;
                members.Add([]);
            }
            members[node].Add(f);
            if (previous >= 0) edges[(previous, node)] = edges.GetValueOrDefault((previous, node)) + 1;
            previous = node;
        }
        var nodes = members.Select(m => new GraphNode(m[0].Id, m.Count, MeanByte(m), Entropy(m))).ToList();
        var edgeList = edges.OrderBy(e => e.Key.Item1).ThenBy(e => e.Key.Item2)
            .Select(e => new GraphEdge(e.Key.Item1, e.Key.Item2, e.Value)).ToList();
        var duration = frames[^1].TimeUs - frames[0].TimeUs;
        return new CanGraph(firstFrame, frames.Length, duration, attacks, split, nodes, edgeList);
    }

    private static double MeanByte(List<Frame> frames)
    {
        long sum = 0, count = 0;
        foreach (var f in frames)
            foreach (var b in f.Data) { sum += b; count++; }
        return count == 0 ? 0 : sum / (255.0 * count);
    }

    /// <summary>Shannon entropy of the payload bytes, scaled to [0, 1] (8 bits = 1).</summary>
    private static double Entropy(List<Frame> frames)
    {
        var histogram = new int[256];
        var total = 0;
        foreach (var f in frames)
            foreach (var b in f.Data) { histogram[b]++; total++; }
        if (total == 0) return 0;
        var h = 0.0;
        foreach (var c in histogram)
        {
            if (c == 0) continue;
            var p = (double)c / total;
            h -= p * Math.Log2(p);
        }
        return h / 8;
    }
}
