namespace KdGat.Sample.Common;

/// <summary>
/// A tiny PRNG with a fixed, documented algorithm. System.Random's seeded sequence is an
/// implementation detail of the runtime; outputs here must stay byte-identical across upgrades.
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max). Modulo bias is irrelevant at these range sizes.</summary>
    public int Next(int min, int max) => min + (int)(NextUInt64() % (ulong)(max - min));

    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Fisher-Yates, in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Next(0, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
