using System.Globalization;
using System.Text.Json;

namespace KdGat.Core.Tracking;

/// <summary>
/// JSON as Python's json.dump writes it: NaN, Infinity and -Infinity bare, which is not JSON. A
/// diverged run writes them (metrics.json, curves.jsonl) and must show as one, so they are values:
/// <see cref="Json"/> has each as null for System.Text.Json, and <see cref="TopLevelNumbers"/> gives
/// them back as the numbers they were (a null the file wrote is not one).
/// </summary>
internal sealed class NonFiniteJson
{
    private readonly Dictionary<long, double> _literals = [];

    public NonFiniteJson(byte[] text) => Json = Rewrite(text, _literals);

    /// <summary>The text with each bare literal outside strings as null.</summary>
    public byte[] Json { get; }

    /// <summary>
    /// The members of the root object (<paramref name="root"/>, parsed from <see cref="Json"/>) that hold a
    /// number, in text order: a literal this text had there, a JSON number (beyond a double, 1e400:
    /// infinity, as IEEE rounds it; TryGetDouble refuses it); a null the file wrote, a string or an
    /// object is left out. What metrics.json and each curves.jsonl line are read by.
    /// </summary>
    public IEnumerable<(string Name, double Value)> TopLevelNumbers(JsonElement root)
    {
        var literals = TopLevelLiterals();
        var k = 0;
        foreach (var p in root.EnumerateObject())
        {
            var literal = literals.ElementAtOrDefault(k++);
            if ((literal ?? (p.Value.ValueKind == JsonValueKind.Number
                    && (p.Value.TryGetDouble(out var x) || double.TryParse(p.Value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out x)) ? x : null)) is { } value)
                yield return (p.Name, value);
        }
    }

    /// <summary>Per member of the root object, in text order: the literal its value was, else null.</summary>
    private List<double?> TopLevelLiterals()
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
