using System.Globalization;
using System.Text.Json;

namespace KdGat.Core.Config;

public enum ParamKind { String, Integer, Float, Bool, Json }

/// <summary>
/// A parameter as canonical text plus the JSON type it stands for. Numbers are compared by value:
/// <c>1e-3</c>, <c>0.001</c> and <c>0.0010</c> all read as <c>0.001</c>, and <c>1.0</c>, <c>1</c>
/// and <c>+1</c> as <c>1</c> (YAML numbers that are equal as numbers are one parameter value),
/// so the fingerprint, <c>{params.NAME}</c> and params.json agree however the number was written.
/// </summary>
public sealed record ParamValue(string Text, ParamKind Kind)
{
    /// <summary>Above this a double no longer holds every integer exactly, so integral values stay floats.</summary>
    private const double MaxExactInteger = 9007199254740992d; // 2^53

    public static ParamValue FromScalar(string text, bool quoted)
    {
        if (quoted) return new(text, ParamKind.String);
        if (text is "true" or "false" or "True" or "False") return new(text.ToLowerInvariant(), ParamKind.Bool);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return new(l.ToString(CultureInfo.InvariantCulture), ParamKind.Integer);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            if (Math.Abs(d) <= MaxExactInteger && d == Math.Floor(d))
                return new(((long)d).ToString(CultureInfo.InvariantCulture), ParamKind.Integer);
            return new(d.ToString("R", CultureInfo.InvariantCulture), ParamKind.Float);
        }
        // Not a finite number (NaN, Infinity, 0x1F, 1_000): JSON has no such number, so it is text.
        return new(text, ParamKind.String);
    }

    public void WriteTo(Utf8JsonWriter w)
    {
        switch (Kind)
        {
            case ParamKind.Bool: w.WriteBooleanValue(Text == "true"); break;
            case ParamKind.Integer or ParamKind.Float or ParamKind.Json: w.WriteRawValue(Text); break;
            default: w.WriteStringValue(Text); break;
        }
    }

    public override string ToString() => Text;
}
