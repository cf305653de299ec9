using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using KdGat.Core.Hashing;

namespace KdGat.Core.Planning;

/// <summary>
/// Everything that decides whether a stage must run, kept per component so Explain can say
/// which one changed. Paths are root-relative; env values are stored as hashes only. The
/// manifest stores them as they were; <see cref="Planner"/> compares them with the current ones.
/// </summary>
internal sealed record FingerprintComponents
{
    public required string Command { get; init; }
    public required SortedDictionary<string, string> Params { get; init; }
    public required SortedDictionary<string, string> Inputs { get; init; }
    public required SortedDictionary<string, string> Code { get; init; }
    public required SortedDictionary<string, string> Upstream { get; init; }
    public required SortedDictionary<string, string> Env { get; init; }

    /// <summary>The canonical JSON the digest is taken of (the same form the manifest stores).</summary>
    public string Canonical()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        WriteCanonical(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The fingerprint: one hash of every component.</summary>
    public string Digest()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        buffer.Write(DigestPrefix);
        WriteCanonical(buffer);
        return ContentHash.OfBytes(buffer.WrittenSpan);
    }

    private static readonly byte[] DigestPrefix = "kdgat-fingerprint-v1\n"u8.ToArray();

    // The serializer's writer settings for the manifest (ManifestJson.Readable: indented, relaxed
    // escaping), so these bytes are the ones JsonSerializer wrote before (every stored fingerprint
    // stays valid; FingerprintComponentsTests compares them). Written by hand because the digest
    // is taken twice per instance per build: the serializer's generic path was ~15 % of a no-op's plan.
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonEncodedText CommandName = JsonEncodedText.Encode("command", JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
    private static readonly (JsonEncodedText Name, Func<FingerprintComponents, SortedDictionary<string, string>> Map)[] Maps =
    [
        (JsonEncodedText.Encode("params", JavaScriptEncoder.UnsafeRelaxedJsonEscaping), c => c.Params),
        (JsonEncodedText.Encode("inputs", JavaScriptEncoder.UnsafeRelaxedJsonEscaping), c => c.Inputs),
        (JsonEncodedText.Encode("code", JavaScriptEncoder.UnsafeRelaxedJsonEscaping), c => c.Code),
        (JsonEncodedText.Encode("upstream", JavaScriptEncoder.UnsafeRelaxedJsonEscaping), c => c.Upstream),
        (JsonEncodedText.Encode("env", JavaScriptEncoder.UnsafeRelaxedJsonEscaping), c => c.Env),
    ];

    private void WriteCanonical(IBufferWriter<byte> output)
    {
        using var w = new Utf8JsonWriter(output, WriterOptions);
        w.WriteStartObject();
        w.WriteString(CommandName, Command);
        foreach (var (name, map) in Maps)
        {
            w.WriteStartObject(name);
            foreach (var (k, v) in map(this)) w.WriteString(k, v);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
