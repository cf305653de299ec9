using System.Text;
using KdGat.Sample.Common;

namespace KdGat.Sample.Graphs;

/// <summary>One raw capture file's share of the cache, listed in index.json (name only: outputs carry no paths).</summary>
internal sealed record SourceFile(string Name, int Frames, int Graphs);

/// <summary>
/// What a training stage keeps of a cached graph: its features (<see cref="GraphFeatures"/>),
/// label and split. Nine doubles instead of the node and edge lists, so a capture of millions
/// of frames fits in a few tens of MB.
/// </summary>
internal sealed record CachedGraph(int Start, int Label, string Split, double[] Features);

/// <summary>The graph cache as training stages read it.</summary>
internal sealed record GraphSet(int Window, int Stride, IReadOnlyList<CachedGraph> Graphs)
{
    public IEnumerable<CachedGraph> Train => Graphs.Where(g => g.Split == CanGraph.Train);
    public IEnumerable<CachedGraph> Test => Graphs.Where(g => g.Split == CanGraph.Test);
}

/// <summary>
/// On disk: graphs.bin, the graphs in order, and index.json, a small readable summary that also
/// pins the format version, so a cache from an incompatible sample is rejected with a clear
/// message. graphs.bin is written and read one graph at a time: preprocess never holds the
/// graphs, a training stage only their features (a JSON cache of a 1.9 M-frame capture was over
/// 70 MB, and parsing it took 700 MB per stage).
///
/// graphs.bin: the ASCII line "kdgat-sample-graphs/2\n", then per graph: start, frames,
/// duration_us (64-bit), attack_frames, split (a byte: 0 train, 1 test), node count, edge count;
/// each node: id, count, mean_byte and entropy (IEEE doubles, little endian); each edge: src,
/// dst, weight. Integers are 7-bit encoded (BinaryWriter.Write7BitEncodedInt), so equal graphs
/// give equal bytes; the file ends after the last graph.
/// </summary>
internal static class GraphCache
{
    public const string Format = "kdgat-sample-graphs/2";
    public const string IndexFile = "index.json";
    public const string GraphsFile = "graphs.bin";
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes(Format + "\n");

    /// <summary>Starts graphs.bin in <paramref name="dir"/>, which the caller swaps into place.</summary>
    public static Writer Create(string dir) => new(dir);

    /// <summary>Writes graphs as they come, counts them, and writes index.json at the end.</summary>
    internal sealed class Writer : IDisposable
    {
        private readonly string _dir;
        private readonly BinaryWriter _w;

        public int Graphs { get; private set; }
        public int AttackGraphs { get; private set; }
        public int TrainGraphs { get; private set; }
        public int TestGraphs => Graphs - TrainGraphs;

