using System.Text.RegularExpressions;
using System.Xml.Linq;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>-t:Graph with real msbuild: DOT and SVG of the selection, one node per stage instance, states from Explain and the last build.</summary>
public sealed class GraphTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static Dictionary<string, string> SvgStates(string file) =>
        XDocument.Load(file).Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "node")
            .ToDictionary(g => (string)g.Attribute("data-id")!, g => (string)g.Attribute("data-state")!);

    private static string[] DotNodes(string file) =>
        Regex.Matches(File.ReadAllText(file), @"^\s*""([^""]+)"" \[label=", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order().ToArray();

    [Fact]
    public void Graph_WritesDotAndSvg_OneNodePerInstanceOfTheSelection_WithStates()
    {
        using var s = Sandbox.Trivial();
        s.PrefixCommand("gat_small_curriculum", "exit 3; ");
        Assert.NotEqual(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        var r = s.Build("-t:Graph", "-p:Dataset=hcrl_sa set_01");
        Assert.True(r.ExitCode == 0, r.ToString());
        var dot = Path.Combine(s.Dir, ".kdgat", "graph.dot");
        var svg = Path.Combine(s.Dir, ".kdgat", "graph.svg");
        Assert.Contains(dot, r.Output);
        Assert.Contains(svg, r.Output);

        var states = SvgStates(svg);
        Assert.Equal(26, states.Count);
        Assert.Equal(states.Keys.Order(), DotNodes(dot));
        Assert.Equal(2 * 24, Regex.Matches(File.ReadAllText(dot), " -> ").Count); // 24 Needs in pipeline.proj, per dataset
        Assert.Equal("up-to-date", states["hcrl_sa/preprocess"]);
        Assert.Equal("failed", states["hcrl_sa/gat_small_curriculum"]);
        Assert.Equal("would-run", states["hcrl_sa/dqn_small_fusion"]);
        Assert.Equal("would-run", states["set_01/preprocess"]);

        // -p:Stage narrows to the stage and what it needs; -p:GraphFile moves both files.
        r = s.Build("-t:Graph", "-p:Dataset=hcrl_sa", "-p:Stage=gat_large_curriculum", "-p:GraphFile=out/g.dot");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["hcrl_sa/gat_large_curriculum", "hcrl_sa/preprocess", "hcrl_sa/vgae_large_autoencoder"],
            DotNodes(Path.Combine(s.Dir, "out", "g.dot")));
        Assert.Equal(3, SvgStates(Path.Combine(s.Dir, "out", "g.svg")).Count);
    }
}
