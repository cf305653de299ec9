using System.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;
using Xunit.Abstractions;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// Real SIGKILLs of a build process (this test assembly run as a child, see Program.cs): at chosen
/// file operations of the attempt protocol, and a storm of kills at random moments.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class KillTests(ITestOutputHelper output) : IDisposable
{
    private readonly List<TempDir> _dirs = [];
    public void Dispose() { foreach (var d in _dirs) d.Dispose(); }

    private static string Self => typeof(Program).Assembly.Location;

    private static Process StartChild(TempDir root, int? killAt = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Self, "build", root.Path }.Concat(killAt is { } n ? [n.ToString()] : [])) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public async Task BuildKilledAtProtocolSteps_NextBuildKeepsWhatHadNotCommitted()
    {
        var v1 = NewRoot(Yaml("1", cache: false));
        _dirs.Add(v1);
        Assert.True((await BuildAsync(v1)).Succeeded);
        var r1 = Snapshot(v1);
        var ops = await OperationsAsync(v1, Yaml("2", cache: false));
        var commitA = CommitOperation(ops, "a");
        // Moving the previous result aside, the stage started, its manifest written, its record written (committed).
        var points = new[]
        {
            ops.FindIndex(o => o.Contains(" rename ", StringComparison.Ordinal) && o.EndsWith("/runs/d1/a/model.ckpt", StringComparison.Ordinal)) + 1,
            ops.Select((o, i) => (o, i)).Where(x => x.o.Contains("/runs/d1/.kdgat/a/.attempt.json.", StringComparison.Ordinal)).ElementAt(2).i + 1,
            ops.FindLastIndex(o => o.Contains(" rename ", StringComparison.Ordinal) && o.EndsWith("/runs/d1/a/kdgat.manifest.json", StringComparison.Ordinal)) + 1,
            commitA + 1,
        };
        Assert.All(points, n => Assert.True(n > 0, string.Join("\n", ops)));
        foreach (var n in points)
        {
            using var d = Copy(v1);
            SetConfig(d, Yaml("2", cache: false));
            using (var child = StartChild(d, n))
            {
                Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)));
                Assert.Equal(128 + 9, child.ExitCode); // killed by SIGKILL
            }
            SetConfig(d, Yaml("1", cache: false));
            var r = await BuildAsync(d);
            var why = $"killed at {ops[n - 1]}: {string.Join("; ", r.Stages.Select(s => $"{s.Stage} {s.Outcome}"))}";
            Assert.True(r.Succeeded, why);
            Assert.True(r1.SequenceEqual(Snapshot(d)), why);
            if (n <= commitA) Assert.True(With(r, Outcome.UpToDate).SequenceEqual(["a", "b"]), why);
            Assert.Empty(Directory.EnumerateFiles(d["runs"], "*.tmp", SearchOption.AllDirectories));
        }
    }

    [Fact]
    public async Task KillStorm_ThirtyRandomKills_EndsByteIdenticalToAFromScratchBuild()
    {
        // Kills until 30 have hit a running build: how many delays land inside a build depends on the
        // machine's speed and load, so the count of kills, not of trials, is fixed (trials are bounded).
        const int kills = 30, maxTrials = 150;
        var reference = NewRoot(Yaml("2", cache: false));
        _dirs.Add(reference);
        Assert.True((await BuildAsync(reference)).Succeeded);
        var d = NewRoot(Yaml("1", cache: false));
        _dirs.Add(d);
        var rng = new Random(17);
        var sw = Stopwatch.StartNew();
        var killedMidBuild = 0;
        var trials = 0;
        for (; trials < maxTrials && killedMidBuild < kills; trials++)
        {
            // Alternate the parameter so that every build has work; slow stages widen the windows.
            SetConfig(d, Yaml(trials % 2 == 0 ? "2" : "1", cache: false, aPrefix: "sleep 0.3; "));
            using var child = StartChild(d);
            var delay = rng.Next(100, 1200);
            if (!child.WaitForExit(delay))
            {
                child.Kill(); // SIGKILL, the stage processes live on in their own process groups
                killedMidBuild++;
            }
            child.WaitForExit();
        }
        SetConfig(d, Yaml("2", cache: false));
        var r = await BuildAsync(d);
        sw.Stop();

        Assert.True(r.Succeeded);
        Assert.Equal(Snapshot(reference), Snapshot(d));
        output.WriteLine($"{trials} trials, {killedMidBuild} killed mid-build, {sw.Elapsed.TotalSeconds:0.0} s");
        Assert.True(killedMidBuild >= kills, $"only {killedMidBuild} of {trials} kills hit a running build");
    }
}
