using System.Text.Json;

namespace KdGat.Sample.Common;

/// <summary>
/// Typed access to a parsed file's properties. A missing or mistyped property is a SampleError
/// naming the file: checkpoints come from other stages and may be from an older sample.
/// </summary>
internal readonly struct JsonRead(JsonElement element, string file)
{
    public JsonElement Element => element;
    public string File => file;

    public JsonRead Obj(string name) => new(Get(name, JsonValueKind.Object), file);

    public string Str(string name) => Get(name, JsonValueKind.String).GetString()!;

    /// <summary>A finite double; a number beyond double's range would otherwise throw a bare FormatException.</summary>
    public double Num(string name) =>
        Get(name, JsonValueKind.Number).TryGetDouble(out var v) && double.IsFinite(v) ? v : throw Bad($"property '{name}' is not a finite number");

    public int Int(string name) =>
        Get(name, JsonValueKind.Number).TryGetInt32(out var v) ? v : throw Bad($"property '{name}' is not an integer");

    public double[] Nums(string name)
    {
        var arr = Get(name, JsonValueKind.Array);
        var result = new double[arr.GetArrayLength()];
        var i = 0;
        foreach (var item in arr.EnumerateArray())
            result[i++] = item.ValueKind == JsonValueKind.Number && item.TryGetDouble(out var v) && double.IsFinite(v)
                ? v : throw Bad($"property '{name}' holds something other than a finite number");
        return result;
    }

    public IEnumerable<JsonRead> Items(string name)
    {
        var f = file;
        return Get(name, JsonValueKind.Array).EnumerateArray().Select(e => new JsonRead(e, f));
    }

    public SampleError Bad(string what) => new(what, file, "regenerate it by rerunning the stage that wrote it");

    private JsonElement Get(string name, JsonValueKind kind)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var v))
            throw Bad($"missing property '{name}'");
        if (v.ValueKind != kind) throw Bad($"property '{name}' should be {kind.ToString().ToLowerInvariant()}, not {v.ValueKind.ToString().ToLowerInvariant()}");
        return v;
    }
}
