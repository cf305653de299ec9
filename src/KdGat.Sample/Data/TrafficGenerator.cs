using KdGat.Sample.Common;

namespace KdGat.Sample.Data;

/// <summary>One generated capture file: its name in the dataset directory and its frames, in time order.</summary>
internal sealed record CaptureFile(string Name, List<Frame> Frames);

/// <summary>
/// Synthetic CAN traffic in the spirit of the car-hacking datasets: periodic ECU messages,
/// event-triggered messages and benign diagnostic bursts, plus attack episodes of the three
/// classic kinds. Everything derives from a seed, and the seed from a stable hash of the dataset
/// name, so a dataset name always means the same frames.
///
/// The data is meant to be hard enough that model size and distillation show in the metrics:
/// each dataset draws its own profile (bus size, attack mix, rates, how plausible the forged
/// frames are), fuzzing and spoofing are mostly low-rate, spoofed payloads look like the real
/// ECU's, diagnostic bursts look like fuzzing without being attacks, and a small share of
/// attack frames is mislabelled as normal, as in real captures.
///
/// Like a real capture, a dataset comes as several files (3-5): recordings of the same vehicle
/// (same ECUs and profile) of different lengths, each with its own clock starting near zero.
/// The dataset's frames, events, bursts and attack episodes are shared out among the files.
/// </summary>
internal static class TrafficGenerator
{
    private enum AttackKind { Dos, Fuzzy, Spoofing }

    private sealed record Ecu(uint Id, long PeriodUs, long PhaseUs, byte[] Base, bool Counter);

    /// <summary>What varies between datasets; drawn from the dataset's seed.</summary>
    private sealed record Profile(
        int NormalFrames, int Episodes, double[] KindWeights,
        double DosIntervalMs, double FuzzyIntervalMs, double SpoofRateFactor,
        double PlausibleFuzzShare, double MissedLabelShare, int EventEcus, int DiagnosticBursts, int Files);

    private const long MinFileUs = 2_000_000;

    public static ulong SeedFor(string dataset) => StableHash.Of("kdgat-sample/" + dataset);

    /// <summary>
    /// The dataset's files, one at a time (memory holds one file's frames). With
    /// <paramref name="normalFrames"/>, the dataset has about that many normal frames instead of
    /// the profile's 18,000-24,000, and events, diagnostic bursts and attack episodes grow in
    /// proportion (the attack share stays the profile's); without it the frames are unchanged.
    /// </summary>
    public static IEnumerable<CaptureFile> Generate(string dataset, int? normalFrames = null)
    {
        var rng = new SplitMix64(SeedFor(dataset));
        var profile = MakeProfile(rng);
        var scale = 1.0;
        if (normalFrames is { } n)
        {
            scale = (double)n / profile.NormalFrames;
            profile = profile with
            {
                NormalFrames = n,
                Episodes = Math.Max(1, (int)Math.Round(profile.Episodes * scale)),
                DiagnosticBursts = (int)Math.Round(profile.DiagnosticBursts * scale),
            };
        }
        var ecus = MakeEcus(rng);
        var eventIds = MakeEventIds(ecus, profile.EventEcus, rng);
        var framesPerSecond = ecus.Sum(e => 1_000_000.0 / e.PeriodUs);
        var totalUs = profile.NormalFrames / framesPerSecond * 1_000_000;

        // Recordings of different lengths; each gets its share of everything.
        var weights = Enumerable.Range(0, profile.Files).Select(_ => rng.Uniform(0.7, 1.3)).ToArray();
        var shares = weights.Select(w => w / weights.Sum()).ToArray();
        var bursts = Apportion(profile.DiagnosticBursts, shares);
        var episodes = Apportion(profile.Episodes, shares);
        for (var k = 0; k < profile.Files; k++)
        {
            // Long enough for an attack episode (up to 0.4 s, 0.3 s clear either side) on a fast bus.
            var durationUs = Math.Max(MinFileUs, (long)(totalUs * shares[k]));
            var frames = new List<Frame>((int)(profile.NormalFrames * shares[k] * 1.5));
            foreach (var ecu in ecus) AddNormal(frames, ecu, durationUs, rng);
            AddEvents(frames, eventIds, shares[k] * scale, durationUs, rng);
            AddDiagnostics(frames, bursts[k], durationUs, rng);
            AddAttacks(frames, ecus, profile, episodes[k], durationUs, rng);
            // Stable sort; ties (same microsecond) keep generation order, which is itself deterministic.
            yield return new CaptureFile(RawDataset.FileName(k), frames.OrderBy(f => f.TimeUs).ThenBy(f => f.Id).ToList());
        }
    }

