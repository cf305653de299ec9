using System.Globalization;
using System.Text.Json;

namespace KdGat.Core.Config;

public enum ParamKind { String, Integer, Float, Bool, Json }

/// <summary>A parameter as the user wrote it (canonical text) plus the JSON type it stands for.</summary>
public sealed record ParamValue(string Text, ParamKind Kind)
{
    public static ParamValue FromScalar(string text, bool quoted)
    {
        if (quoted) return new(text, ParamKind.String);
        if (text is "true" or "false" or "True" or "False") return new(text.ToLowerInvariant(), ParamKind.Bool);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) return new(text, ParamKind.Integer);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return new(text, ParamKind.Float);
        return new(text, ParamKind.String);
    }

    public void WriteTo(Utf8JsonWriter w)
    {
        switch (Kind)
        {
            case ParamKind.Bool: w.WriteBooleanValue(Text == "true"); break;
            case ParamKind.Integer: w.WriteNumberValue(long.Parse(Text, CultureInfo.InvariantCulture)); break;
            case ParamKind.Float: w.WriteRawValue(double.Parse(Text, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)); break;
            case ParamKind.Json: w.WriteRawValue(Text); break;
            default: w.WriteStringValue(Text); break;
        }
    }

    public override string ToString() => Text;
}
