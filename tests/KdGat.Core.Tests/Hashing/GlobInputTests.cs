using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>Globs in inputs: hashed as the sorted set of matching files; matching nothing is "missing".</summary>
[Trait("Category", "Unit")]
public sealed class GlobInputTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string? InputHash(string pattern) => new PathHasher(new HashCache()).HashInput(_dir[pattern])?.Hash;

    [Fact]
    public void GlobInput_ChangesWithAMatchingFile_NotWithOthers()
    {
        _dir.Write("extra/a.csv", "a");
        _dir.Write("extra/b.csv", "b");
        _dir.Write("extra/notes.txt", "n");
        var before = InputHash("extra/*.csv");
        Assert.NotNull(before);

        File.WriteAllText(_dir["extra/notes.txt"], "other notes");
        Assert.Equal(before, InputHash("extra/*.csv"));

        File.WriteAllText(_dir["extra/b.csv"], "b2");
        Assert.NotEqual(before, InputHash("extra/*.csv"));
    }

    [Fact]
    public void GlobInput_ANewMatchingFile_ChangesTheHash()
    {
        _dir.Write("extra/a.csv", "a");
        var before = InputHash("extra/**/*.csv");

        _dir.Write("extra/sub/c.csv", "c");

        Assert.NotEqual(before, InputHash("extra/**/*.csv"));
    }

    [Fact]
    public void GlobInput_DoesNotDependOnWhereThePipelineIs()
    {
        _dir.Write("one/extra/a.csv", "a");
        _dir.Write("two/extra/a.csv", "a");

        Assert.NotNull(InputHash("one/extra/*.csv"));
        Assert.Equal(InputHash("one/extra/*.csv"), InputHash("two/extra/*.csv"));
    }

    [Fact]
    public void Fingerprint_OfAStageWithAGlobInput_CoversTheMatches_AndNoMatchIsKdg3006()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { raw: 'raw/{dataset}' }
            stages:
              train:
                command: 'true'
                inputs: ['extra/*.csv']
                outputs: [out.txt]
            """, "d1");
        var s = Assert.Single(p.Instances([new StageDeclaration("train", [])]));
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var e = Assert.Throws<KdgException>(() => fp.Compute(s, new Dictionary<string, string>()));
        Assert.Equal(ErrorCodes.InputMissing, e.Code);
        Assert.Contains("matches no file", e.Message);

        p.Dir.Write("extra/a.csv", "a");
        var first = (fp.Compute(s, new Dictionary<string, string>())).Digest();
        p.Dir.Write("extra/a.csv", "a2");

        Assert.NotEqual(first, (fp.Compute(s, new Dictionary<string, string>())).Digest());
    }
}