    /// <summary>Splits <paramref name="total"/> by <paramref name="shares"/> into whole numbers that add up to it.</summary>
    private static int[] Apportion(int total, double[] shares)
    {
        var counts = shares.Select(s => (int)(total * s)).ToArray();
        for (var k = 0; counts.Sum() < total; k++) counts[k % counts.Length]++;
        return counts;
    }

    private static Profile MakeProfile(SplitMix64 rng)
    {
        // Each kind gets a weight in [0.3, 1.3): every dataset has all three, in its own mix.
        double[] weights = [0.3 + rng.NextDouble(), 0.3 + rng.NextDouble(), 0.3 + rng.NextDouble()];
        return new Profile(
            NormalFrames: rng.Next(18_000, 24_000),
            Episodes: rng.Next(28, 40),
            KindWeights: weights,
            DosIntervalMs: rng.Uniform(2, 10),
            FuzzyIntervalMs: rng.Uniform(10, 40),
            SpoofRateFactor: rng.Uniform(0.5, 1.0),
            PlausibleFuzzShare: rng.Uniform(0.3, 0.8),
            MissedLabelShare: rng.Uniform(0.0, 0.03),
            EventEcus: rng.Next(2, 5),
            DiagnosticBursts: rng.Next(6, 14),
            Files: rng.Next(3, 6));
    }

