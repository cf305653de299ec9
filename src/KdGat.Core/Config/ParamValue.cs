using System.Globalization;
using System.Text.Json;

namespace KdGat.Core.Config;

public enum ParamKind { String, Integer, Float, Bool, Json, Null }

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
    /// <summary>Digits of the longest whole number kept exact (parsing is quadratic in them; a parameter is not a bignum store).</summary>
    private const int MaxIntegerDigits = 1000;

    public static ParamValue FromScalar(string text, bool quoted)
    {
        if (quoted) return new(text, ParamKind.String);
        // YAML's null (null, ~, nothing) is JSON's null: params.json had the string "null" (a review). Its text
        // stays as written: {params.X} renders it as before ('' for an empty value, not 'null').
        if (text is "" or "~" or "null" or "Null" or "NULL") return new(text, ParamKind.Null);
        if (text is "true" or "false" or "True" or "False" or "TRUE" or "FALSE") return new(text.ToLowerInvariant(), ParamKind.Bool); // YAML 1.2's core schema
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return new(l.ToString(CultureInfo.InvariantCulture), ParamKind.Integer);
        // Beyond 64 bits a whole number stays exact (JSON and Python's json have integers of any size):
        // as a double, seed 123456789012345678901234 reached the stage as 1.2345678901234569E+23.
        if (text.Length <= MaxIntegerDigits && System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
            return new(big.ToString(CultureInfo.InvariantCulture), ParamKind.Integer);
        // YAML 1.2's core schema has 0x1F and 0o17 as integers (PyYAML reads 0x1F as 31 too); they were the text "0x1F"
        // in params.json, which the stage then got as a string (a review).
        if (text.Length is > 2 and <= MaxIntegerDigits && text[0] == '0' && text[1] is 'x' or 'o' && RadixInteger(text[2..], text[1] == 'x' ? 16 : 8) is { } radix)
            return new(radix.ToString(CultureInfo.InvariantCulture), ParamKind.Integer);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            if (Math.Abs(d) <= MaxExactInteger && d == Math.Floor(d))
                return new(((long)d).ToString(CultureInfo.InvariantCulture), ParamKind.Integer);
            return new(d.ToString("R", CultureInfo.InvariantCulture), ParamKind.Float);
        }
        // Not a finite number (NaN, Infinity, 1_000): JSON has no such number, so it is text.
        return new(text, ParamKind.String);
    }

    /// <summary>Digits of base 16 or 8 (no sign, no '_': YAML 1.2) as a whole number; null when one is not such a digit.</summary>
    private static System.Numerics.BigInteger? RadixInteger(string digits, int radix)
    {
        var value = System.Numerics.BigInteger.Zero;
        foreach (var c in digits)
        {
            var digit = c is >= '0' and <= '9' ? c - '0' : radix == 16 && char.ToLowerInvariant(c) is >= 'a' and <= 'f' and var h ? h - 'a' + 10 : -1;
            if (digit < 0 || digit >= radix) return null;
            value = value * radix + digit;
        }
        return value;
    }

    public void WriteTo(Utf8JsonWriter w)
    {
        switch (Kind)
        {
            case ParamKind.Bool: w.WriteBooleanValue(Text == "true"); break;
            case ParamKind.Null: w.WriteNullValue(); break;
            case ParamKind.Integer or ParamKind.Float or ParamKind.Json: w.WriteRawValue(Text); break;
            default: w.WriteStringValue(Text); break;
        }
    }

    /// <summary>
    /// The value as the fingerprint records it: its text, unless the text alone would be read as
    /// another kind (the string '50' or 'true' beside the number 50 or the bool true, a quoted
    /// '[1,2]' beside a list), which params.json tells apart; then the kind is named too. Values of
    /// the kind their text reads as keep the text alone, so their fingerprints stay as they were. A null
    /// is always tagged: it was the string "null" before, which params.json no longer says.
    /// The tag starts with a character no untagged text starts with (such text is tagged too).
    /// </summary>
    public string FingerprintText =>
        Kind == KindOf(Text) && Kind != ParamKind.Null && !Text.StartsWith(KindTag) ? Text : $"{KindTag}{Kind.ToString().ToLowerInvariant()}:{Text}";

    private const char KindTag = '\u0001';

    /// <summary>A recorded <see cref="FingerprintText"/> as a stale reason shows it: "50", or as YAML quotes it where the kind was named ("'50'"; only strings are).</summary>
    public static string ShowFingerprintText(string recorded) =>
        !recorded.StartsWith(KindTag) || recorded.IndexOf(':') is not (var colon and > 1) ? recorded
        : recorded[1..colon] == "string" ? $"'{recorded[(colon + 1)..]}'"
        : $"{recorded[(colon + 1)..]} ({recorded[1..colon]})";

    // The kind an unquoted value with this very text has (a list is written as "[...]"; mappings are flattened);
    // a null's texts as strings, as before nulls had a kind: a quoted '' or 'null' keeps its fingerprint.
    private static ParamKind KindOf(string text) =>
        text.StartsWith('[') && text.EndsWith(']') ? ParamKind.Json
        : FromScalar(text, quoted: false) is { Kind: not ParamKind.Null } v && v.Text == text ? v.Kind : ParamKind.String;

    public override string ToString() => Text;
}
