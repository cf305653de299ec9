using KdGat.Core.Execution;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution;

/// <summary>
/// KDG3018's judge: an output written after its batch job's done-marker is not the job's. Real
/// files, real times: the test waits out the 2 s allowance once.
/// </summary>
[Trait("Category", "Unit")]
public sealed class OutputWrittenAfterTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    [Fact]
    public void AContentEdit_IsSeen_AChmodOrAHardLinkIsNot_NorAnOutputThatAppearedLate()
    {
        var s = _p.Instances(KdGatGraph.Stages).Single(i => i.Name == "eval_large_evaluation");
        foreach (var o in s.Outputs) { Directory.CreateDirectory(Path.GetDirectoryName(o)!); File.WriteAllText(o, "the job's\n"); }
        var marker = Path.Combine(s.RunDir, "logs", "1.done");
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        File.WriteAllText(marker, "0\n");
        Assert.Null(OutputWrittenAfter.Marker(s, marker, []));

        Thread.Sleep(TimeSpan.FromMilliseconds(OutputWrittenAfter.SlackNs / 1_000_000 + 300));
        var output = s.Outputs[0];
        // Metadata only (a backup that hard-links the tree, a site's chmod): ctime moves, mtime does not.
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, Sh.Run($"ln '{output}' '{output}.bak'", s.RunDir).ExitCode);
        Assert.Null(OutputWrittenAfter.Marker(s, marker, []));

        File.AppendAllText(output, "edited by hand\n");
        Assert.EndsWith(Path.GetFileName(output), OutputWrittenAfter.Marker(s, marker, []));
        Assert.Null(OutputWrittenAfter.Marker(s, marker, [output])); // one the latency wait saw appear
    }
}
