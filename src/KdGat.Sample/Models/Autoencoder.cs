using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Models;

/// <summary>
/// Stand-in for KD-GAT's VGAE: a small autoencoder over graph features (input -> tanh hidden ->
/// latent -> input), trained on normal graphs only. Its reconstruction error is the anomaly
/// score. A light L2 pull on the latent code stands in for the VGAE's KL term. Weights live in
/// one flat vector so one Adam and one checkpoint array cover them.
/// </summary>
internal sealed class Autoencoder
{
    public const string Kind = "vgae";
    private const double LatentPenalty = 1e-3;

    public int Inputs { get; }
    public int Hidden { get; }
    public int Latent { get; }
    public double[] P { get; }
    public Normalizer Norm { get; }
    /// <summary>Reconstruction error mapped to (0,1): sigmoid((error - Threshold) / Scale).</summary>
    public double Threshold { get; set; }
    public double Scale { get; set; } = 1;

    // Offsets of each block in P.
    private int W1 => 0;
    private int B1 => W1 + Hidden * Inputs;
    private int W2 => B1 + Hidden;
    private int B2 => W2 + Latent * Hidden;
    private int W3 => B2 + Latent;
    private int B3 => W3 + Inputs * Latent;
    private int Size => B3 + Inputs;

    public Autoencoder(int inputs, int hidden, int latent, Normalizer norm, double[]? p = null)
    {
        (Inputs, Hidden, Latent, Norm) = (inputs, hidden, latent, norm);
        P = p ?? new double[Size];
        if (P.Length != Size) throw new InvalidOperationException("parameter count does not match the layer sizes");
    }

    public void Initialize(SplitMix64 rng)
    {
        Numerics.Xavier(P.AsSpan(W1, Hidden * Inputs), Inputs, Hidden, rng);
        Numerics.Xavier(P.AsSpan(W2, Latent * Hidden), Hidden, Latent, rng);
        Numerics.Xavier(P.AsSpan(W3, Inputs * Latent), Latent, Inputs, rng);
    }

    private sealed record Pass(double[] A1, double[] Z, double[] Y);

    // Forward and Backprop run once per graph and epoch: sizes and offsets are read into locals
    // once (the JIT cannot keep property reads out of the loops), the arithmetic is unchanged.
    private Pass Forward(double[] x)
    {
        var (p, inputs, hidden, latent) = (P, Inputs, Hidden, Latent);
        var (w1, b1, w2, b2, w3, b3) = (W1, B1, W2, B2, W3, B3);
        var a1 = new double[hidden];
        for (var i = 0; i < hidden; i++)
        {
            var s = p[b1 + i];
            var row = w1 + i * inputs;
            for (var j = 0; j < inputs; j++) s += p[row + j] * x[j];
            a1[i] = Math.Tanh(s);
        }
        var z = new double[latent];
        for (var i = 0; i < latent; i++)
        {
            var s = p[b2 + i];
            var row = w2 + i * hidden;
            for (var j = 0; j < hidden; j++) s += p[row + j] * a1[j];
            z[i] = s;
        }
        var y = new double[inputs];
        for (var i = 0; i < inputs; i++)
        {
            var s = p[b3 + i];
            var row = w3 + i * latent;
            for (var j = 0; j < latent; j++) s += p[row + j] * z[j];
            y[i] = s;
        }
        return new Pass(a1, z, y);
    }

    /// <summary>Reconstruction of an already-normalized input.</summary>
    public double[] Reconstruct(double[] x) => Forward(x).Y;

    /// <summary>Mean squared reconstruction error of raw features.</summary>
    public double Error(double[] rawFeatures)
    {
        var x = Norm.Apply(rawFeatures);
        var y = Reconstruct(x);
        var e = 0.0;
        for (var i = 0; i < Inputs; i++) e += (y[i] - x[i]) * (y[i] - x[i]);
        return e / Inputs;
    }

    public double Score(double[] rawFeatures) => Numerics.Sigmoid((Error(rawFeatures) - Threshold) / Scale);

    /// <summary>Loss of reconstructing <paramref name="target"/> from normalized <paramref name="x"/>; adds its gradient into <paramref name="grad"/>.</summary>
    public double Backprop(double[] x, double[] target, double[] grad)
    {
        var (a1, z, y) = Forward(x);
        var loss = 0.0;
        var dy = new double[Inputs];
        for (var i = 0; i < Inputs; i++)
        {
            var d = y[i] - target[i];
            loss += d * d / Inputs;
            dy[i] = 2 * d / Inputs;
        }
        var dz = new double[Latent];
        for (var k = 0; k < Latent; k++)
        {
            loss += LatentPenalty * z[k] * z[k] / Latent;
            dz[k] = 2 * LatentPenalty * z[k] / Latent;
        }
        var (p, hidden, latent) = (P, Hidden, Latent);
        var (w1, b1, w2, b2, w3, b3) = (W1, B1, W2, B2, W3, B3);
        for (var i = 0; i < Inputs; i++)
        {
            grad[b3 + i] += dy[i];
            var row = w3 + i * latent;
            for (var k = 0; k < latent; k++)
            {
                grad[row + k] += dy[i] * z[k];
                dz[k] += p[row + k] * dy[i];
            }
        }
        var da1 = new double[hidden];
        for (var k = 0; k < latent; k++)
        {
            grad[b2 + k] += dz[k];
            var row = w2 + k * hidden;
            for (var j = 0; j < hidden; j++)
            {
                grad[row + j] += dz[k] * a1[j];
                da1[j] += p[row + j] * dz[k];
            }
        }
        var inputs = Inputs;
        for (var j = 0; j < hidden; j++)
        {
            var dpre = da1[j] * (1 - a1[j] * a1[j]);
            grad[b1 + j] += dpre;
            var row = w1 + j * inputs;
            for (var i = 0; i < inputs; i++) grad[row + i] += dpre * x[i];
        }
        return loss;
    }

    public void Write(Utf8JsonWriter w)
    {
        w.WriteNumber("inputs", Inputs);
        w.WriteNumber("hidden", Hidden);
        w.WriteNumber("latent", Latent);
        w.WriteFinite("threshold", Threshold);
        w.WriteFinite("scale", Scale);
        Norm.Write(w);
        w.WriteArray("weights", P);
    }

    public static Autoencoder Read(JsonRead r)
    {
        var inputs = r.Int("inputs");
        if (inputs != Graphs.GraphFeatures.Count) throw r.Bad($"model expects {inputs} features, this sample computes {Graphs.GraphFeatures.Count}");
        var (hidden, latent) = (r.Int("hidden"), r.Int("latent"));
        var weights = r.Nums("weights");
        var expected = hidden * inputs + hidden + latent * hidden + latent + inputs * latent + inputs;
        if (hidden < 1 || latent < 1 || weights.Length != expected) throw r.Bad($"has {weights.Length} weights, expected {expected} for its layer sizes");
        return new Autoencoder(inputs, hidden, latent, Normalizer.Read(r, inputs), weights)
        {
            Threshold = r.Num("threshold"),
            Scale = r.Num("scale"),
        };
    }
}
