using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace KdGat.Core.IO;

/// <summary>JSON written for people to read too: no \u0027-style escaping of quotes, '&lt;' or '&amp;'.</summary>
internal static class Json
{
    public static JsonSerializerOptions Readable(JsonSerializerOptions generated) =>
        new(generated) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// <paramref name="value"/> as readable JSON, written by the source generator's own serialization
    /// code (<paramref name="generated"/> from a context with its generated options; the relaxed
    /// escaping is the writer's). A context with other options (<see cref="Readable"/>) takes the
    /// metadata path instead, whose first use JIT-compiles a converter per property type: ~20 ms of
    /// every build process that writes a report, a no-op's included. Same bytes either way.
    /// </summary>
    public static byte[] SerializeReadable<T>(T value, JsonTypeInfo<T> generated)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            JsonSerializer.Serialize(writer, value, generated);
        return buffer.WrittenSpan.ToArray();
    }
}
