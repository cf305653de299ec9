using KdGat.Core.Pipeline;
using KdGat.Core.Engine;

namespace KdGat.Core.Graphing;

/// <summary>One stage instance in the picture: its state (an Explain outcome, or what the last build left) and the first reason.</summary>
internal sealed record GraphNode(string Dataset, string Stage, string State, string Detail)
{
    /// <summary>A swept instance's grid point ("seed=1"); null for an unswept one.</summary>
    public string? Variant { get; init; }
    public string Id => Variant is null ? $"{Dataset}/{Stage}" : $"{Dataset}/{Stage}/{Variant}";
    /// <summary>The second line in the box when not just the state (e.g. "running, job 4711").</summary>
    public string? Caption { get; init; }
    public string Shown => Caption ?? State;
}

/// <summary>An edge from an upstream instance to the instance that needs it (same dataset).</summary>
internal sealed record GraphEdge(string From, string To);

/// <summary>
/// The stage graph of a selection as a plain model: nodes in dependency order, edges from Needs.
/// Written as DOT by <see cref="DotWriter"/> and laid out as SVG by <see cref="SvgWriter"/>.
/// </summary>
internal sealed record PipelinePicture(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges)
{
    /// <summary>Running or submitted: a job the last build left in the queue.</summary>
    public const string Submitted = Outcome.Submitted;
    /// <summary>Failed in the last build and would run again.</summary>
    public const string Failed = Outcome.Failed;

    public IReadOnlyList<string> Datasets => Nodes.Select(n => n.Dataset).Distinct().ToArray();

    /// <param name="explain">The Explain report of the selection (its instances are the nodes).</param>
    /// <param name="stages">The declared stages, for the edges (Needs).</param>
    /// <param name="previous">The last build's report, read before Explain replaced it: an instance that
    /// would run because that build failed it or left its job queued is shown as failed or submitted.</param>
    public static PipelinePicture From(BuildReport explain, IReadOnlyList<StageDeclaration> stages, BuildReport? previous)
    {
        var before = previous is { Mode: "build" }
            ? previous.Stages.ToDictionary(s => $"{s.Dataset}/{s.Stage}/{s.Variant}", StringComparer.Ordinal)
            : new Dictionary<string, InstanceReport>(StringComparer.Ordinal);
        var nodes = explain.Stages.Select(s => Node(s, before.GetValueOrDefault($"{s.Dataset}/{s.Stage}/{s.Variant}")) with { Variant = s.Variant }).ToArray();
        var needs = stages.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First().Needs, StringComparer.Ordinal);
        // A swept instance reads the upstream instances whose grid points agree with its own.
        var byStage = nodes.ToLookup(n => (n.Dataset, n.Stage));
        var edges = nodes
            .SelectMany(n => needs.GetValueOrDefault(n.Stage, []).SelectMany(up => byStage[(n.Dataset, up)].Where(u => Agree(u.Variant, n.Variant)).Select(u => new GraphEdge(u.Id, n.Id))))
            .ToArray();
        return new PipelinePicture(nodes, edges);
    }

    private static bool Agree(string? a, string? b)
    {
        if (a is null || b is null) return true;
        var mine = b.Split(',').Select(x => x.Split('=', 2)).Where(x => x.Length == 2).ToDictionary(x => x[0], x => x[1], StringComparer.Ordinal);
        return a.Split(',').Select(x => x.Split('=', 2)).All(x => x.Length != 2 || !mine.TryGetValue(x[0], out var v) || v == x[1]);
    }

    private static GraphNode Node(InstanceReport now, InstanceReport? last)
    {
        var reason = now.Reasons.FirstOrDefault() ?? "";
        if (now.Outcome == Outcome.WouldRun && last is not null)
        {
            if (last.Outcome == Outcome.Failed)
                return new(now.Dataset, now.Stage, Failed, "last build: " + (last.Error ?? last.Log ?? "failed"));
            if (last.Outcome == Outcome.Submitted)
                return new(now.Dataset, now.Stage, Submitted, last.JobId is { } id ? $"job {id}" : "submitted");
        }
        return new(now.Dataset, now.Stage, now.Outcome, reason);
    }
}
