using System.Text.Json;
using KdGat.Sample.Common;
using KdGat.Sample.Graphs;

namespace KdGat.Sample.Models;

/// <summary>
/// Stand-in for KD-GAT's GAT classifier: one tanh hidden layer over the graph features plus the
/// VGAE's anomaly score, one logit out. Small enough to train in milliseconds, real enough that
/// learning rate, width, seed, teacher and upstream VGAE all change what it learns.
/// </summary>
internal sealed class Classifier
{
    public const string Kind = "gat";

    public int Inputs { get; }
    public int Hidden { get; }
    public double[] P { get; }
    public Normalizer Norm { get; }

    private int W1 => 0;
    private int B1 => W1 + Hidden * Inputs;
    private int W2 => B1 + Hidden;
    private int B2 => W2 + Hidden;
    private int Size => B2 + 1;

    public Classifier(int inputs, int hidden, Normalizer norm, double[]? p = null)
    {
        (Inputs, Hidden, Norm) = (inputs, hidden, norm);
        P = p ?? new double[Size];
        if (P.Length != Size) throw new InvalidOperationException("parameter count does not match the layer sizes");
    }

    public void Initialize(SplitMix64 rng)
    {
        Numerics.Xavier(P.AsSpan(W1, Hidden * Inputs), Inputs, Hidden, rng);
        Numerics.Xavier(P.AsSpan(W2, Hidden), Hidden, 1, rng);
    }

    /// <summary>Model input: raw graph features then the VGAE score, as one row for the normalizer.</summary>
    public static double[] Row(CachedGraph g, Autoencoder vgae)
    {
        var f = GraphFeatures.Of(g);
        return [.. f, vgae.Score(f)];
    }

    public double Logit(double[] rawRow) => Forward(Norm.Apply(rawRow)).Logit;

    public double Probability(double[] rawRow) => Numerics.Sigmoid(Logit(rawRow));

    private (double[] A1, double Logit) Forward(double[] x)
    {
        var a1 = new double[Hidden];
        var logit = P[B2];
        for (var i = 0; i < Hidden; i++)
        {
            var s = P[B1 + i];
            for (var j = 0; j < Inputs; j++) s += P[W1 + i * Inputs + j] * x[j];
            a1[i] = Math.Tanh(s);
            logit += P[W2 + i] * a1[i];
        }
        return (a1, logit);
    }

    /// <summary>
    /// Distillation loss as in Hinton et al.: (1-alpha) BCE against the label plus alpha T^2 BCE of
    /// the temperature-softened prediction against the teacher's softened prediction. With alpha 0
    /// it is plain BCE. Adds the gradient into <paramref name="grad"/>.
    /// </summary>
    public double Backprop(double[] normalizedRow, double label, double? teacherLogit, double alpha, double temperature, double[] grad)
    {
        var (a1, logit) = Forward(normalizedRow);
        var p = Numerics.Sigmoid(logit);
        var loss = (1 - alpha) * Numerics.Bce(p, label);
        var dLogit = (1 - alpha) * (p - label);
        if (teacherLogit is { } t && alpha > 0)
        {
            var soft = Numerics.Sigmoid(logit / temperature);
            var target = Numerics.Sigmoid(t / temperature);
            loss += alpha * temperature * temperature * Numerics.Bce(soft, target);
            dLogit += alpha * temperature * (soft - target);
        }
        grad[B2] += dLogit;
        for (var i = 0; i < Hidden; i++)
        {
            grad[W2 + i] += dLogit * a1[i];
            var dpre = dLogit * P[W2 + i] * (1 - a1[i] * a1[i]);
            grad[B1 + i] += dpre;
            for (var j = 0; j < Inputs; j++) grad[W1 + i * Inputs + j] += dpre * normalizedRow[j];
        }
        return loss;
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteNumber("inputs", Inputs);
        w.WriteNumber("hidden", Hidden);
        Norm.Write(w);
        w.WriteArray("weights", P);
    }

    public static Classifier Read(JsonRead r)
    {
        var inputs = r.Int("inputs");
        if (inputs != GraphFeatures.Count + 1) throw r.Bad($"model expects {inputs} inputs, this sample computes {GraphFeatures.Count + 1}");
        var hidden = r.Int("hidden");
        var weights = r.Nums("weights");
        var expected = hidden * inputs + 2 * hidden + 1;
        if (hidden < 1 || weights.Length != expected) throw r.Bad($"has {weights.Length} weights, expected {expected} for its layer sizes");
        return new Classifier(inputs, hidden, Normalizer.Read(r, inputs), weights);
    }
}
