using System.Text;
using System.Text.Json;

namespace KdGat.Sample.Common;

/// <summary>
/// curves.jsonl in the output directory: one JSON object per epoch ({"epoch":3,"loss":0.41,...}),
/// appended and flushed as training goes, so KdGat's live report can draw the curves of a stage
/// that is still running. Truncated when training starts: it only ever describes this run.
/// Non-finite values are left out of their line (JSON has no NaN).
/// </summary>
internal sealed class CurvesFile : IDisposable
{
    public const string FileName = "curves.jsonl";
    private readonly FileStream _file;

    public CurvesFile(string dir) =>
        _file = new FileStream(Path.Combine(dir, FileName), FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete);

    public void Add(int epoch, double loss, IEnumerable<(string Name, double Value)> extra)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", epoch);
            foreach (var (name, value) in extra.Prepend(("loss", loss)))
                if (double.IsFinite(value)) w.WriteNumber(name, value);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        _file.Write(buffer.GetBuffer(), 0, (int)buffer.Length); // one write per line: a reader sees whole lines or a partial last one
        _file.Flush();
    }

    public void Dispose() => _file.Dispose();
}
