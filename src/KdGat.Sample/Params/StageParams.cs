using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Params;

/// <summary>
/// The params file KdGat writes for a stage (params.json): one flat object of dotted names to
/// values. Unknown names are ignored, so one models/*.yaml can carry notes for other tools;
/// missing ones take the default the caller passes.
/// </summary>
internal sealed class StageParams
{
    private readonly Dictionary<string, JsonElement> _values;
    private readonly string _file;

    private StageParams(Dictionary<string, JsonElement> values, string file)
    {
        _values = values;
        _file = file;
    }

    public static StageParams Empty { get; } = new([], "(no params file)");

    public static StageParams Load(string? path)
    {
        if (path is null) return Empty;
        using var doc = JsonFile.Read(path, "params file", "pass the params.json KdGat wrote ({params_file}) or create it");
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new SampleError("params file must hold one JSON object of names to values", path, "write it as {\"lr\": 0.01, ...}");
        var values = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        return new StageParams(values, path);
    }

    public double Double(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        if (!_values.TryGetValue(name, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Number)
            throw new SampleError($"parameter '{name}' must be a number, not {v.ValueKind.ToString().ToLowerInvariant()}", _file, $"fix '{name}' in the stage's params");
        var d = v.GetDouble();
        if (d < min || d > max || !double.IsFinite(d))
            throw new SampleError($"parameter '{name}' = {v.GetRawText()} is out of range [{min}, {max}]", _file, $"fix '{name}' in the stage's params");
        return d;
    }

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!_values.TryGetValue(name, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i))
            throw new SampleError($"parameter '{name}' must be a whole number, not {v.GetRawText()}", _file, $"fix '{name}' in the stage's params");
        if (i < min || i > max)
            throw new SampleError($"parameter '{name}' = {i} is out of range [{min}, {max}]", _file, $"fix '{name}' in the stage's params");
        return i;
    }
}
