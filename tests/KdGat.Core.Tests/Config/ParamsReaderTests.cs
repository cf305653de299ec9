using System.Text;
using System.Text.Json;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Tests.Config;

[Trait("Category", "Unit")]
public sealed class ParamsReaderTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private SortedDictionary<string, ParamValue> Flatten(string yaml)
    {
        var file = _dir.Write("p.yaml", yaml);
        var reader = new YamlReader(file);
        var root = YamlReader.LoadRoot(file)!;
        var into = new SortedDictionary<string, ParamValue>(StringComparer.Ordinal);
        ParamsReader.Flatten(reader, reader.Mapping(root, "parameters"), "", into);
        return into;
    }

    [Fact]
    public void Flatten_NestedMaps_BecomeDottedKeys()
    {
        var p = Flatten("""
            model:
              hidden: 32
              attention:
                heads: 4
            lr: 0.001
            """);

        Assert.Equal(["lr", "model.attention.heads", "model.hidden"], p.Keys);
        Assert.Equal("4", p["model.attention.heads"].Text);
        Assert.Equal(ParamKind.Integer, p["model.hidden"].Kind);
        Assert.Equal(ParamKind.Float, p["lr"].Kind);
    }

    /// <summary>
    /// yes/no/on/off are booleans to PyYAML (YAML 1.1) and text to KdGat (YAML 1.2): params.json had "no",
    /// which Python takes as true (a user review: `augment: no` trained with augmentation). Refused, at the value.
    /// </summary>
    [Theory]
    [InlineData("augment: no\n", "parameter 'augment': 'no'", "Write false")]
    [InlineData("train:\n  shuffle: ON\n", "parameter 'train.shuffle': 'ON'", "Write true")]
    [InlineData("flags: [1, off]\n", "parameter 'flags': 'off'", "Write false")]
    public void Flatten_APlainYamlOneOneBoolean_IsKdg1043AtTheValue(string yaml, string named, string fix)
    {
        var e = Assert.Throws<KdgException>(() => Flatten(yaml));

        Assert.Equal(ErrorCodes.AmbiguousBoolean, e.Code);
        Assert.Contains(named, e.Message);
        Assert.Contains(fix, e.Message);
        Assert.EndsWith("p.yaml", e.File);
        Assert.Equal(yaml.Split('\n').Length - 1, e.Line);
    }

    /// <summary>Quoted, they are the text they say; y and n are text to PyYAML too; TRUE is YAML 1.2's boolean as well.</summary>
    [Fact]
    public void Flatten_QuotedYesNo_YAndN_AndUpperCaseTrue_ReadAsBothYamlsAgree()
    {
        var p = Flatten("a: 'no'\nb: \"on\"\nc: y\nd: n\ne: TRUE\nf: !!str off\n");

        Assert.Equal([("no", ParamKind.String), ("on", ParamKind.String), ("y", ParamKind.String), ("n", ParamKind.String), ("true", ParamKind.Bool), ("off", ParamKind.String)],
            p.Values.Select(v => (v.Text, v.Kind)));
    }

    [Fact]
    public void Flatten_Lists_BecomeJsonArrays()
    {
        var p = Flatten("sizes: [1, 2.5, abc, 'x\"y', true]\n");

        Assert.Equal(ParamKind.Json, p["sizes"].Kind);
        using var doc = JsonDocument.Parse(p["sizes"].Text);
        var items = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(5, items.Length);
        Assert.Equal(1, items[0].GetInt32());
        Assert.Equal(2.5, items[1].GetDouble());
        Assert.Equal("abc", items[2].GetString());
        Assert.Equal("x\"y", items[3].GetString());
        Assert.Equal(JsonValueKind.True, items[4].ValueKind);
    }

    [Theory]
    [InlineData("v: 42", "42", ParamKind.Integer)]
    [InlineData("v: -7", "-7", ParamKind.Integer)]
    // Beyond 64 bits: exact, not the double 1.2345678901234569E+23 (the stage got another seed).
    [InlineData("v: 123456789012345678901234", "123456789012345678901234", ParamKind.Integer)]
    [InlineData("v: -98765432109876543210", "-98765432109876543210", ParamKind.Integer)]
    [InlineData("v: 1e-3", "0.001", ParamKind.Float)]
    [InlineData("v: True", "true", ParamKind.Bool)]
    [InlineData("v: false", "false", ParamKind.Bool)]
    [InlineData("v: '42'", "42", ParamKind.String)]
    [InlineData("v: \"true\"", "true", ParamKind.String)]
    [InlineData("v: adam", "adam", ParamKind.String)]
    // YAML's null is JSON's null (params.json said "null"), and a block scalar is text ("5\n" was the number 5).
    [InlineData("v: null", "null", ParamKind.Null)]
    [InlineData("v: ~", "~", ParamKind.Null)]
    [InlineData("v:", "", ParamKind.Null)]
    [InlineData("v: 'null'", "null", ParamKind.String)]
    [InlineData("v: |\n  5\n", "5\n", ParamKind.String)]
    public void Flatten_Scalars_KeepTextAndKind(string yaml, string text, ParamKind kind)
    {
        var v = Flatten(yaml)["v"];

        Assert.Equal(new ParamValue(text, kind), v);
    }

    [Fact]
    public void WriteTo_EmitsTypedJson()
    {
        var p = Flatten("i: 3\nf: 0.5\nb: true\ns: '3'\nl: [1, x, null, ~]\nn:\n");
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            foreach (var (k, v) in p) { w.WritePropertyName(k); v.WriteTo(w); }
            w.WriteEndObject();
        }

        Assert.Equal("{\"b\":true,\"f\":0.5,\"i\":3,\"l\":[1,\"x\",null,null],\"n\":null,\"s\":\"3\"}", Encoding.UTF8.GetString(ms.ToArray()));
    }

    [Theory]
    [InlineData("0.001", "1e-3")]
    [InlineData("0.001", "1.0e-3")]
    [InlineData("0.001", "0.0010")]
    [InlineData("1", "1.0")]
    [InlineData("1", "+1")]
    [InlineData("1000", "1e3")]
    [InlineData("7", "007")]
    [InlineData("123456789012345678901234", "+000123456789012345678901234")]
    [InlineData("-0.5", "-5e-1")]
    public void Flatten_NumbersEqualByValue_HaveOneCanonicalText(string a, string b)
    {
        var x = Flatten($"v: {a}\n")["v"];
        var y = Flatten($"v: {b}\n")["v"];

        Assert.Equal(x, y);
        Assert.Equal(a, y.Text);
    }

    [Theory]
    [InlineData(".nan")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1_000")]
    [InlineData("0xG1")]
    [InlineData("0o18")]
    [InlineData("-0x1F")]
    [InlineData("0x")]
    public void Flatten_NonFiniteOrNonDecimal_StaysText(string text) =>
        Assert.Equal(new ParamValue(text, ParamKind.String), Flatten($"v: {text}\n")["v"]);

    /// <summary>YAML 1.2's hexadecimal and octal integers (PyYAML reads 0x1F as 31 too): the text "0x1F" in params.json reached the stage as a string (a review).</summary>
    [Theory]
    [InlineData("0x1F", "31")]
    [InlineData("0xff", "255")]
    [InlineData("0o17", "15")]
    [InlineData("0x10000000000000000", "18446744073709551616")]
    public void Flatten_HexadecimalAndOctal_AreIntegers(string text, string value) =>
        Assert.Equal(new ParamValue(value, ParamKind.Integer), Flatten($"v: {text}\n")["v"]);

    /// <summary>`a.b: 1` and `a: {b: 2}` are both the parameter a.b: params.json kept 2 and dropped 1 without a word (found by review).</summary>
    [Theory]
    [InlineData("a.b: 1\na:\n  b: 2\n", 3, 3, 1, 1)]
    [InlineData("a:\n  b: 2\na.b: 1\n", 3, 1, 2, 3)]
    [InlineData("x:\n  a.b: [1]\nx.a:\n  b: 2\n", 4, 3, 2, 3)]
    public void Flatten_ADottedKeyAndANestedMappingNamingOneParameter_IsKdg1009AtBothPositions(string yaml, int line, int column, int firstLine, int firstColumn)
    {
        var e = Assert.Throws<KdgException>(() => Flatten(yaml));

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Equal(_dir["p.yaml"], e.File);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"p.yaml({firstLine},{firstColumn})", e.Message);
        Assert.Contains($"p.yaml({line},{column})", e.Message);
        Assert.Contains("written twice", e.Message);
    }

    [Fact]
    public void Flatten_ADottedKeyBesideAnotherNestedName_IsNoCollision()
    {
        var p = Flatten("a.b: 1\na:\n  c: 2\n");
        Assert.Equal(["a.b", "a.c"], p.Keys);
    }
}
