using KdGat.Sample.Common;

namespace KdGat.Sample.Data;

/// <summary>
/// Synthetic CAN traffic in the spirit of the car-hacking datasets: periodic ECU messages plus a
/// few attack episodes of the three classic kinds. Everything derives from a seed, and the seed
/// from a stable hash of the dataset name, so a dataset name always means the same frames.
/// </summary>
internal static class TrafficGenerator
{
    private enum AttackKind { Dos, Fuzzy, Spoofing }

    private sealed record Ecu(uint Id, long PeriodUs, long PhaseUs, byte[] Base, bool Counter);

    /// <summary>Roughly this many normal frames; attack episodes add a few thousand on top.</summary>
    private const int NormalFrames = 6000;

    public static ulong SeedFor(string dataset) => StableHash.Of("kdgat-sample/" + dataset);

    public static List<Frame> Generate(string dataset)
    {
        var rng = new SplitMix64(SeedFor(dataset));
        var ecus = MakeEcus(rng);
        var framesPerSecond = ecus.Sum(e => 1_000_000.0 / e.PeriodUs);
        var durationUs = (long)(NormalFrames / framesPerSecond * 1_000_000);

        var frames = new List<Frame>(NormalFrames * 2);
        foreach (var ecu in ecus) AddNormal(frames, ecu, durationUs, rng);
        AddAttacks(frames, ecus, durationUs, rng);
        // Stable sort; ties (same microsecond) keep generation order, which is itself deterministic.
        return frames.OrderBy(f => f.TimeUs).ThenBy(f => f.Id).ToList();
    }

    private static List<Ecu> MakeEcus(SplitMix64 rng)
    {
        long[] periodsMs = [10, 20, 20, 50, 50, 100];
        var count = rng.Next(14, 21);
        var ids = new SortedSet<uint>();
        while (ids.Count < count) ids.Add((uint)rng.Next(0x080, 0x700));
        return ids.Select(id =>
        {
            var period = periodsMs[rng.Next(0, periodsMs.Length)] * 1000;
            var data = new byte[8];
            for (var i = 0; i < data.Length; i++) data[i] = (byte)rng.Next(0, 256);
            return new Ecu(id, period, rng.Next(0, (int)period), data, rng.NextDouble() < 0.5);
        }).ToList();
    }

    private static void AddNormal(List<Frame> frames, Ecu ecu, long durationUs, SplitMix64 rng)
    {
        var seq = 0;
        for (var t = ecu.PhaseUs; t < durationUs; t += ecu.PeriodUs, seq++)
        {
            var data = (byte[])ecu.Base.Clone();
            if (ecu.Counter) data[0] = (byte)seq;
            // A slowly varying "sensor" signal in bytes 2-3, plus a little noise in byte 4.
            var signal = (int)(2000 + 1500 * Math.Sin(seq / 40.0));
            data[2] = (byte)(signal >> 8);
            data[3] = (byte)signal;
            data[4] = (byte)(ecu.Base[4] + rng.Next(0, 4));
            frames.Add(new Frame(t + rng.Next(0, 200), ecu.Id, data, false));
        }
    }

    private static void AddAttacks(List<Frame> frames, List<Ecu> ecus, long durationUs, SplitMix64 rng)
    {
        var episodes = rng.Next(5, 9);
        var kind = (AttackKind)rng.Next(0, 3);
        for (var e = 0; e < episodes; e++, kind = (AttackKind)(((int)kind + 1) % 3))
        {
            var length = (long)rng.Uniform(50_000, 300_000);
            var start = (long)rng.Uniform(300_000, durationUs - length - 300_000);
            var target = ecus[rng.Next(0, ecus.Count)];
            var spoofed = new byte[8];
            for (var i = 0; i < 8; i++) spoofed[i] = (byte)rng.Next(0, 256);
            // Rates are modest on purpose: short, thin episodes leave windows that are hard to call.
            var interval = kind switch { AttackKind.Dos => 2_500L, AttackKind.Fuzzy => 4_000L, _ => 8_000L };
            for (var t = start; t < start + length; t += interval)
            {
                frames.Add(kind switch
                {
                    // DoS: the highest-priority ID, all zeros, flooding the bus.
                    AttackKind.Dos => new Frame(t, 0x000, new byte[8], true),
                    // Fuzzy: random IDs and payloads.
                    AttackKind.Fuzzy => new Frame(t, (uint)rng.Next(0, 0x800), RandomBytes(rng), true),
                    // Spoofing: a real ECU's ID with a fixed, forged payload.
                    _ => new Frame(t, target.Id, spoofed, true),
                });
            }
        }
    }

    private static byte[] RandomBytes(SplitMix64 rng)
    {
        var b = new byte[8];
        for (var i = 0; i < b.Length; i++) b[i] = (byte)rng.Next(0, 256);
        return b;
    }
}
