using System.Text.Json;
using KdGat.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KdGat.Tracking.Tests;

/// <summary>
/// -t:Graph's files as a reader gets them: the DOT parses (DotParser, the DOT grammar; no Graphviz
/// needed) with one node per stage instance and every edge between declared nodes, and the SVG
/// renders in headless Chromium (an SVG document, no parse error) with one laid-out box per
/// stage instance, none overlapping.
/// </summary>
[Trait("Category", "Browser")]
public sealed class GraphChromiumTests
{
    private readonly ITestOutputHelper _out;
    public GraphChromiumTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void Graph_DotParses_SvgRendersOneBoxPerStageInstance()
    {
        using var s = TrackingSandbox.Create();
        var r = s.Ok("-t:Graph", "-p:Dataset=hcrl_sa set_01", "-p:GraphFile=out/pipeline.dot");
        var dotFile = Path.Combine(s.Dir, "out", "pipeline.dot");
        var svgFile = Path.Combine(s.Dir, "out", "pipeline.svg");
        Assert.Contains(svgFile, r.Output);

        var dot = DotParser.Parse(File.ReadAllText(dotFile));
        Assert.True(dot.Directed);
        Assert.Equal(2, dot.Subgraphs); // one cluster per dataset
        Assert.Equal(26, dot.Nodes.Count);
        Assert.All(dot.Nodes, n => Assert.Matches(@"^(hcrl_sa|set_01)/\w+$", n.Key));
        Assert.All(dot.Nodes.Values, a => Assert.Equal("would-run", a["label"].Split("\\n")[1]));
        Assert.Equal(2 * 33, dot.Edges.Count);
        Assert.All(dot.Edges, e => Assert.True(dot.Nodes.ContainsKey(e.From) && dot.Nodes.ContainsKey(e.To), $"edge {e} to an undeclared node"));
        Assert.Throws<FormatException>(() => DotParser.Parse(File.ReadAllText(dotFile).Replace("->", "--"))); // the parser can fail

        if (HeadlessChromium.Require(_out) is not { } chromium) return;
        using var browser = HeadlessChromium.Open(chromium, Path.Combine(s.Dir, "chromium-profile"), svgFile);
        var boxes = browser.WaitFor("""
            document.documentElement && document.documentElement.localName === 'svg' && document.readyState === 'complete'
              ? { errors: document.getElementsByTagName('parsererror').length,
                  nodes: Array.from(document.querySelectorAll('g.node')).map(function (g) {
                    var b = g.querySelector('rect').getBoundingClientRect();
                    return { id: g.getAttribute('data-id'), x: b.x, y: b.y, w: b.width, h: b.height,
                             fill: getComputedStyle(g.querySelector('rect')).fill };
                  }) }
              : null
            """, v => v.ValueKind == JsonValueKind.Object, "the SVG document", TimeSpan.FromSeconds(30));
        Assert.Equal(0, boxes.GetProperty("errors").GetInt32());
        var nodes = boxes.GetProperty("nodes").EnumerateArray().Select(n => (
            Id: n.GetProperty("id").GetString()!, X: n.GetProperty("x").GetDouble(), Y: n.GetProperty("y").GetDouble(),
            W: n.GetProperty("w").GetDouble(), H: n.GetProperty("h").GetDouble(), Fill: n.GetProperty("fill").GetString())).ToArray();
        _out.WriteLine($"{nodes.Length} boxes rendered, first {nodes[0]}");
        Assert.Equal(dot.Nodes.Keys.Order(), nodes.Select(n => n.Id).Order());
        Assert.All(nodes, n => Assert.True(n.W > 50 && n.H > 20, $"{n.Id} not laid out: {n}"));
        Assert.All(nodes, n => Assert.Equal("rgb(255, 224, 178)", n.Fill)); // would-run
        foreach (var a in nodes)
            foreach (var b in nodes.Where(b => string.CompareOrdinal(a.Id, b.Id) < 0))
                Assert.False(a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H, $"{a.Id} overlaps {b.Id}");
    }
}
