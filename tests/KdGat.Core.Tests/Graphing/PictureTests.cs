using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using KdGat.Core.Graphing;
using KdGat.Core.Pipeline;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Graphing;

[Trait("Category", "Unit")]
public sealed class PictureTests
{
    private const string Nasty = "a\"b\\c<d>&e'f\nline2";

    private static BuildReport Report(string mode, IEnumerable<string> datasets, IReadOnlyList<StageDeclaration> stages, Func<string, string, InstanceReport>? make = null) => new()
    {
        BuildId = "b1",
        Mode = mode,
        Executor = "local",
        Datasets = datasets.ToArray(),
        Stages = datasets.SelectMany(d => stages.Select(s => make?.Invoke(d, s.Name)
            ?? new InstanceReport { Dataset = d, Stage = s.Name, Outcome = Outcome.WouldRun, Reasons = [$"no manifest {Nasty}", "second reason"] })).ToArray(),
    };

    internal static PipelinePicture Sample(params string[] datasets) => PipelinePicture.From(Report("explain", datasets, KdGatGraph.Stages), KdGatGraph.Stages, null);

    [Fact]
    public void Model_OneNodePerInstance_OneEdgePerNeedWithinTheSelection_FirstReasonAsDetail()
    {
        var p = Sample("hcrl_sa", "set_01");
        Assert.Equal(26, p.Nodes.Count);
        Assert.Equal(2 * KdGatGraph.Stages.Sum(s => s.Needs.Count), p.Edges.Count);
        Assert.Contains(new GraphEdge("set_01/vgae_large_autoencoder", "set_01/gat_large_curriculum"), p.Edges);
        Assert.DoesNotContain(p.Edges, e => e.From.Split('/')[0] != e.To.Split('/')[0]);
        Assert.All(p.Nodes, n => Assert.Equal($"no manifest {Nasty}", n.Detail));

        // A selection (-p:Stage): edges only between selected instances.
        var two = KdGatGraph.Stages.Take(2).ToArray();
        var small = PipelinePicture.From(Report("explain", ["d"], two), KdGatGraph.Stages, null);
        Assert.Equal([new GraphEdge("d/preprocess", "d/vgae_large_autoencoder")], small.Edges);
    }

    [Fact]
    public void Model_WouldRunAfterAFailedOrSubmittedBuild_ShowsFailedOrTheJobId()
    {
        var stages = KdGatGraph.Stages.Take(3).ToArray();
        var last = Report("build", ["d"], stages, (d, s) => new InstanceReport
        {
            Dataset = d, Stage = s,
            Outcome = s == "preprocess" ? Outcome.Ran : s == "vgae_large_autoencoder" ? Outcome.Failed : Outcome.Submitted,
            Error = "exit code 3", JobId = "4242",
        });
        var now = Report("explain", ["d"], stages, (d, s) => new InstanceReport
            { Dataset = d, Stage = s, Outcome = s == "preprocess" ? Outcome.UpToDate : Outcome.WouldRun });
        var p = PipelinePicture.From(now, stages, last);
        Assert.Equal([Outcome.UpToDate, PipelinePicture.Failed, PipelinePicture.Submitted], p.Nodes.Select(n => n.State));
        Assert.Contains("exit code 3", p.Nodes[1].Detail);
        Assert.Equal("job 4242", p.Nodes[2].Detail);
        // An earlier Explain is no build: it says nothing about failures.
        Assert.All(PipelinePicture.From(now, stages, last with { Mode = "explain" }).Nodes.Skip(1), n => Assert.Equal(Outcome.WouldRun, n.State));
    }

