using System.Text;
using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// The build report's file: written by the generated serialization code (not the metadata path
/// the reader uses), byte for byte what the readable serializer writes; and Publish's look at the
/// report already there, which reads only its finished_utc.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BuildReportTests : IDisposable
{
    private readonly TempDir _d = new();

    public void Dispose() => _d.Dispose();

    private static BuildReport Full(DateTimeOffset finished) => new()
    {
        BuildId = "20260101T000000Z-abcdef",
        Mode = "build",
        Executor = "slurm",
        StartedUtc = finished.AddSeconds(-90.5),
        FinishedUtc = finished,
        Datasets = ["hcrl_sa", "set_01"],
        Succeeded = false,
        NoOpCertificate = true,
        Stages =
        [
            new InstanceReport
            {
                Dataset = "hcrl_sa", Stage = "gat_large_curriculum", Variant = "seed=1,lr=0.003", Outcome = Outcome.Failed,
                Reasons = ["input 'data/<raw> & \"more\"' changed", "ümlaut \u00e9 \t tab \u0001 control \u2028 separator"],
                ReasonKinds = ["input", "params"], JobId = "1234", Log = "experimentruns/hcrl_sa/x.log",
                Seconds = 12.345, ExitCode = 137, Attempts = 2, Error = "KDG3002: it's 'gone'",
            },
            new InstanceReport { Dataset = "set_01", Stage = "preprocess", Outcome = Outcome.UpToDate },
        ],
    };

    [Fact]
    public void ToJson_IsByteForByteWhatTheReadableSerializerWrites()
    {
        var report = Full(new DateTimeOffset(2026, 1, 1, 0, 30, 0, TimeSpan.FromHours(1)));

        var readable = JsonSerializer.SerializeToUtf8Bytes(report, ReportJson.Readable.BuildReport);

        Assert.Equal(Encoding.UTF8.GetString(readable), Encoding.UTF8.GetString(report.ToJson()));
        Assert.Contains("'data/<raw> & \\\"more\\\"'", Encoding.UTF8.GetString(report.ToJson())); // readable: no \u0027, \u003C, \u0026
        Assert.Equal(report.ToJson(), BuildReport.Read(Write(report))!.ToJson()); // and the reader reads all of it back
    }

    [Fact]
    public void FinishedUtcOf_ReadsTheTopLevelField_NotOneInARow()
    {
        var finished = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 890, TimeSpan.Zero).AddTicks(1234);
        Assert.Equal(finished, BuildReport.FinishedUtcOf(Write(Full(finished))));

        Assert.Null(BuildReport.FinishedUtcOf(_d["missing.json"]));
        Assert.Null(BuildReport.FinishedUtcOf(_d.Write("row-only.json", """{"stages":[{"finished_utc":"2030-01-01T00:00:00+00:00"}]}""")));
        Assert.ThrowsAny<JsonException>(() => BuildReport.FinishedUtcOf(_d.Write("torn.json", """{"finished_utc":"2026-01-01T00:00:00+00:00","stages":[""")));
        Assert.Throws<FormatException>(() => BuildReport.FinishedUtcOf(_d.Write("bad-time.json", """{"finished_utc":"yesterday"}""")));
        Assert.Throws<InvalidOperationException>(() => BuildReport.FinishedUtcOf(_d.Write("number.json", """{"finished_utc":17}""")));
    }

    [Theory]
    [InlineData("""{"finished_utc":"2099-01-01T00:00:00+00:00","stages":[""", "torn")]
    [InlineData("""{"finished_utc":"tomorrow"}""", "not a time")]
    [InlineData("""[1,2,3]""", "not a report")]
    [InlineData("""{"finished_utc":"2099-01-01T00:00:00+00:00"}""", "a later time, but no report (required fields missing)")]
    [InlineData("""{"build_id":"x","mode":"build","executor":"local","datasets":[],"finished_utc":"2099-01-01T00:00:00+00:00","stages":[{"dataset":5}]}""", "a later time, a row that does not read")]
    public void Publish_ReplacesALastBuildThatCannotBeRead(string broken, string why)
    {
        var state = _d[".kdgat"];
        _d.Write(".kdgat/last-build.json", broken);

        Full(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).Publish(state);

        Assert.True(BuildReport.Read(_d[".kdgat/last-build.json"]) is { BuildId: "20260101T000000Z-abcdef" }, why);
    }

    private string Write(BuildReport report)
    {
        var path = _d[$"{Guid.NewGuid():N}.json"];
        report.Write(path);
        return path;
    }
}
