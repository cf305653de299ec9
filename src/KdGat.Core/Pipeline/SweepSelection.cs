using KdGat.Core.Config;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Pipeline;

/// <summary>
/// -p:Sweep: which grid points to build. <c>seed=1</c>, <c>seed=1;lr=0.003</c> (or separated by
/// spaces or ',', so a run dir's variant <c>seed=1,lr=0.003</c> can be pasted), and
/// <c>seed=0,1</c> (a value without a name adds to the name before it). An instance is selected
/// when it has every named dimension with one of the given values; what they need is built too.
/// A value is given as its run dir text (a quoted <c>'1.10'</c> or <c>'007'</c> as just that) or,
/// for a number, in any spelling of the same number (<c>lr=3e-3</c> selects <c>0.003</c>).
/// </summary>
internal sealed class SweepSelection
{
    private readonly IReadOnlyList<(string Name, IReadOnlyList<ParamValue> Values)> _terms;

    private SweepSelection(IReadOnlyList<(string, IReadOnlyList<ParamValue>)> terms) => _terms = terms;

    public override string ToString() => string.Join(";", _terms.Select(t => $"{t.Name}={string.Join(",", t.Values.Select(v => v.Text).Distinct())}"));

    /// <summary>Null for an empty -p:Sweep. Names and values are checked against the instances' grids (KDG1033).</summary>
    /// <param name="globalProperties">The build's other -p: names: one named like a swept dimension is a part of -p:Sweep MSBuild split off.</param>
    /// <param name="given">Where the value came from, for the errors: -p:Sweep, or an environment variable SWEEP (BuildRequest.Given).</param>
    public static SweepSelection? Parse(string? text, IReadOnlyList<StageInstance> instances, string configFile, IReadOnlyCollection<string>? globalProperties = null, string given = "-p:Sweep")
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var sweep = Engine.EnvironmentProperties.WithValue(given, "Sweep", text);
        var terms = new List<(string Name, List<string> Values)>();
        foreach (var token in text.Split([';', ' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=');
            if (eq < 0)
            {
                if (terms.Count == 0) throw Error($"{sweep}: '{token}' has no name. Write NAME=VALUE, e.g. -p:Sweep=seed=1 or -p:Sweep=\"seed=1 lr=0.003\".", configFile);
                terms[^1].Values.Add(token);
                continue;
            }
            var name = token[..eq].Trim();
            var value = token[(eq + 1)..].Trim();
            if (name.Length == 0 || value.Length == 0)
                throw Error($"{sweep}: '{token}' needs a name and a value, NAME=VALUE (e.g. seed=1).", configFile);
            if (terms.Any(t => t.Name == name))
                throw Error($"{sweep}: '{name}' is given twice. List several values as {name}=A,B.", configFile);
            terms.Add((name, [value]));
        }
        var grid = new Dictionary<string, HashSet<ParamValue>>(StringComparer.Ordinal);
        foreach (var item in instances.SelectMany(i => i.Sweep.Items))
        {
            if (!grid.TryGetValue(item.Name, out var set)) grid[item.Name] = set = [];
            set.Add(item.Value);
        }
        // MSBuild separates properties at ',' and ';': -p:Sweep=seed=1,lr=0.003 arrives as Sweep=seed=1
        // and a property lr. Going on would select (and Clean would delete) every lr.
        // Property names ignore case (-p:Sweep=seed=1,LR=0.003 made the property lr too, a review). Every name counts, KdGat's own
        // too: a dimension 'limit' split off as -p:limit would otherwise widen the selection (a diff review).
        // Only a -p: value is split: SWEEP=seed=1 from the environment arrives whole, and a -p:lr beside it is a property of its own.
        if (given == "-p:Sweep" && globalProperties?.Select(p => grid.Keys.FirstOrDefault(k => string.Equals(k, p, StringComparison.OrdinalIgnoreCase))).FirstOrDefault(k => k is not null) is { } split)
            throw Error($"-p:Sweep='{text}' arrived without '{split}': MSBuild splits -p: values at ',' and ';' and made -p:{split}=... a property of its own, so the selection would cover every value of '{split}'. " +
                "Separate names with spaces, -p:Sweep=\"seed=1 lr=0.003\", or keep MSBuild's quotes around the value, '-p:Sweep=\"seed=1,lr=0.003\"' (several values: '-p:Sweep=\"seed=0,1\"').", configFile);
        var selected = new List<(string, IReadOnlyList<ParamValue>)>();
        foreach (var (name, values) in terms)
        {
            if (!grid.TryGetValue(name, out var known))
                throw Error(grid.Count == 0
                    ? $"{sweep}: no stage of the selection is swept, so there is no '{name}' to select. Add a 'sweep:' to a stage (or to defaults) in kdgat.yaml, or drop -p:Sweep."
                    : $"{sweep}: no stage sweeps '{name}'. Swept names: {string.Join(", ", grid.Keys.Order(StringComparer.Ordinal))}.", configFile);
            var chosen = new List<ParamValue>();
            foreach (var v in values)
            {
                // The run dir's text first: a quoted '1.10' is not the number 1.1, nor '007' the number 7.
                // Else a number by value. No dimension lists two values of one text (SweepReader).
                var parsed = ParamValue.FromScalar(v, quoted: false);
                var matches = known.Where(k => k.Text == v).ToArray() is { Length: > 0 } byText ? byText : known.Where(k => k == parsed).ToArray();
                if (matches.Length == 0)
                    throw Error($"{sweep}: {name}={v} is not in the grid. Values of '{name}': {string.Join(", ", known.Select(k => k.Text).Distinct().Order(StringComparer.Ordinal))}. Add it to the sweep in kdgat.yaml to build it.", configFile);
                chosen.AddRange(matches);
            }
            selected.Add((name, chosen));
        }
        return new SweepSelection(selected);
    }

    /// <summary>True when the instance has every named dimension with one of the selected values.</summary>
    public bool Matches(StageInstance s) => _terms.All(t => s.Sweep.Get(t.Name) is { } v && t.Values.Contains(v));

    /// <summary>True when a recorded variant ("seed=1,lr=0.003") has every named dimension with one of the selected values.</summary>
    public bool Matches(string? variant)
    {
        var values = (variant ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(a => a.Split('=', 2)).Where(a => a.Length == 2)
            .ToDictionary(a => a[0], a => a[1], StringComparer.Ordinal);
        return _terms.All(t => values.TryGetValue(t.Name, out var v) && t.Values.Any(x => x.Text == v));
    }

    /// <summary>The matching instances and every instance they need, in the given (dependency) order; KDG1033 when none matches.</summary>
    public IReadOnlyList<StageInstance> Apply(IReadOnlyList<StageInstance> instances, string configFile, string given = "-p:Sweep")
    {
        var keep = new HashSet<StageInstance>();
        void Add(StageInstance s)
        {
            if (!keep.Add(s)) return;
            foreach (var u in s.Upstreams) Add(u);
        }
        foreach (var s in instances.Where(Matches)) Add(s);
        if (keep.Count == 0)
            throw Error($"{(given == "-p:Sweep" ? $"-p:Sweep={this}" : $"{given}, {this}")} selects no stage instance among the selected stages and datasets (each value exists, but not together, or not in a selected stage). Check -p:Stage and the sweep of kdgat.yaml.", configFile);
        return instances.Where(keep.Contains).ToArray();
    }

    // One line: the value quoted in it is the user's (a newline in -p:Sweep split the message).
    private static KdgException Error(string message, string configFile) => new(ErrorCodes.SweepSelection, ConsoleText.OneLine(message), configFile);
}