    [Fact]
    public void Dot_EveryInstanceANode_EveryNeedAnEdge_LabelsEscaped_Structurally_Valid()
    {
        var p = Sample("hcrl_sa", "weird\"name");
        var dot = DotWriter.Write(p);
        var nodes = Regex.Matches(dot, @"^\s*(""(?:[^""\\]|\\.)*"") \[label=", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(p.Nodes.Select(n => DotWriter.Quote(n.Id)).Order(), nodes.Order());
        var edges = Regex.Matches(dot, @"^\s*(""(?:[^""\\]|\\.)*"") -> (""(?:[^""\\]|\\.)*"");$", RegexOptions.Multiline).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToArray();
        Assert.Equal(p.Edges.Select(e => (DotWriter.Quote(e.From), DotWriter.Quote(e.To))).Order(), edges.Order());
        Assert.Contains(@"tooltip=""no manifest a\""b\\c<d>&e'f\nline2""", dot);
        AssertDotStructure(dot);
    }

    /// <summary>Quoted strings closed, braces balanced, every statement line ending with ';'.</summary>
    private static void AssertDotStructure(string dot)
    {
        Assert.StartsWith("digraph kdgat {", dot);
        var bare = Regex.Replace(dot, @"""(?:[^""\\]|\\.)*""", "ID");
        Assert.DoesNotContain("\"", bare);
        var depth = 0;
        foreach (var line in bare.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()))
        {
            depth += line.Count(c => c == '{') - line.Count(c => c == '}');
            Assert.True(depth >= 0, line);
            Assert.True(line.EndsWith('{') || line == "}" || line.EndsWith(';'), $"statement without ';': {line}");
            Assert.Matches(@"^(digraph kdgat \{|subgraph ID \{|\}|rankdir=TB;|node \[.*\];|label=ID;|ID \[label=ID, fillcolor=ID, tooltip=ID\];|ID -> ID;)$", line);
        }
        Assert.Equal(0, depth);
    }

    [Fact]
    public void Svg_WellFormed_OneNodeGroupPerInstance_NoOverlappingBoxes_EdgesAndLegend()
    {
        var p = Sample("hcrl_sa", "set_01", "x<&y");
        var svg = XDocument.Parse(SvgWriter.Write(p));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var groups = svg.Descendants(ns + "g").ToArray();
        var nodes = groups.Where(g => (string?)g.Attribute("class") == "node").ToArray();
        Assert.Equal(p.Nodes.Select(n => n.Id).Order(), nodes.Select(g => (string)g.Attribute("data-id")!).Order());
        Assert.Equal(p.Edges.Count, groups.Count(g => (string?)g.Attribute("class") == "edge"));
        Assert.Equal(3, groups.Count(g => (string?)g.Attribute("class") == "cluster"));
        Assert.Single(groups, g => (string?)g.Attribute("class") == "legend");
        Assert.Contains(nodes, g => g.Element(ns + "title")!.Value.Contains(Nasty.Replace('\n', ' ')));

        var boxes = nodes.Select(g => g.Element(ns + "rect")!).Select(r => (X: D(r, "x"), Y: D(r, "y"), W: D(r, "width"), H: D(r, "height"))).ToArray();
        for (var i = 0; i < boxes.Length; i++)
            for (var j = i + 1; j < boxes.Length; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                var overlap = a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;
                Assert.False(overlap, $"boxes {i} and {j} overlap");
            }
        var width = D(svg.Root!, "width");
        Assert.All(boxes, b => Assert.InRange(b.X + b.W, 0, width));
    }

    private static double D(XElement e, string name) => double.Parse((string)e.Attribute(name)!, CultureInfo.InvariantCulture);

    [Fact]
    public void Layout_LongestPathLayers_AndUpstreamsAboveTheirDownstream()
    {
        var p = Sample("d");
        var layers = SvgLayout.Layers(p, "d");
        var layerOf = layers.SelectMany((l, i) => l.Select(n => (n.Stage, i))).ToDictionary(t => t.Stage, t => t.i);
        Assert.Equal(0, layerOf["preprocess"]);
        Assert.Equal(1, layerOf["vgae_large_autoencoder"]);
        Assert.Equal(3, layerOf["dqn_large_fusion"]); // needs gat_large_curriculum (layer 2) too: longest path
        foreach (var s in KdGatGraph.Stages)
            Assert.All(s.Needs, up => Assert.True(layerOf[up] < layerOf[s.Name], $"{up} -> {s.Name}"));
    }

    [Fact]
    public void Layout_OrdersALayerByTheBarycentreOfItsUpstreams()
    {
        // a, b on top; a2 needs b, b2 needs a (declared in the crossing order): barycentre puts b2 under a.
        StageDeclaration[] stages = [new("a", []), new("b", []), new("a2", ["b"]), new("b2", ["a"])];
        var p = PipelinePicture.From(Report("explain", ["d"], stages), stages, null);
        Assert.Equal(["b2", "a2"], SvgLayout.Layers(p, "d")[1].Select(n => n.Stage));
    }

    [Fact]
    public void Files_WrittenBesideEachOther_DefaultUnderDotKdgat()
    {
        using var dir = new TempDir();
        var (dot, svg) = GraphFiles.Write(Sample("d"), dir.Path, null);
        Assert.Equal(Path.Combine(dir.Path, ".kdgat", "graph.dot"), dot);
        Assert.Equal(Path.Combine(dir.Path, ".kdgat", "graph.svg"), svg);
        Assert.StartsWith("digraph", File.ReadAllText(dot));
        XDocument.Parse(File.ReadAllText(svg));
        Assert.Equal(Path.Combine(dir.Path, "out", "g.svg"), GraphFiles.Write(Sample("d"), dir.Path, "out/g.dot").Svg);
        var named = GraphFiles.Write(Sample("d"), dir.Path, "pic.svg");
        Assert.Equal((Path.Combine(dir.Path, "pic.dot"), Path.Combine(dir.Path, "pic.svg")), named);
        XDocument.Parse(File.ReadAllText(named.Svg));
    }

    [Fact]
    public void AGraphFileThatIsADirectory_IsRefusedNamingTheProperty()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "out"));

        // Was the IOException's "Is a directory : '/tmp'", after the whole Explain had run.
        var e = Assert.Throws<KdGat.Core.Diagnostics.KdgException>(() => GraphFiles.Paths(dir.Path, "out"));

        Assert.Equal(KdGat.Core.Diagnostics.ErrorCodes.FileAccess, e.Code);
        Assert.Contains("-p:GraphFile 'out' names a directory", e.Message);
        Assert.Contains("graph.dot", e.Message);
    }
}
