using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Models;

/// <summary>
/// model.ckpt: a small JSON document with the model kind, its hyper-parameters and weights.
/// JSON rather than binary so a curious user can diff two runs; the writer is deterministic,
/// so identical training gives identical bytes (what KdGat's content hashing relies on).
/// </summary>
internal static class Checkpoint
{
    public const string FileName = "model.ckpt";
    public const int Format = 1;

    public static void Write(string dir, string kind, Action<Utf8JsonWriter> body) =>
        JsonFile.Write(Path.Combine(dir, FileName), w =>
        {
            w.WriteStartObject();
            w.WriteString("kind", kind);
            w.WriteNumber("format", Format);
            body(w);
            w.WriteEndObject();
        });

    /// <summary>Loads DIR/model.ckpt and checks it holds a <paramref name="kind"/> model.</summary>
    public static T Read<T>(string dir, string kind, string option, Func<JsonRead, T> parse)
    {
        var path = Path.Combine(dir, FileName);
        using var doc = JsonFile.Read(path, $"upstream {kind} model", $"run the {kind} stage first, or point {option} at its run dir");
        var r = new JsonRead(doc.RootElement, path);
        var found = r.Str("kind");
        if (found != kind)
            throw new SampleError($"{option} holds a '{found}' model, expected '{kind}'", path, $"point {option} at a {kind} stage's run dir");
        if (r.Int("format") != Format)
            throw r.Bad($"checkpoint format {r.Int("format")} is not {Format}");
        try
        {
            return parse(r);
        }
        catch (Exception e) when (e is InvalidOperationException or IndexOutOfRangeException)
        {
            throw r.Bad("the checkpoint is malformed");
        }
    }
}
