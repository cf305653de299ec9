using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Stages;

/// <summary>
/// train_log.json: one entry per epoch (or episode). Only values derived from the inputs go in:
/// no timestamps, durations or host names, so reruns give identical bytes.
/// </summary>
/// <param name="curvesDir">Where curves.jsonl goes (the output directory): each epoch is also appended there as it ends.</param>
internal sealed class TrainLog(string stage, bool distilled, string curvesDir)
{
    public const string FileName = "train_log.json";
    private readonly List<(int Epoch, double Loss, (string Name, double Value)[] Extra)> _entries = [];
    private CurvesFile? _curves = new(curvesDir);

    public void Add(int epoch, double loss, params (string Name, double Value)[] extra)
    {
        _entries.Add((epoch, loss, extra));
        _curves?.Add(epoch, loss, extra);
    }

    public double LastLoss => _entries.Count == 0 ? double.NaN : _entries[^1].Loss;

    public void Write(string dir)
    {
        _curves?.Dispose();
        _curves = null;
        JsonFile.Write(Path.Combine(dir, FileName), w =>
        {
            w.WriteStartObject();
            w.WriteString("stage", stage);
            w.WriteBoolean("distilled", distilled);
            w.WriteStartArray("epochs");
            foreach (var (epoch, loss, extra) in _entries)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", epoch);
                w.WriteFinite("loss", loss);
                foreach (var (name, value) in extra) w.WriteFinite(name, value);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}
