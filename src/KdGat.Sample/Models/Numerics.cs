using KdGat.Sample.Common;

namespace KdGat.Sample.Models;

internal static class Numerics
{
    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>Xavier-uniform fill of a fanIn x fanOut block, from the model's seed.</summary>
    public static void Xavier(Span<double> block, int fanIn, int fanOut, SplitMix64 rng)
    {
        var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        for (var i = 0; i < block.Length; i++) block[i] = rng.Uniform(-limit, limit);
    }

    /// <summary>Binary cross-entropy of probability p against target t (which may be soft).</summary>
    public static double Bce(double p, double t)
    {
        p = Math.Clamp(p, 1e-12, 1 - 1e-12);
        return -(t * Math.Log(p) + (1 - t) * Math.Log(1 - p));
    }
}
