using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using KdGat.Core.IO;

namespace KdGat.Core.Engine;

/// <summary>ran, up-to-date, failed, skipped, cancelled; cache hits are restored; Explain says would-run or would-restore.</summary>
internal static class Outcome
{
    public const string Ran = "ran";
    public const string UpToDate = "up-to-date";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string Cancelled = "cancelled";
    public const string WouldRun = "would-run";
    public const string Restored = "restored";
    public const string WouldRestore = "would-restore";
    /// <summary>SLURM with -p:Wait=false: submitted, not yet collected; a later build collects it.</summary>
    public const string Submitted = "submitted";
    /// <summary>-t:Adopt: the outputs found in place were recorded as this stage's result; nothing ran.</summary>
    public const string Adopted = "adopted";
}

/// <summary>One stage instance's row in a <see cref="BuildReport"/>.</summary>
public sealed record InstanceReport : InstanceEnd
{
    public InstanceReport() { }

    /// <summary>The row of an instance of that dataset and stage, from how it ended (see <see cref="InstanceResult.ToReport"/>).</summary>
    [SetsRequiredMembers]
    internal InstanceReport(InstanceEnd end, string dataset, string stage) : base(end)
    {
        Dataset = dataset;
        Stage = stage;
    }

    [JsonPropertyOrder(-1)] public required string Dataset { get; init; }
    [JsonPropertyOrder(-1)] public required string Stage { get; init; }
    /// <summary>A swept instance's grid point ("seed=1,lr=0.003"); null for an unswept one.</summary>
    [JsonPropertyOrder(-1)] public string? Variant { get; init; }
    public IReadOnlyList<string> Reasons { get; init; } = [];
    public IReadOnlyList<string> ReasonKinds { get; init; } = [];
    public string? JobId { get; init; }
}

/// <summary>
/// What one build (or Explain) decided per stage instance, for scripts and CI: one file per build
/// id under .kdgat/builds/, and .kdgat/last-build.json, a copy of the one that finished last.
/// </summary>
public sealed record BuildReport
{
    public required string BuildId { get; init; }
    public required string Mode { get; init; }
    public required string Executor { get; init; }
    public DateTimeOffset StartedUtc { get; init; }
    public DateTimeOffset FinishedUtc { get; init; }
    public required IReadOnlyList<string> Datasets { get; init; }
    public required IReadOnlyList<InstanceReport> Stages { get; init; }
    public bool Succeeded { get; init; }
    /// <summary>True when a no-op certificate answered (nothing it observed had changed); absent when the full check ran.</summary>
    public bool? NoOpCertificate { get; init; }
    public SortedDictionary<string, int> Counts => new(Stages.GroupBy(s => s.Outcome).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);

    /// <summary>How many reports .kdgat/builds/ keeps (the most recently started ones).</summary>
    public const int KeptReports = 20;

    /// <summary>
    /// Writes builds/{build id}.json, then, under a lock so concurrent builds decide one at a
    /// time, replaces last-build.json with this report unless a report that finished later is
    /// already there; trims builds/ to the <see cref="KeptReports"/> most recent. Without fsync:
    /// nothing decides staleness from a report, so a power cut may lose the newest one (never tear
    /// it), and a no-op saves two disk flushes.
    /// </summary>
    public void Publish(string stateDir)
    {
        var dir = Path.Combine(stateDir, "builds");
        var bytes = ToJson();
        AtomicFile.WriteAllBytes(Path.Combine(dir, $"{BuildId}.json"), bytes, durable: false);
        using var _ = Locking.StageLock.Acquire(Path.Combine(dir, "lock"));
        var last = Path.Combine(stateDir, "last-build.json");
        // Kept only when a report that finished later is there and reads as one (the full read only then:
        // another build finished after this one, which is rare).
        var keep = false;
        try { keep = FinishedUtcOf(last) is { } finished && finished > FinishedUtc && Read(last) is not null; }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or FormatException or NotSupportedException) { }
        if (!keep) AtomicFile.WriteAllBytes(last, bytes, durable: false);
        foreach (var old in Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal).SkipLast(KeptReports))
            try { File.Delete(old); } catch (IOException) { }
    }

    /// <summary>The newest report of a real build (not Explain): last-build.json, else the newest in builds/.</summary>
    public static BuildReport? LatestBuild(string stateDir)
    {
        var candidates = new[] { Path.Combine(stateDir, "last-build.json") }.Concat(
            Directory.Exists(Path.Combine(stateDir, "builds"))
                ? Directory.EnumerateFiles(Path.Combine(stateDir, "builds"), "*.json").OrderDescending(StringComparer.Ordinal)
                : []);
        foreach (var path in candidates)
        {
            try { if (Read(path) is { Mode: "build" } r) return r; }
            catch (Exception e) when (e is JsonException or IOException) { }
        }
        return null;
    }

    public void Write(string path) => AtomicFile.WriteAllBytes(path, ToJson());

    internal byte[] ToJson() => IO.Json.SerializeReadable(this, ReportWriteJson.Default.BuildReport);

    /// <summary>
    /// Serializes a throw-away report on a pool thread: the plan calls this when a no-op certificate
    /// holds, so the first use of the writer (~15 ms of JIT) overlaps MSBuild's work on another core
    /// instead of delaying the build task's report. Never throws (an unhandled exception on a pool
    /// thread would end MSBuild).
    /// </summary>
    internal static void WarmUpWriter() => ThreadPool.UnsafeQueueUserWorkItem(static _ =>
    {
        try
        {
            _ = new BuildReport
            {
                BuildId = "warm-up", Mode = "build", Executor = "local", StartedUtc = DateTimeOffset.UnixEpoch, FinishedUtc = DateTimeOffset.UnixEpoch,
                Datasets = ["d"], Stages = [new InstanceReport { Dataset = "d", Stage = "s", Outcome = Outcome.UpToDate }], Succeeded = true, NoOpCertificate = true,
            }.ToJson();
        }
        catch (Exception) { } // only a warm-up: the real write reports its own errors
    }, null);

    /// <summary>
    /// The finished_utc of the report at <paramref name="path"/> (null: no file, or no such field),
    /// read without building the report (Publish needs only that: no deserializer to JIT-compile, no
    /// 7,800 rows to allocate). Throws on JSON that is not well formed or a time that is not one.
    /// </summary>
    internal static DateTimeOffset? FinishedUtcOf(string path)
    {
        if (!File.Exists(path)) return null;
        var reader = new Utf8JsonReader(SmallFile.ReadAllBytes(path));
        DateTimeOffset? finished = null;
        while (reader.Read())
        {
            if (reader.CurrentDepth != 1 || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("finished_utc"u8)) continue;
            reader.Read();
            finished = reader.GetDateTimeOffset();
        }
        return finished;
    }

    public static BuildReport? Read(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize(SmallFile.ReadAllBytes(path), ReportJson.Readable.BuildReport) : null;
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BuildReport))]
internal sealed partial class ReportJson : JsonSerializerContext
{
    // Lazy: the generated Default is a static of the other partial half, and static initialisers
    // across partial files run in no promised order.
    private static ReportJson? s_readable;
    public static ReportJson Readable => s_readable ??= new(IO.Json.Readable(Default.Options));
}

/// <summary>The report's writer: the generated serialization code only (<see cref="IO.Json.SerializeReadable"/>); reading takes <see cref="ReportJson"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(BuildReport))]
internal sealed partial class ReportWriteJson : JsonSerializerContext;
