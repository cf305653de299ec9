using System.Text.Json;
using KdGat.Core.Manifests;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.Tracking;

[Trait("Category", "Unit")]
public sealed class ManifestArchiveTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>A manifest of <paramref name="build"/>, with enough outputs that parsing it takes a while (the window a second read left open).</summary>
    private static byte[] Manifest(string build)
    {
        var outputs = Enumerable.Range(0, 2000).Select(i => new OutputRecord($"runs/d1/train/out{i}.bin", $"{i:x32}", i, false)).ToArray();
        return JsonSerializer.SerializeToUtf8Bytes(new StageManifest
        {
            Stage = "train", Dataset = "d1", Fingerprint = "fp-" + build, BuildId = build, Executor = "local",
            Components = new FingerprintComponents { Command = "c", Params = new(), Inputs = new(), Code = new(), Upstream = new(), Env = new() },
            Outputs = outputs, OutputsDigest = Fingerprinter.OutputsDigest(outputs, null),
        }, ManifestJson.Readable.StageManifest);
    }

    /// <summary>
    /// Capture parsed the live manifest, then read its bytes again to archive them: a commit landing in
    /// between archived the new build's manifest under the old build's name (found by reading). Builds
    /// commit while Status or the index step captures; here a writer swaps the manifest as fast as it can.
    /// </summary>
    [Fact]
    public async Task ACommitDuringACapture_NeverFilesOneBuildsManifestUnderAnothersName()
    {
        var live = _dir.Write("runs/d1/train/" + KdGat.Core.Pipeline.StageInstance.ManifestFileName, "");
        var (a, b) = (Manifest("build-a"), Manifest("build-b"));
        File.WriteAllBytes(live, a);
        var archive = new ManifestArchive(_dir["state"]);
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (var k = 0; !stop.IsCancellationRequested; k++)
            {
                File.WriteAllBytes(live + ".tmp", k % 2 == 0 ? b : a);
                File.Move(live + ".tmp", live, overwrite: true); // a commit: temp + rename
            }
        });
        var wrong = new List<string>();
        try
        {
            for (var i = 0; i < 200 && wrong.Count == 0; i++)
            {
                if (!archive.Capture("d1", "train", live)) continue;
                foreach (var file in Directory.GetFiles(archive.DirFor("d1", "train")))
                {
                    var (status, m, _) = ManifestStore.Read(file);
                    if (status != ManifestStore.ReadStatus.Ok || m!.BuildId + ".json" != Path.GetFileName(file))
                        wrong.Add($"{Path.GetFileName(file)} holds the manifest of {m?.BuildId ?? status.ToString()} (capture {i})");
                    File.Delete(file); // so that the next capture archives again
                }
            }
        }
        finally
        {
            stop.Cancel();
            await writer;
        }
        Assert.Empty(wrong);
    }
}
