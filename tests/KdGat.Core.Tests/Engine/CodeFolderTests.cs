using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>A code or input folder named whole, with or without its trailing '/', is the stage's code or input; its __pycache__ is not.</summary>
[Trait("Category", "Unit")]
public sealed class CodeFolderTests
{
    private static string Yaml(string code) => $$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        cache_store: off
        defaults: { retries: 0 }
        stages:
          a: { command: 'echo a > out.txt', code: ['{{code}}'], outputs: [out.txt] }
          b: { command: 'cat {upstream.a}/out.txt > out.txt', outputs: [out.txt] }
        """;

    /// <summary>"mylib/" walked itself as the folder above it: a false symlink cycle error in every build (found with the __pycache__ fix).</summary>
    [Theory]
    [InlineData("mylib")]
    [InlineData("mylib/")]
    public async Task ACodeFolder_EditedReruns_ItsPycacheRewrittenDoesNot(string code)
    {
        using var d = NewRoot(Yaml(code));
        Directory.CreateDirectory(d["mylib/__pycache__"]);
        File.WriteAllText(d["mylib/util.py"], "x = 1\n");
        File.WriteAllText(d["mylib/__pycache__/util.cpython-311.pyc"], "1");
        var first = await BuildAsync(d);
        Assert.True(first.Succeeded, string.Join("\n", first.Stages.Select(s => s.Error)));
        Assert.Equal(["a", "b"], With(first, Outcome.Ran));

        File.WriteAllText(d["mylib/__pycache__/util.cpython-311.pyc"], "2"); // python rewrote it after a touch
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran));

        File.WriteAllText(d["mylib/util.py"], "x = 2\n");
        Assert.Equal(["a"], With(await BuildAsync(d), Outcome.Ran));
    }

    /// <summary>
    /// A module folder under inputs: the stage's own import wrote its __pycache__ as it ran (Python's default):
    /// KDG3020, recorded stale, and run again at every build (rvnewuser). Here the command plays the import.
    /// </summary>
    [Theory]
    [InlineData("mylib")]
    [InlineData("mylib/")]
    public async Task AnInputFolder_ThePycacheItsStageWrites_IsNoChange_AnEditIs(string input)
    {
        using var d = NewRoot($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            cache_store: off
            defaults: { retries: 0 }
            stages:
              a: { command: 'mkdir -p {root}/mylib/__pycache__ && date +%N > {root}/mylib/__pycache__/util.cpython-311.pyc && cat {root}/mylib/util.py > out.txt', inputs: ['{{input}}'], outputs: [out.txt] }
              b: { command: 'cat {upstream.a}/out.txt > out.txt', outputs: [out.txt] }
            """);
        d.Write("mylib/util.py", "x = 1\n");
        var log = new RecordingLog();

        Assert.Equal(["a", "b"], With(await BuildAsync(d, log: log), Outcome.Ran));
        Assert.DoesNotContain(log.Items, x => x.Code == ErrorCodes.InputChangedDuringRun);
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran));

        File.WriteAllText(d["mylib/util.py"], "x = 2\n");
        Assert.Equal(["a", "b"], With(await BuildAsync(d, log: log), Outcome.Ran));
        Assert.DoesNotContain(log.Items, x => x.Code == ErrorCodes.InputChangedDuringRun);
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran));
    }
}
