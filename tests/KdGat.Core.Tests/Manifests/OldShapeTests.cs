using KdGat.Core.Caching;
using KdGat.Core.Engine;
using KdGat.Core.Manifests;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Core.Tests.Manifests;

/// <summary>
/// Files written by the version before the shared record shapes (<see cref="ResultKey"/>,
/// <see cref="AttemptFacts"/>, <see cref="InstanceEnd"/>) still load: the fixtures are verbatim
/// the JSON that version wrote (field order included; only the names matter to the reader).
/// </summary>
[Trait("Category", "Unit")]
public sealed class OldShapeTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private const string OldBuildReport = """
        {
          "build_id": "20261202T141454Z-23c947",
          "mode": "build",
          "executor": "local",
          "started_utc": "2026-12-02T14:14:54.1340318+00:00",
          "finished_utc": "2026-12-02T14:14:54.2719177+00:00",
          "datasets": [
            "ds0000"
          ],
          "stages": [
            {
              "dataset": "ds0000",
              "stage": "preprocess",
              "outcome": "ran",
              "reasons": [
                "never run (no manifest)"
              ],
              "reason_kinds": [
                "never-run"
              ],
              "log": "experimentruns/ds0000/preprocess/logs/20261202T141454-20261202T141454Z-23c947-ds0000-preprocess-1.err",
              "seconds": 0.014,
              "exit_code": 0,
              "job_id": "pid:14448",
              "attempts": 1
            },
            {
              "dataset": "ds0000",
              "stage": "gat",
              "variant": "seed=1,lr=0.003",
              "outcome": "failed",
              "reasons": [],
              "reason_kinds": [],
              "attempts": 2,
              "error": "ds0000/gat exited 1"
            }
          ],
          "succeeded": false,
          "counts": {
            "failed": 1,
            "ran": 1
          }
        }
        """;

    private const string OldStoreEntry = """
        {
          "schema": 1,
          "fingerprint": "b18b7a2bb5728bb72534f91037206c0f",
          "stage": "eval_small_evaluation",
          "dataset": "ds0003",
          "outputs": [
            {
              "path": "experimentruns/ds0003/eval_small_evaluation/metrics.json",
              "hash": "1aff5224d99c759db7fe9deade465941",
              "size": 25,
              "directory": false
            }
          ],
          "outputs_digest": "88c6ba20935a5c8cb7a7b8bff309a9a0",
          "created_utc": "2026-12-02T14:14:07.7139969+00:00",
          "bytes": 25
        }
        """;

    private const string OldManifest = """
        {
          "components": {
            "command": "mkdir -p '<root>/data/cache/ds0000' && cat '<root>/data/automotive/ds0000'/frames.csv '<root>/experimentruns/ds0000/preprocess/params.json' > '<root>/data/cache/ds0000'/graphs.bin",
            "params": {
              "stride": "25",
              "window": "50"
            },
            "inputs": {
              "data/automotive/ds0000": "862d5c7372de6c36fb05893277610f90"
            },
            "code": {},
            "upstream": {},
            "env": {}
          },
          "outputs": [
            {
              "path": "data/cache/ds0000",
              "hash": "0a09e4a489948c51ca6d93a60967a136",
              "size": 51,
              "directory": true
            }
          ],
          "outputs_digest": "a1c11c203437b0280b6a36afb718b44c",
          "schema": 1,
          "dataset": "ds0000",
          "stage": "preprocess",
          "fingerprint": "e0343943bb5c5f4f359d4452dfdec1e7",
          "build_id": "20261202T141454Z-23c947",
          "executor": "local",
          "job_id": "pid:14448",
          "attempt": 1,
          "started_utc": "2026-12-02T14:14:54.2028269+00:00",
          "finished_utc": "2026-12-02T14:14:54.2166314+00:00",
          "wall_seconds": 0.014,
          "cpu_seconds": 0.004,
          "peak_rss_kb": 103964,
          "exit_code": 0,
          "host": "vm"
        }
        """;

    private const string OldRunRecord = """
        {
          "record_id": "20261202T141454Z-23c947-ds0000-vgae_small_autoencoder-1",
          "params": {
            "lr": "0.01",
            "seed": "7"
          },
          "state": "failed",
          "exec_state": "Completed",
          "mem_request_mb": 4096,
          "why": [
            "never run (no manifest)"
          ],
          "output_hashes": {},
          "log": "experimentruns/ds0000/vgae_small_autoencoder/logs/x-1.err",
          "detail": "ds0000/vgae_small_autoencoder exited 0 but did not write declared output(s)",
          "schema": 1,
          "dataset": "ds0000",
          "stage": "vgae_small_autoencoder",
          "fingerprint": "97d3e0ca538c010a77178add40529d38",
          "build_id": "20261202T141454Z-23c947",
          "executor": "local",
          "job_id": "pid:14453",
          "attempt": 1,
          "started_utc": "2026-12-02T14:14:54.2555198+00:00",
          "finished_utc": "2026-12-02T14:14:54.2590615+00:00",
          "wall_seconds": 0.004,
          "cpu_seconds": 0.002,
          "peak_rss_kb": 106236,
          "exit_code": 0,
          "host": "vm"
        }
        """;

    [Fact]
    public void BuildReport_OfThePreviousVersion_Loads_AsLatestBuild()
    {
        _tmp.Write("state/builds/20261202T141454Z-23c947.json", OldBuildReport);

        var r = BuildReport.LatestBuild(_tmp["state"]);

        Assert.NotNull(r);
        Assert.Equal("20261202T141454Z-23c947", r!.BuildId);
        Assert.False(r.Succeeded);
        var ran = r.Stages[0];
        Assert.Equal(("ds0000", "preprocess", null, "ran"), (ran.Dataset, ran.Stage, ran.Variant, ran.Outcome));
        Assert.Equal(["never run (no manifest)"], ran.Reasons);
        Assert.Equal(["never-run"], ran.ReasonKinds);
        Assert.Equal((0.014, 0, "pid:14448", 1), (ran.Seconds, ran.ExitCode, ran.JobId, ran.Attempts));
        Assert.EndsWith("preprocess-1.err", ran.Log);
        var failed = r.Stages[1];
        Assert.Equal(("seed=1,lr=0.003", "failed", 2, "ds0000/gat exited 1"), (failed.Variant, failed.Outcome, failed.Attempts, failed.Error));
        Assert.Equal(1, r.Counts["failed"]);
    }

    [Fact]
    public void StoreEntry_OfThePreviousVersion_IsFound_AndVerifiesItsPayload()
    {
        const string fp = "b18b7a2bb5728bb72534f91037206c0f";
        var store = new OutputStore(_tmp["store"]);
        _tmp.Write($"store/entries/b1/{fp}/entry.json", OldStoreEntry);

        var e = store.Find(fp);

        Assert.NotNull(e);
        Assert.Equal(("eval_small_evaluation", "ds0003", 1, 25L), (e!.Stage, e.Dataset, e.Schema, e.Bytes));
        Assert.Equal("88c6ba20935a5c8cb7a7b8bff309a9a0", e.OutputsDigest);
        Assert.Equal(new OutputRecord("experimentruns/ds0003/eval_small_evaluation/metrics.json", "1aff5224d99c759db7fe9deade465941", 25, false), e.Outputs.Single());
        Assert.Equal(DateTimeOffset.Parse("2026-12-02T14:14:07.7139969+00:00", System.Globalization.CultureInfo.InvariantCulture), e.CreatedUtc);
        Assert.False(OutputStore.Verify(e)); // no payload was written beside it: the check reads bytes, not the record
        Assert.Single(store.All());
        Assert.Null(e.Declared); // it did not record the declared outputs, so it is never restored (a miss)
        Assert.False(e.DeclaresSame([new DeclaredOutput("experimentruns/ds0003/eval_small_evaluation/metrics.json", false)]));
    }

    /// <summary>An explicit null where a table or list belongs passed the reader and was a NullReferenceException later (KDG9001; review): corrupt instead.</summary>
    [Theory]
    [InlineData("\"upstream\": {}", "\"upstream\": null")]
    [InlineData("\"params\": {\n      \"stride\": \"25\",\n      \"window\": \"50\"\n    }", "\"params\": null")]
    [InlineData("\"hash\": \"0a09e4a489948c51ca6d93a60967a136\"", "\"hash\": null")]
    public void Manifest_WithANullTableOrEntry_IsCorrupt(string field, string nulled)
    {
        var text = OldManifest.Replace("\r", "").Replace(field, nulled, StringComparison.Ordinal);
        Assert.NotEqual(OldManifest.Replace("\r", ""), text);

        Assert.Equal(ManifestStore.ReadStatus.Corrupt, ManifestStore.Parse(System.Text.Encoding.UTF8.GetBytes(text)).Status);
    }

    [Fact]
    public void Manifest_OfThePreviousVersion_ReadsOk()
    {
        var (status, m, problem) = ManifestStore.Read(_tmp.Write("run/kdgat.manifest.json", OldManifest));

        Assert.True(status == ManifestStore.ReadStatus.Ok, problem);
        Assert.Equal(("ds0000", "preprocess", "e0343943bb5c5f4f359d4452dfdec1e7"), (m!.Dataset, m.Stage, m.Fingerprint));
        Assert.Equal(("20261202T141454Z-23c947", "local", "pid:14448", 1, "vm"), (m.BuildId, m.Executor, m.JobId, m.Attempt, m.Host));
        Assert.Equal((0.014, 0.004, 103964L, 0), (m.WallSeconds, m.CpuSeconds, m.PeakRssKb, m.ExitCode));
        Assert.Equal("a1c11c203437b0280b6a36afb718b44c", m.OutputsDigest);
        Assert.Equal("25", m.Components.Params["stride"]);
    }

    [Fact]
    public void RunRecord_OfThePreviousVersion_Parses()
    {
        var r = RecordStore.Parse(OldRunRecord);

        Assert.NotNull(r);
        Assert.Equal(("ds0000", "vgae_small_autoencoder", "97d3e0ca538c010a77178add40529d38", 1), (r!.Dataset, r.Stage, r.Fingerprint, r.Schema));
        Assert.Equal(("failed", "pid:14453", 4096L, "vm"), (r.State, r.JobId, r.MemRequestMb!.Value, r.Host));
        Assert.Equal("7", r.Params["seed"]);
    }
}
