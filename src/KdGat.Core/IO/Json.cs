using System.Text.Encodings.Web;
using System.Text.Json;

namespace KdGat.Core.IO;

/// <summary>JSON written for people to read too: no \u0027-style escaping of quotes, '&lt;' or '&amp;'.</summary>
internal static class Json
{
    public static JsonSerializerOptions Readable(JsonSerializerOptions generated) =>
        new(generated) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
