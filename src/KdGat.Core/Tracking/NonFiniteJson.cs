using System.Globalization;
using System.Text.Json;

namespace KdGat.Core.Tracking;

/// <summary>
/// JSON as Python's json.dump writes it: NaN, Infinity and -Infinity bare, which is not JSON. A
/// diverged run writes them (metrics.json, curves.jsonl) and must show as one, so they are values:
/// <see cref="Json"/> has each as null for System.Text.Json, and <see cref="TopLevelLiterals"/> says
/// which of the root object's nulls were one (a null the file wrote is not).
/// </summary>
internal sealed class NonFiniteJson
{
    private readonly Dictionary<long, double> _literals = [];

    public NonFiniteJson(byte[] text) => Json = Rewrite(text, _literals);

    /// <summary>The text with each bare literal outside strings as null.</summary>
    public byte[] Json { get; }

    /// <summary>Per member of the root object (an object: the caller has parsed <see cref="Json"/>), in text order: the literal its value was, else null.</summary>
    public List<double?> TopLevelLiterals()
    {
        var values = new List<double?>();
        if (_literals.Count == 0) return values;
        var reader = new Utf8JsonReader(Json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            reader.Read();
            values.Add(reader.TokenType == JsonTokenType.Null && _literals.TryGetValue(reader.TokenStartIndex, out var x) ? x : null);
            reader.Skip();
        }
        return values;
    }

    /// <summary>
    /// The number a member's value stands for: its literal (<see cref="TopLevelLiterals"/>), its JSON
    /// number (beyond a double, 1e400: infinity, as IEEE rounds it; TryGetDouble refuses it), else null.
    /// </summary>
    public static double? Number(JsonElement value, double? literal) =>
        literal ?? (value.ValueKind == JsonValueKind.Number
            && (value.TryGetDouble(out var x) || double.TryParse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out x)) ? x : null);

    /// <summary>A copy with each bare literal outside strings as null; <paramref name="literals"/> gets each such null's offset in the copy and the value it was.</summary>
    private static byte[] Rewrite(byte[] json, Dictionary<long, double> literals)
    {
        var output = new List<byte>(json.Length);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                output.Add(c);
                if (c == (byte)'\\' && i + 1 < json.Length) output.Add(json[++i]);
                else if (c == (byte)'"') inString = false;
                continue;
            }
            if (c == (byte)'"') { inString = true; output.Add(c); continue; }
            var rest = json.AsSpan(i);
            var (literal, value) = rest.StartsWith("NaN"u8) ? (3, double.NaN) : rest.StartsWith("Infinity"u8) ? (8, double.PositiveInfinity)
                : rest.StartsWith("-Infinity"u8) ? (9, double.NegativeInfinity) : (0, 0);
            if (literal == 0) { output.Add(c); continue; }
            literals.Add(output.Count, value);
            output.AddRange("null"u8);
            i += literal - 1;
        }
        return [.. output];
    }
}
