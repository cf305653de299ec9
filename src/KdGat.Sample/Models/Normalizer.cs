using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Models;

/// <summary>Per-feature standardization, fitted on training rows and saved with the model that uses it.</summary>
internal sealed class Normalizer(double[] mean, double[] std)
{
    public double[] Mean { get; } = mean;
    public double[] Std { get; } = std;

    public static Normalizer Fit(IReadOnlyList<double[]> rows)
    {
        var d = rows[0].Length;
        var mean = new double[d];
        var std = new double[d];
        foreach (var r in rows) for (var j = 0; j < d; j++) mean[j] += r[j] / rows.Count;
        foreach (var r in rows) for (var j = 0; j < d; j++) std[j] += (r[j] - mean[j]) * (r[j] - mean[j]) / rows.Count;
        // A floor, so a feature that never varies in training cannot blow up at test time.
        for (var j = 0; j < d; j++) std[j] = Math.Max(Math.Sqrt(std[j]), 1e-3);
        return new Normalizer(mean, std);
    }

    public double[] Apply(double[] x)
    {
        var y = new double[x.Length];
        for (var j = 0; j < x.Length; j++) y[j] = (x[j] - Mean[j]) / Std[j];
        return y;
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("normalizer");
        w.WriteArray("mean", Mean);
        w.WriteArray("std", Std);
        w.WriteEndObject();
    }

    public static Normalizer Read(JsonRead r, int expectedLength)
    {
        var n = r.Obj("normalizer");
        var (mean, std) = (n.Nums("mean"), n.Nums("std"));
        if (mean.Length != expectedLength || std.Length != expectedLength)
            throw r.Bad($"normalizer has {mean.Length} features, expected {expectedLength}");
        // Fit floors std at 1e-3; a zero here would divide by zero in Apply.
        if (std.Any(s => s < 1e-3)) throw r.Bad("normalizer has a standard deviation below 1e-3");
        return new Normalizer(mean, std);
    }
}
