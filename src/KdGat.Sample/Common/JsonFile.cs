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
            throw new SampleError($"malformed JSON in {whatIsIt}", path, "fix or regenerate the file", line);
        }
    }

    public static void Write(string path, Action<Utf8JsonWriter> write, bool indented = true)
    {
        try
        {
            AtomicWrite.File(path, stream =>
            {
                using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
                write(w);
                w.Flush();
                stream.WriteByte((byte)'\n');
            });
        }
        catch (NonFiniteNumber e)
        {
            throw new SampleError($"'{e.Name}' came out as {e.Value}, which JSON cannot hold, so the file was not written", path,
                "the input data is degenerate (e.g. one class only or constant features); check the raw data and params");
        }
    }

    /// <summary>
    /// Every double goes through these, never through Utf8JsonWriter.WriteNumber directly: that
    /// throws a bare ArgumentException on NaN or Infinity, deep inside a stage, after the training.
    /// </summary>
    public static void WriteFinite(this Utf8JsonWriter w, string name, double value)
    {
        if (!double.IsFinite(value)) throw new NonFiniteNumber(name, value);
        w.WriteNumber(name, value);
    }

    /// <summary>An array item; <paramref name="name"/> is only for the error message.</summary>
    public static void WriteFiniteValue(this Utf8JsonWriter w, double value, string name)
    {
        if (!double.IsFinite(value)) throw new NonFiniteNumber(name, value);
        w.WriteNumberValue(value);
    }

    public static void WriteArray(this Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteFiniteValue(v, name);
        w.WriteEndArray();
    }

    private sealed class NonFiniteNumber(string name, double value) : Exception($"{name} = {value}")
    {
        public string Name { get; } = name;
        public double Value { get; } = value;
    }
}
