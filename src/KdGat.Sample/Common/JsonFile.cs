using System.Text.Json;

namespace KdGat.Sample.Common;

/// <summary>
/// Reading and writing the sample's JSON files. Reads turn every failure into a SampleError that
/// names the file (and the line, for syntax errors). Writes are indented, property order is the
/// code's order, and doubles use the shortest round-trip form, so equal values give equal bytes.
/// </summary>
internal static class JsonFile
{
    public static JsonDocument Read(string path, string whatIsIt, string fixIfMissing)
    {
        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SampleError($"{whatIsIt} not found", path, fixIfMissing);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot read {whatIsIt} ({e.Message})", path, "check the file's permissions");
        }
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            throw new SampleError($"malformed JSON in {whatIsIt} at line {line}", path, "fix or regenerate the file");
        }
    }

    public static void Write(string path, Action<Utf8JsonWriter> write, bool indented = true) =>
        AtomicWrite.File(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
            write(w);
            w.Flush();
            stream.WriteByte((byte)'\n');
        });

    public static void WriteArray(this Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }
}
