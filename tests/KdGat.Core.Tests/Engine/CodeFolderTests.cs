using KdGat.Core.Engine;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>A code folder named whole, with or without its trailing '/', is the stage's code; its __pycache__ is not.</summary>
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
}
