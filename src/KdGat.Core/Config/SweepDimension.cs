using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// One dimension of a stage's <c>sweep:</c>: a name (a parameter it sets, e.g. <c>seed</c> or
/// <c>lr</c>) and its values in the order written, canonical as parameters are (<c>3e-3</c> is
/// <c>0.003</c>). <see cref="Source"/> is where it is written, "file(line,col)".
/// </summary>
public sealed record SweepDimension(string Name, IReadOnlyList<ParamValue> Values, string Source);

/// <summary>Reads and validates a <c>sweep:</c> mapping (on a stage or under <c>defaults:</c>).</summary>
internal static partial class SweepReader
{
    /// <summary>Instances of one stage per dataset at most: a grid (own dimensions times inherited ones) above it is KDG1032.</summary>
    public const int MaxGridPoints = 1000;

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\z")] // \z: "$" also matches before a final newline
    private static partial Regex NamePattern();

    // What a run dir component, a job name (after mapping) and -p:Sweep can all carry.
    [GeneratedRegex(@"^[A-Za-z0-9._+-]+\z")]
    private static partial Regex ValuePattern();

    /// <summary>Not dots alone either: "seed=.." as a path word was read as "..", the folder above (a bogus KDG1011, a review).</summary>
    public static bool IsValidValue(string text) => ValuePattern().IsMatch(text) && text.Trim('.').Length > 0;

    public static IReadOnlyList<SweepDimension> Read(YamlReader r, YamlNode node, string what, string root)
    {
        if (YamlReader.IsNull(node)) return [];
        var map = r.Mapping(node, what);
        var dims = new List<SweepDimension>();
        long points = 1;
        foreach (var (k, v) in map.Children)
        {
            var name = r.Scalar(k, $"{what} name");
            if (!NamePattern().IsMatch(name))
                throw r.Error(ErrorCodes.SweepInvalid, k, $"{what}: '{name}' is not a valid sweep name. Use a parameter name: letters, digits and '_' (dots for nested parameters), e.g. seed or lr.");
            if (name is "dataset" or "stage" or "run" or "variant")
                throw r.Error(ErrorCodes.SweepInvalid, k, $"{what}: '{name}' is a placeholder name KdGat sets itself; sweep a parameter of another name.");
            var items = v switch
            {
                YamlSequenceNode seq => seq.Children,
                YamlScalarNode s when !YamlReader.IsNull(s) => [s],
                _ => throw r.Error(ErrorCodes.SweepInvalid, v, $"{what}.{name} must be a list of values, e.g. {name}: [0, 1, 2]."),
            };
            if (items.Count == 0)
                throw r.Error(ErrorCodes.SweepInvalid, v, $"{what}.{name} is empty. List at least one value, or remove '{name}'.");
            var values = new List<ParamValue>();
            foreach (var item in items)
            {
                if (item is not YamlScalarNode sc || YamlReader.IsNull(sc))
                    throw r.Error(ErrorCodes.SweepInvalid, item, $"{what}.{name}: each value must be a plain value (a number, word or true/false), not a list, mapping or null.");
                var pv = ParamsReader.Value(r, sc, $"{what}.{name}");
                if (!IsValidValue(pv.Text))
                    throw r.Error(ErrorCodes.SweepUnsafeValue, item, $"{what}.{name}: value '{pv.Text}' would break run dir names ({{runs}}/{{dataset}}/{{stage}}/{name}=VALUE) and -p:Sweep. Use letters, digits, '.', '_', '-' or '+' only, and not dots alone.");
                // By text, not value and type: the number 1 and the string '1' are both the run dir seed=1.
                if (values.FirstOrDefault(o => o.Text == pv.Text) is { } first)
                    throw r.Error(ErrorCodes.SweepInvalid, item, first == pv
                        ? $"{what}.{name}: value '{pv.Text}' is listed twice (numbers are compared by value). Remove one."
                        : $"{what}.{name}: value '{pv.Text}' is listed twice: a {Kind(first)} and a {Kind(pv)} of the same text are the same in run dir names ({name}={pv.Text}) and -p:Sweep. Remove one.");
                values.Add(pv);
            }
            points *= values.Count;
            if (points > MaxGridPoints)
                throw r.Error(ErrorCodes.SweepTooLarge, v, $"{what}: the grid has more than {MaxGridPoints} points per dataset. Sweep fewer values, or split the sweep into several configurations.");
            dims.Add(new SweepDimension(name, values, $"{IO.PathText.ToStored(root, r.File)}({k.Start.Line},{k.Start.Column})"));
        }
        return dims;
    }

    private static string Kind(ParamValue v) => v.Kind switch
    {
        ParamKind.String => "quoted string",
        ParamKind.Integer or ParamKind.Float => "number",
        ParamKind.Bool => "boolean",
        _ => v.Kind.ToString().ToLowerInvariant(),
    };
}