        public Writer(string dir)
        {
            _dir = dir;
            var stream = new FileStream(Path.Combine(dir, GraphsFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            _w = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: false);
            _w.Write(Magic);
        }

        public void Add(CanGraph g)
        {
            _w.Write7BitEncodedInt(g.Start);
            _w.Write7BitEncodedInt(g.Frames);
            _w.Write7BitEncodedInt64(g.DurationUs);
            _w.Write7BitEncodedInt(g.AttackFrames);
            _w.Write(g.Split == CanGraph.Test ? (byte)1 : (byte)0);
            _w.Write7BitEncodedInt(g.Nodes.Count);
            _w.Write7BitEncodedInt(g.Edges.Count);
            foreach (var n in g.Nodes)
            {
                _w.Write7BitEncodedInt((int)n.Id);
                _w.Write7BitEncodedInt(n.Count);
                _w.Write(n.MeanByte);
                _w.Write(n.Entropy);
            }
            foreach (var e in g.Edges)
            {
                _w.Write7BitEncodedInt(e.Src);
                _w.Write7BitEncodedInt(e.Dst);
                _w.Write7BitEncodedInt(e.Weight);
            }
            Graphs++;
            if (g.Label == 1) AttackGraphs++;
            if (g.Split == CanGraph.Train) TrainGraphs++;
        }

        /// <summary>Closes graphs.bin and writes index.json.</summary>
        public void Finish(int window, int stride, IReadOnlyList<SourceFile> files)
        {
            _w.Flush();
            _w.BaseStream.Flush();
            _w.Dispose();
            JsonFile.Write(Path.Combine(_dir, IndexFile), w =>
            {
                w.WriteStartObject();
                w.WriteString("format", Format);
                w.WriteNumber("window", window);
                w.WriteNumber("stride", stride);
                w.WriteNumber("frames", files.Sum(f => f.Frames));
                w.WriteNumber("graphs", Graphs);
                w.WriteNumber("attack_graphs", AttackGraphs);
                w.WriteNumber("train_graphs", TrainGraphs);
                w.WriteNumber("test_graphs", TestGraphs);
                w.WriteString("graphs_file", GraphsFile);
                w.WriteStartArray("files");
                foreach (var f in files)
                {
                    w.WriteStartObject();
                    w.WriteString("name", f.Name);
                    w.WriteNumber("frames", f.Frames);
                    w.WriteNumber("graphs", f.Graphs);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
        }

        public void Dispose() => _w.Dispose();
    }

    private const string Fix = "run 'preprocess' for this dataset first (or check --cache)";

    /// <summary>The cache's graphs as training stages use them: features, label and split only.</summary>
    public static GraphSet Read(string dir)
    {
        var (window, stride, count) = ReadIndex(dir);
        var graphs = new List<CachedGraph>(count);
        bool train = false, test = false;
        foreach (var g in ReadGraphs(dir, count, window))
        {
            graphs.Add(new CachedGraph(g.Start, g.Label, g.Split, GraphFeatures.Of(g)));
            train |= g.Split == CanGraph.Train;
            test |= g.Split == CanGraph.Test;
        }
        var graphsPath = Path.Combine(dir, GraphsFile);
        if (graphs.Count == 0) throw new SampleError("the cache holds no graphs (fewer frames than one window)", graphsPath, Fix);
        if (!train || !test)
            throw new SampleError("the cache needs both training and test graphs", graphsPath, "use more frames or a smaller window/stride, and run 'preprocess' again");
        return new GraphSet(window, stride, graphs);
    }

    /// <summary>Every graph of the cache, whole and validated, one at a time.</summary>
    public static IEnumerable<CanGraph> ReadGraphs(string dir)
    {
        var (window, _, count) = ReadIndex(dir);
        return ReadGraphs(dir, count, window);
    }

    private static (int Window, int Stride, int Count) ReadIndex(string dir)
    {
        var indexPath = Path.Combine(dir, IndexFile);
        using var index = JsonFile.Read(indexPath, "graph cache index", Fix);
        var r = new JsonRead(index.RootElement, indexPath);
        if (r.Str("format") != Format) throw r.Bad($"graph cache format '{r.Str("format")}' is not {Format}; run 'preprocess' again with this sample");
        var (window, stride, count) = (r.Int("window"), r.Int("stride"), r.Int("graphs"));
        if (window < 2 || stride < 1 || count < 0) throw r.Bad("window, stride or graphs is out of range");
        return (window, stride, count);
    }

    private static IEnumerable<CanGraph> ReadGraphs(string dir, int count, int window)
    {
        var path = Path.Combine(dir, GraphsFile);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SampleError("graph cache not found", path, Fix);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot read graph cache ({e.Message})", path, "check the file's permissions");
        }
        using var r = new BinaryReader(stream, Encoding.ASCII);
        SampleError Bad(string what) => new(what, path, "run 'preprocess' again (the cache is damaged or was edited)");
        var magic = new byte[Magic.Length];
        if (r.Read(magic, 0, magic.Length) != magic.Length || !magic.AsSpan().SequenceEqual(Magic))
            throw Bad($"not a {Format} graph file");
        for (var i = 0; i < count; i++)
        {
            CanGraph g;
            try
            {
                g = ReadGraph(r, window, Bad);
            }
            catch (Exception e) when (e is EndOfStreamException or FormatException)
            {
                throw Bad($"graph {i + 1} of {count} is truncated or malformed");
            }
            catch (IOException e)
            {
                throw new SampleError($"cannot read graph cache ({e.Message})", path, "check the file and the disk");
            }
            yield return g;
        }
        if (stream.Position != stream.Length) throw Bad($"holds more than the {count} graphs {IndexFile} lists");
    }

    private static CanGraph ReadGraph(BinaryReader r, int window, Func<string, SampleError> bad)
    {
        var start = r.Read7BitEncodedInt();
        var frames = r.Read7BitEncodedInt();
        var duration = r.Read7BitEncodedInt64();
        var attacks = r.Read7BitEncodedInt();
        var split = r.ReadByte() switch
        {
            0 => CanGraph.Train,
            1 => CanGraph.Test,
            var b => throw bad($"graph at frame {start} has an unknown split {b}"),
        };
        var (nodeCount, edgeCount) = (r.Read7BitEncodedInt(), r.Read7BitEncodedInt());
        // Before allocating: a window of n frames has at most n nodes and n - 1 transitions.
        // The features divide by these and take logs of the duration: out-of-range values
        // (a hand-edited or foreign cache) would turn into NaN two stages later.
        if (frames < 2 || frames > window || attacks < 0 || attacks > frames || duration < 0
            || nodeCount < 1 || nodeCount > frames || edgeCount < 0 || edgeCount >= frames)
            throw bad($"graph at frame {start} has values out of range (2 <= frames <= window, 0 <= attack_frames <= frames, duration_us >= 0, 1 <= nodes <= frames, edges < frames)");
        var nodes = new GraphNode[nodeCount];
        for (var k = 0; k < nodes.Length; k++)
        {
            var n = nodes[k] = new GraphNode((uint)r.Read7BitEncodedInt(), r.Read7BitEncodedInt(), r.ReadDouble(), r.ReadDouble());
            if (n.Count < 1 || !(n.MeanByte is >= 0 and <= 1) || !(n.Entropy is >= 0 and <= 1))
                throw bad($"graph at frame {start} has node statistics out of range (count >= 1, mean_byte and entropy in [0, 1])");
        }
        var edges = new GraphEdge[edgeCount];
        for (var k = 0; k < edges.Length; k++)
        {
            var e = edges[k] = new GraphEdge(r.Read7BitEncodedInt(), r.Read7BitEncodedInt(), r.Read7BitEncodedInt());
            if (e.Src < 0 || e.Dst < 0 || e.Src >= nodeCount || e.Dst >= nodeCount || e.Weight < 1)
                throw bad($"graph at frame {start} has an edge to a missing node");
        }
        return new CanGraph(start, frames, duration, attacks, split, nodes, edges);
    }
}
