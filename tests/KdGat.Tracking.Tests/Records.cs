using KdGat.Core.Tracking;

namespace KdGat.Tracking.Tests;

internal static class Records
{
    private static long _clock = DateTimeOffset.Parse("2025-01-01T00:00:00Z").ToUnixTimeMilliseconds();

    public static RunRecord Make(string id, string dataset = "hcrl_sa", string stage = "gat_large_curriculum", string state = "ran",
        IDictionary<string, string>? p = null, IDictionary<string, double>? metrics = null, DateTimeOffset? finished = null)
    {
        var end = finished ?? DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Add(ref _clock, 1000));
        return new RunRecord
        {
            RecordId = id,
            BuildId = "b-" + id,
            Dataset = dataset,
            Stage = stage,
            Fingerprint = "fp-" + id,
            Params = new SortedDictionary<string, string>(p ?? new Dictionary<string, string> { ["lr"] = "0.001" }, StringComparer.Ordinal),
            Executor = "local",
            Attempt = 1,
            State = state,
            ExecState = state == "ran" ? "Completed" : "Failed",
            ExitCode = state == "ran" ? 0 : 1,
            StartedUtc = end.AddSeconds(-2),
            FinishedUtc = end,
            WallSeconds = 2,
            CpuSeconds = 1.5,
            PeakRssKb = 204800,
            Host = "node1",
            Why = ["never run (no manifest)"],
            Metrics = metrics is null ? null : new SortedDictionary<string, double>(metrics, StringComparer.Ordinal),
            Log = $"experimentruns/{dataset}/{stage}/logs/x.err",
        };
    }
}