    private static List<Ecu> MakeEcus(SplitMix64 rng)
    {
        long[] periodsMs = [10, 20, 20, 50, 50, 100];
        var count = rng.Next(14, 24);
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

    /// <summary>The payload an ECU sends at sequence number <paramref name="seq"/>.</summary>
    private static byte[] Payload(Ecu ecu, int seq, SplitMix64 rng)
    {
        var data = (byte[])ecu.Base.Clone();
        if (ecu.Counter) data[0] = (byte)seq;
        // A slowly varying "sensor" signal in bytes 2-3, plus a little noise in byte 4.
        var signal = (int)(2000 + 1500 * Math.Sin(seq / 40.0 + ecu.Id));
        data[2] = (byte)(signal >> 8);
        data[3] = (byte)signal;
        data[4] = (byte)(ecu.Base[4] + rng.Next(0, 4));
        return data;
    }

    private static void AddNormal(List<Frame> frames, Ecu ecu, long durationUs, SplitMix64 rng)
    {
        var seq = 0;
        for (var t = ecu.PhaseUs; t < durationUs; t += ecu.PeriodUs, seq++)
        {
            // Arbitration and scheduling jitter; now and then a frame is lost (bus-off, a busy ECU).
            if (rng.NextDouble() < 0.01) continue;
            frames.Add(new Frame(t + rng.Next(0, 600), ecu.Id, Payload(ecu, seq, rng), false));
        }
    }

    private static List<uint> MakeEventIds(List<Ecu> ecus, int count, SplitMix64 rng)
    {
        var used = new HashSet<uint>(ecus.Select(e => e.Id));
        var ids = new List<uint>(count);
        while (ids.Count < count)
        {
            var id = (uint)rng.Next(0x080, 0x700);
            if (used.Add(id)) ids.Add(id);
        }
        return ids;
    }

    /// <summary>Event-triggered messages (doors, buttons): irregular IDs with changing payloads, and normal.</summary>
    private static void AddEvents(List<Frame> frames, List<uint> eventIds, double share, long durationUs, SplitMix64 rng)
    {
        foreach (var id in eventIds)
        {
            var events = (int)Math.Round(rng.Next(20, 60) * share);
            for (var k = 0; k < events; k++)
            {
                var t = (long)rng.Uniform(0, durationUs);
                // An event is announced a few times in quick succession.
                var repeats = rng.Next(1, 4);
                var data = RandomBytes(rng, rng.Next(2, 9));
                for (var r = 0; r < repeats; r++) frames.Add(new Frame(t + r * 5_000L, id, data, false));
            }
        }
    }

    /// <summary>A workshop tester's requests (0x7DF) and ECU responses (0x7E8+): new IDs and varied payloads, and normal.</summary>
    private static void AddDiagnostics(List<Frame> frames, int bursts, long durationUs, SplitMix64 rng)
    {
        for (var b = 0; b < bursts; b++)
        {
            var start = (long)rng.Uniform(0, durationUs - 500_000);
            var requests = rng.Next(3, 12);
            for (var q = 0; q < requests; q++)
            {
                var t = start + q * (long)rng.Uniform(15_000, 40_000);
                var pid = (byte)rng.Next(0, 256);
                frames.Add(new Frame(t, 0x7DF, [0x02, 0x01, pid, 0, 0, 0, 0, 0], false));
                var responder = (uint)(0x7E8 + rng.Next(0, 3));
                var reply = RandomBytes(rng, 8);
                reply[0] = 0x06; reply[1] = 0x41; reply[2] = pid;
                frames.Add(new Frame(t + rng.Next(1_000, 5_000), responder, reply, false));
            }
        }
    }

    private static void AddAttacks(List<Frame> frames, List<Ecu> ecus, Profile profile, int episodes, long durationUs, SplitMix64 rng)
    {
        var totalWeight = profile.KindWeights.Sum();
        for (var e = 0; e < episodes; e++)
        {
            var kind = PickKind(profile.KindWeights, totalWeight, rng);
            var length = (long)rng.Uniform(40_000, 400_000);
            var start = (long)rng.Uniform(300_000, durationUs - length - 300_000);
            var target = ecus[rng.Next(0, ecus.Count)];
            // Each episode's rate varies around the dataset's typical rate.
            var jitter = rng.Uniform(0.6, 1.6);
            var interval = kind switch
            {
                AttackKind.Dos => (long)(profile.DosIntervalMs * 1000 * jitter),
                AttackKind.Fuzzy => (long)(profile.FuzzyIntervalMs * 1000 * jitter),
                // Spoofing rides along with the target: as often as it, or a bit more.
                _ => (long)(target.PeriodUs * profile.SpoofRateFactor * jitter),
            };
            interval = Math.Max(interval, 500);
            var dosId = (uint)rng.Next(0, 0x010);
            var dosPayload = rng.NextDouble() < 0.5 ? new byte[8] : RandomBytes(rng, 8);
            // A spoofer forges one signal value and otherwise copies what the ECU sends.
            var forgedSignal = rng.Next(0, 0x10000);
            var seq = rng.Next(0, 1000);
            for (var t = start; t < start + length; t += interval, seq++)
            {
                var label = rng.NextDouble() >= profile.MissedLabelShare;
                frames.Add(kind switch
                {
                    // DoS: a high-priority ID flooding the bus.
                    AttackKind.Dos => new Frame(t, dosId, dosPayload, label),
                    // Fuzzy: random payloads, under a real ECU's ID or a random one.
                    AttackKind.Fuzzy => new Frame(t,
                        rng.NextDouble() < profile.PlausibleFuzzShare ? ecus[rng.Next(0, ecus.Count)].Id : (uint)rng.Next(0, 0x800),
                        RandomBytes(rng, 8), label),
                    // Spoofing: a real ECU's ID and a plausible payload with a forged signal.
                    _ => new Frame(t, target.Id, Forged(target, seq, forgedSignal, rng), label),
                });
            }
        }
    }

    private static AttackKind PickKind(double[] weights, double total, SplitMix64 rng)
    {
        var x = rng.NextDouble() * total;
        for (var k = 0; k < weights.Length - 1; k++)
        {
            if (x < weights[k]) return (AttackKind)k;
            x -= weights[k];
        }
        return (AttackKind)(weights.Length - 1);
    }

    private static byte[] Forged(Ecu target, int seq, int signal, SplitMix64 rng)
    {
        var data = Payload(target, seq, rng);
        data[2] = (byte)(signal >> 8);
        data[3] = (byte)signal;
        return data;
    }

    private static byte[] RandomBytes(SplitMix64 rng, int length)
    {
        var b = new byte[length];
        for (var i = 0; i < b.Length; i++) b[i] = (byte)rng.Next(0, 256);
        return b;
    }
}
